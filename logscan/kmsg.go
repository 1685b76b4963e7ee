package logscan

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"time"
)

// kmsgRecord is one record of /dev/kmsg.
type kmsgRecord struct {
	prio  int
	seq   uint64
	usec  uint64 // since boot
	text  []byte
	level string
}

// parseKmsg reads a /dev/kmsg record: "pri,seq,usec,flags[,...];text"
// followed by optional "\n KEY=value" lines. The facility is masked off
// the priority.
func parseKmsg(b []byte) (kmsgRecord, bool) {
	var r kmsgRecord
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		return r, false
	}
	f := bytes.Split(b[:semi], []byte{','})
	if len(f) < 4 {
		return r, false
	}
	pri, err1 := strconv.Atoi(string(f[0]))
	seq, err2 := strconv.ParseUint(string(f[1]), 10, 64)
	us, err3 := strconv.ParseUint(string(f[2]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || pri < 0 {
		return r, false
	}
	r.prio, r.seq, r.usec = pri&7, seq, us
	text := b[semi+1:]
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	r.text = unescapeKmsg(text)
	r.level = normLevel([]byte{byte('0' + r.prio)})
	return r, true
}

// unescapeKmsg undoes the kernel's \xNN escapes of non-printable bytes.
func unescapeKmsg(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' && isHex(b[i+2]) && isHex(b[i+3]) {
			v, _ := strconv.ParseUint(string(b[i+2:i+4]), 16, 8)
			out = append(out, byte(v))
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// parseDmesgLine reads a line of plain `dmesg`: "[   12.345678] text".
func parseDmesgLine(b []byte) (usec uint64, text []byte, ok bool) {
	if len(b) < 3 || b[0] != '[' {
		return 0, nil, false
	}
	end := bytes.IndexByte(b, ']')
	if end < 0 {
		return 0, nil, false
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(b[1:end])), 64)
	if err != nil || f < 0 {
		return 0, nil, false
	}
	return uint64(f * 1e6), bytes.TrimPrefix(b[end+1:], []byte(" ")), true
}

// feedKernel hands the records in the window to the agg. boot is the wall
// time the kernel's clock started from.
func feedKernel(a *agg, recs []kmsgRecord, c config, boot time.Time) int {
	var in []kmsgRecord
	for _, r := range recs {
		t := boot.Add(time.Duration(r.usec) * time.Microsecond)
		if !c.w.since.IsZero() && t.Before(c.w.since) {
			continue
		}
		in = append(in, r)
	}
	if c.w.lines > 0 && len(in) > c.w.lines {
		in = in[len(in)-c.w.lines:]
	}
	for _, r := range in {
		meta := lineMeta{time: boot.Add(time.Duration(r.usec) * time.Microsecond), level: r.level}
		a.feed(r.text, meta, false)
	}
	return len(in)
}

// readDmesg runs dmesg under ctx, for when /dev/kmsg cannot be opened.
func readDmesg(ctx context.Context) ([]kmsgRecord, error) {
	cmd := exec.CommandContext(ctx, "dmesg")
	cmd.WaitDelay = 200 * time.Millisecond
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var recs []kmsgRecord
	for _, l := range bytes.Split(out, []byte{'\n'}) {
		if us, text, ok := parseDmesgLine(l); ok {
			recs = append(recs, kmsgRecord{usec: us, text: text})
		}
	}
	return recs, nil
}
