package logscan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// journalEntry holds the fields of `journalctl -o json` that matter here.
type journalEntry struct {
	Message  json.RawMessage `json:"MESSAGE"`
	Realtime string          `json:"__REALTIME_TIMESTAMP"`
	Priority string          `json:"PRIORITY"`
}

// parseJournalEntry reads one line of `journalctl -o json`. MESSAGE is a
// string, or an array of bytes when it is not valid UTF-8.
func parseJournalEntry(b []byte) (msg []byte, meta lineMeta, ok bool) {
	var e journalEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, meta, false
	}
	switch {
	case len(e.Message) == 0 || string(e.Message) == "null":
	case e.Message[0] == '"':
		var s string
		if json.Unmarshal(e.Message, &s) != nil {
			return nil, meta, false
		}
		msg = []byte(s)
	case e.Message[0] == '[':
		var raw []int
		if json.Unmarshal(e.Message, &raw) != nil {
			return nil, meta, false
		}
		msg = make([]byte, len(raw))
		for i, c := range raw {
			msg[i] = byte(c)
		}
	default:
		return nil, meta, false
	}
	if us, err := strconv.ParseInt(e.Realtime, 10, 64); err == nil && us > 0 {
		meta.time = time.UnixMicro(us)
	}
	if e.Priority != "" {
		meta.level = normLevel([]byte(e.Priority))
	}
	return msg, meta, true
}

// journalArgs builds journalctl's command line: the journal files held
// in jf, or else the directory of the options, or else this host's.
func journalArgs(c config, jf *journalFiles, unit string) []string {
	args := []string{"-o", "json", "--no-pager", "-q"}
	switch {
	case jf != nil:
		args = append(args, jf.args()...)
	case c.jdir != "":
		args = append(args, "--directory="+c.jdir)
	}
	if unit != "" {
		args = append(args, "-u", unit)
	}
	if c.w.lines > 0 {
		args = append(args, "-n", strconv.Itoa(c.w.lines))
	}
	if !c.w.since.IsZero() {
		args = append(args, "--since=@"+strconv.FormatInt(c.w.since.Unix(), 10))
	}
	return args
}

// errStopReading ends a journalctl whose output is no longer wanted.
var errStopReading = errors.New("logscan: enough read")

// readJournal runs journalctl for one unit ("" for all) under ctx and
// feeds its entries to the agg. With jf, journalctl reads those files
// only; where one of them is a journal file journalctl cannot open (a
// newer format, damage the header does not show), which fails the whole
// run where --directory would pass over it, the files it cannot open
// alone are put aside and the run is made once more.
func readJournal(ctx context.Context, a *agg, c config, jf *journalFiles, unit string) Source {
	src, openFailed := readJournalOnce(ctx, a, c, jf, unit)
	if openFailed && jf != nil && len(jf.files) > 1 && ctx.Err() == nil {
		if path, err := exec.LookPath(c.jctl); err == nil && jf.prune(ctx, path) > 0 && len(jf.files) > 0 {
			src, _ = readJournalOnce(ctx, a, c, jf, unit)
		}
	}
	return src
}

// readJournalOnce is one run of journalctl for readJournal; openFailed
// says journalctl could not open the files it was given.
func readJournalOnce(ctx context.Context, a *agg, c config, jf *journalFiles, unit string) (src Source, openFailed bool) {
	src = Source{Name: "journal"}
	if unit != "" {
		src.Name = "journal:" + unit
	}
	a.setSource(src.Name, false)
	n0 := a.lines
	defer func() {
		a.flush()
		src.Lines = a.lines - n0
	}()

	path, err := exec.LookPath(c.jctl)
	if err != nil {
		src.setErr(fmt.Errorf("%w: %w", ErrNoJournal, err))
		return src, false
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, path, journalArgs(c, jf, unit)...)
	if jf != nil {
		cmd.ExtraFiles = jf.files
	}
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	cmd.Stdout = pw
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	cmd.WaitDelay = 200 * time.Millisecond
	if err := cmd.Start(); err != nil {
		src.setErr(fmt.Errorf("%w: %w", ErrNoJournal, err))
		return src, false
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.CloseWithError(io.EOF)
		done <- err
	}()

	br := bufio.NewReaderSize(pr, 64<<10)
	entries := 0
	var long []byte
	for {
		line, rerr := br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			// A huge entry: gather it up to a bound, drop the rest.
			if len(long) < 16<<20 {
				long = append(long, line...)
			}
			src.Bytes += int64(len(line))
			continue
		}
		src.Bytes += int64(len(line))
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if msg, meta, ok := parseJournalEntry(line); ok {
				entries++
				feedMessage(a, msg, meta)
			}
		}
		if rerr != nil {
			break
		}
		if src.Bytes >= c.w.maxBytes {
			src.Capped = true
			break
		}
	}
	pr.CloseWithError(errStopReading)
	cancel()
	werr := <-done
	switch {
	case ctx.Err() != nil:
		src.setErr(ctx.Err())
	case src.Capped:
	case werr != nil:
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		switch {
		case strings.Contains(msg, "No journal files"):
			src.setErr(fmt.Errorf("%w: %s", ErrNoJournal, msg))
		case jf != nil:
			// The arguments are descriptors: they would say nothing.
			openFailed = entries == 0 && strings.Contains(msg, "Failed to open files")
			src.setErr(fmt.Errorf("%s on %d journal files: %w (%s)", path, len(jf.files), werr, msg))
		default:
			src.setErr(fmt.Errorf("%s %s: %w (%s)", path, strings.Join(journalArgs(c, jf, unit), " "), werr, msg))
		}
	case entries == 0 && jf == nil && noJournal(ctx, path, c.jdir, &stderr):
		src.setErr(fmt.Errorf("%w: journalctl found no journal files", ErrNoJournal))
	}
	return src, openFailed
}

// noJournal tells "no entries in the window" from "no journal at all":
// in JSON mode journalctl says nothing about missing journal files, in
// the default mode it does.
func noJournal(ctx context.Context, path, dir string, stderr *bytes.Buffer) bool {
	if strings.Contains(stderr.String(), "No journal files") {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	args := []string{"-n", "0", "--no-pager"}
	if dir != "" {
		args = append(args, "--directory="+dir)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var out bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &out, n: 4096}
	cmd.WaitDelay = 200 * time.Millisecond
	_ = cmd.Run()
	return strings.Contains(out.String(), "No journal files")
}

// feedMessage hands a journal or kernel message to the agg, line by line:
// a message can hold a whole stack trace.
func feedMessage(a *agg, msg []byte, meta lineMeta) {
	first := true
	for len(msg) > 0 || first {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		m := meta
		if !first {
			m.level = ""
		}
		a.feed(line, m, first && (meta.level == "error" || meta.level == "fatal"))
		first = false
	}
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
