package logscan

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// kmsgFixture reads testdata/kmsg.txt: one record a line, with the
// kernel's continuation lines (" KEY=value") kept with their record.
func kmsgFixture(t *testing.T) []kmsgRecord {
	t.Helper()
	b, err := os.ReadFile("testdata/kmsg.txt")
	require.NoError(t, err)
	var recs []kmsgRecord
	var cur []byte
	flush := func() {
		if cur != nil {
			r, ok := parseKmsg(cur)
			require.True(t, ok, "%q", cur)
			recs = append(recs, r)
		}
	}
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte{'\n'}) {
		if len(l) > 0 && l[0] == ' ' {
			cur = append(append(cur, '\n'), l...)
			continue
		}
		flush()
		cur = append([]byte(nil), l...)
	}
	flush()
	return recs
}

func TestParseKmsg(t *testing.T) {
	recs := kmsgFixture(t)
	require.Len(t, recs, 11)
	assert.Equal(t, 3, recs[3].prio)
	assert.Equal(t, "error", recs[3].level)
	assert.Equal(t, uint64(501), recs[3].seq)
	assert.Equal(t, uint64(5000000100), recs[3].usec)
	assert.Equal(t, "EXT4-fs error (device vdb1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0", string(recs[9].text))
	assert.Equal(t, "printk with \x1b escape and tab\there", string(recs[10].text))

	for _, bad := range []string{"", "no semicolon", "a,b,c,d;x", "6,1;x", "-1,1,1,-;x"} {
		_, ok := parseKmsg([]byte(bad))
		assert.False(t, ok, bad)
	}
	pri, _ := parseKmsg([]byte("30,1,1,-;facility daemon, priority err"))
	assert.Equal(t, 6, pri.prio, "the facility is masked off")
}

func TestParseDmesgLine(t *testing.T) {
	us, text, ok := parseDmesgLine([]byte("[ 5000.000100] Out of memory: Killed process 1 (x)"))
	require.True(t, ok)
	assert.Equal(t, uint64(5000000100), us)
	assert.Equal(t, "Out of memory: Killed process 1 (x)", string(text))
	_, _, ok = parseDmesgLine([]byte("no stamp"))
	assert.False(t, ok)
}

func TestKernelSignals(t *testing.T) {
	recs := kmsgFixture(t)
	boot := testNow.Add(-5600 * time.Second)
	run := func(c config) Result {
		a := newAgg(newMatcher(nil, ""), nil, "", testNow, time.UTC)
		a.setSource("kernel", true)
		n := feedKernel(a, recs, c, boot)
		a.flush()
		r := Result{Sources: []Source{{Name: "kernel", Lines: n}}}
		r.fill(a, Options{}, c)
		r.Finish(nil)
		return r
	}
	r := run(config{})
	assert.Equal(t, 11, r.Lines)
	assert.Equal(t, 0, r.ErrorLines, "kernel lines count through their signals only")
	oom := signal(t, r, CodeKernelOOMKill, "java")
	assert.Equal(t, 1, oom.Count)
	assert.Equal(t, 4321, oom.PID)
	assert.Equal(t, boot.Add(5000000100*time.Microsecond), oom.Last)
	assert.Equal(t, 1, signal(t, r, CodeKernelSYNFlood, "8080").Count)
	assert.Equal(t, 2, signal(t, r, CodeKernelConntrackFull, "nf_conntrack").Count)
	assert.Equal(t, 1, signal(t, r, CodeKernelIOError, "vdb").Count)
	assert.Equal(t, 2, signal(t, r, CodeKernelIOError, "vdb1").Count)
	assert.NotContains(t, codes(r), CodeOutOfMemory, "the OOM killer is a kernel signal")
	f := findingOf(t, r, CodeKernelOOMKill)
	pid, _ := f.Evidence.Int(triage.KeyPID)
	assert.EqualValues(t, 4321, pid)
	assert.Equal(t, "java", f.Evidence.String(triage.KeyProcess))
	assert.Equal(t, "dmesg -T | grep -F 'Killed process'", f.Command)

	// The last 10 minutes hold the records after 5000 s of uptime.
	w := run(config{w: window{since: testNow.Add(-10 * time.Minute)}})
	assert.Equal(t, 9, w.Lines)
	assert.Equal(t, 3, run(config{w: window{lines: 3}}).Lines)
}
