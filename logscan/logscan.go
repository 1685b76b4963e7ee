package logscan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/human"
	"github.com/triagekit/triage/internal/traceparent"
)

// Defaults for a zero [Options].
const (
	// DefaultLines and DefaultSince are the window read from each source
	// when neither Lines nor Since is set: the last DefaultLines lines,
	// of those written in the last DefaultSince. Old trouble is history,
	// not the incident: a health endpoint on defaults must not keep
	// failing on an OOM kill from an hour ago.
	DefaultLines = 200
	DefaultSince = 10 * time.Minute
	// DefaultMaxBytes bounds the window read from each file or journal.
	DefaultMaxBytes = 64 << 20
	// MaxSignatures is how many signatures a result keeps.
	MaxSignatures = 20
)

// bufPool holds read buffers, so that checks run often (a health
// endpoint) do not allocate one each time.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, chunkSize)
	return &b
}}

// ErrNoJournal is returned (wrapped) when journald cannot be read: there
// is no journalctl, or it finds no journal files.
var ErrNoJournal = errors.New("logscan: no journal")

// Options says which logs to read and how far back.
//
// The zero value reads the last DefaultLines lines of the last
// DefaultSince of the system journal (all units) and of the kernel log.
type Options struct {
	// Files are log files. Each is read backwards from its end, so the
	// cost depends on the window, not on the file's size. When the window
	// reaches back past a file's first line, its rotated sibling
	// (path.1) is read too.
	Files []string
	// Open opens the files of Files (and their rotated siblings) for
	// reading, without blocking on a FIFO. If nil, they are opened on this
	// host; container.Container.Open opens them by the paths a container
	// uses, inside its root.
	//
	// With Open, the journal is that root's too: the journal files in
	// JournalDir, or in /var/log/journal and /run/log/journal (and their
	// machine-id subdirectories), are opened through it and handed to
	// journalctl as descriptors, so that a link in the directory cannot
	// lead journalctl to a file of this host's; files it cannot open
	// (cut short, of a newer format) are passed over, as journalctl
	// --directory passes over them. Units then name the units of that
	// root's systemd.
	Open func(name string) (*os.File, error)
	// Units are systemd units whose journal is read with journalctl.
	Units []string
	// JournalDir is a journal directory to read instead of this
	// machine's (journalctl --directory): a chroot's /var/log/journal, or
	// journal files copied from another host. For a container's, set Open
	// too and give the path the container uses. If empty, the system
	// journal. Setting it reads the journal even with no Units (all of
	// its entries).
	JournalDir string
	// Kernel adds the kernel log (KmsgPath, or dmesg when it cannot be
	// opened; its Source then says Via "dmesg").
	Kernel bool

	// Since is how far back to read, measured from Now. Lines with
	// timestamps before Now-Since are left out. If zero and Lines is set,
	// there is no time bound; if both are zero, DefaultSince.
	Since time.Duration
	// Lines is how many lines to read from the end of each source at
	// most. If zero and Since is zero, DefaultLines; if zero and Since is
	// set, there is no line bound.
	Lines int
	// MaxBytes bounds the bytes read from each source. If zero,
	// DefaultMaxBytes.
	MaxBytes int64

	// Patterns are extra regular expressions (RE2 syntax); a line that
	// matches one counts as an error line, whatever its level. A bad
	// pattern, or one that matches an empty line, makes Check return
	// triage.ErrInvalid.
	//
	// Without a pattern, lines at info, debug, trace or notice level are
	// not looked at: signals and errors come from the other lines.
	Patterns []string
	// TraceID, when set, collects every line that carries it (a trace
	// id, a request id) into Result.Trace. A whole W3C traceparent
	// ("00-<trace-id>-<span-id>-01", as an HTTP probe sends it) stands
	// for its trace-id.
	TraceID string

	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Location is the zone of timestamps that carry none. If nil,
	// time.Local.
	Location *time.Location
	// JournalctlPath is the journalctl binary. If empty, journalctl from
	// PATH.
	JournalctlPath string
	// KmsgPath is the kernel's log device. If empty, /dev/kmsg.
	KmsgPath string

	// afterChunk runs after each chunk a file read (tests rotate there).
	afterChunk func()
}

// Result is what the logs say. Its Check is [KindCheck]; its Target holds
// the files asked for (Paths) and the first unit asked for (Unit).
type Result struct {
	triage.Result
	// Sources says what was read from each file, unit and the kernel log.
	Sources []Source `json:"sources"`
	// Lines is how many lines were in the windows.
	Lines int `json:"lines"`
	// ErrorLines is how many of them were errors; a stack trace counts
	// once, with its head line. Kernel log lines count only through
	// their signals.
	ErrorLines int `json:"error_lines"`
	// StackTraces is how many error lines carried a stack trace.
	StackTraces int `json:"stack_traces"`
	// Timeouts is how many lines spoke of a timeout.
	Timeouts int `json:"timeouts"`
	// Signatures are the error lines grouped by normalised message, most
	// frequent first, at most MaxSignatures.
	Signatures []Signature `json:"signatures"`
	// Signals are the known operational failures found, in the order of
	// the findings.
	Signals []Signal `json:"signals"`
	// Trace holds the lines carrying Options.TraceID, in the order read
	// (at most 1000; texts past 8 KiB cut with a marker).
	Trace []Line `json:"trace,omitempty"`
}

// config is Options checked and filled in.
type config struct {
	w       window
	callers []*regexp.Regexp
	now     time.Time
	loc     *time.Location
	jctl    string
	jdir    string
	// jdirShown is the directory the command shown reads: jdir, or
	// where another root's journal files were found.
	jdirShown string
	kmsg      string
	units     []string
	journal   bool // read the journal at all
	kernel    bool
	sinceArg  time.Duration
	traceID   string
}

func (o Options) config() (config, error) {
	c := config{}
	if o.Lines < 0 || o.Since < 0 || o.MaxBytes < 0 {
		return c, fmt.Errorf("%w: negative Lines, Since or MaxBytes", triage.ErrInvalid)
	}
	for _, f := range o.Files {
		if f == "" || strings.IndexByte(f, 0) >= 0 {
			return c, fmt.Errorf("%w: file path %q", triage.ErrInvalid, f)
		}
	}
	if strings.HasPrefix(o.JournalDir, "-") {
		return c, fmt.Errorf("%w: bad journal directory %q", triage.ErrInvalid, o.JournalDir)
	}
	for _, u := range o.Units {
		// Unit names hold no spaces or control bytes; one that does
		// would only ever find no journal entries.
		if u == "" || strings.HasPrefix(u, "-") || strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return c, fmt.Errorf("%w: bad unit name %q", triage.ErrInvalid, u)
		}
	}
	if id, ok := traceparent.ID(o.TraceID); ok {
		c.traceID = id // a whole traceparent header: look for its trace-id
	} else {
		c.traceID = o.TraceID
	}
	if strings.ContainsAny(o.TraceID, "\n\r") {
		return c, fmt.Errorf("%w: trace id holds a line break", triage.ErrInvalid)
	}
	for _, p := range o.Patterns {
		re, err := regexp.Compile("(?m)" + p)
		if err != nil {
			return c, fmt.Errorf("%w: pattern %q: %v", triage.ErrInvalid, p, err)
		}
		if re.MatchString("") {
			return c, fmt.Errorf("%w: pattern %q matches every line", triage.ErrInvalid, p)
		}
		c.callers = append(c.callers, re)
	}
	c.now = time.Now()
	if o.Now != nil {
		c.now = o.Now()
	}
	c.loc = cmp.Or(o.Location, time.Local)
	c.w.lines = o.Lines
	since := o.Since
	if o.Lines == 0 && o.Since == 0 {
		c.w.lines, since = DefaultLines, DefaultSince
	}
	if since > 0 {
		c.w.since = c.now.Add(-since)
	}
	c.sinceArg = since
	c.w.maxBytes = cmp.Or(o.MaxBytes, DefaultMaxBytes)
	c.jctl = cmp.Or(o.JournalctlPath, "journalctl")
	c.kmsg = cmp.Or(o.KmsgPath, "/dev/kmsg")
	c.units = o.Units
	c.kernel = o.Kernel
	c.jdir = o.JournalDir
	c.jdirShown = o.JournalDir
	c.journal = len(o.Units) > 0 || o.JournalDir != ""
	if len(o.Files) == 0 && !c.journal && !o.Kernel {
		c.journal, c.kernel = true, true
	}
	return c, nil
}

// Check reads the windows of the logs o names and reports their error
// signatures, the operational failures they show and the lines carrying
// o.TraceID.
//
// A source that cannot be read makes the result Unknown with the error
// kept (os.ErrNotExist and os.ErrPermission for files, [ErrNoJournal] for
// journald, context.DeadlineExceeded), while what the other sources said
// is still reported. Bad options give triage.ErrInvalid.
func Check(ctx context.Context, o Options) Result {
	r := Result{Result: triage.Begin(KindCheck, target(o)), Sources: []Source{}, Signatures: []Signature{}, Signals: []Signal{}}
	c, err := o.config()
	if err != nil {
		r.Finish(err)
		return r
	}
	a := newAgg(newMatcher(c.callers, c.traceID), c.callers, c.traceID, c.now, c.loc)
	fr := &fileReader{a: a, afterChunk: o.afterChunk, open: o.Open}
	if len(o.Files) > 0 {
		bp := bufPool.Get().(*[]byte)
		defer bufPool.Put(bp)
		fr.buf = *bp
	}
	for _, p := range o.Files {
		if ctx.Err() != nil {
			break
		}
		r.Sources = append(r.Sources, fr.readFile(ctx, p, c.w)...)
	}
	if c.journal {
		units := c.units
		if len(units) == 0 {
			units = []string{""}
		}
		var jf *journalFiles
		var jerr error
		if o.Open != nil {
			// Another root's journal: its files, opened inside it.
			var files journalFiles
			if files, jerr = openJournalFiles(o.Open, c.jdir); jerr == nil {
				jf = &files
				defer jf.close()
				c.jdirShown = jf.dir
			}
		}
		for _, u := range units {
			if ctx.Err() != nil {
				break
			}
			if jerr != nil {
				src := Source{Name: "journal"}
				if u != "" {
					src.Name = "journal:" + u
				}
				src.setErr(jerr)
				r.Sources = append(r.Sources, src)
				continue
			}
			r.Sources = append(r.Sources, readJournal(ctx, a, c, jf, u))
		}
	}
	if c.kernel && ctx.Err() == nil {
		r.Sources = append(r.Sources, readKernel(ctx, a, c))
	}
	a.flush()

	var errs []error
	for _, s := range r.Sources {
		if s.err != nil {
			if strings.Contains(s.err.Error(), s.Name) {
				errs = append(errs, s.err) // a *PathError names it already
			} else {
				errs = append(errs, fmt.Errorf("%s: %w", s.Name, s.err))
			}
		}
	}
	if err := ctx.Err(); err != nil && !slices.ContainsFunc(errs, func(e error) bool { return errors.Is(e, err) }) {
		errs = append(errs, fmt.Errorf("logscan: %w", err))
	}
	r.fill(a, o, c)
	r.Finish(errors.Join(errs...))
	return r
}

// target is what o asks about: its files, and its first unit. Target.Unit
// holds one unit; the first named is the one the caller put first, the
// service itself rather than its neighbours, and the one the next
// commands ("journalctl -u") are about.
func target(o Options) triage.Target {
	t := triage.Target{Paths: slices.Clone(o.Files)}
	if len(o.Units) > 0 {
		t.Unit = o.Units[0]
	}
	return t
}

// fill turns what the agg gathered into the result's fields and findings.
func (r *Result) fill(a *agg, o Options, c config) {
	r.Lines = a.lines
	r.ErrorLines = a.errorLines
	r.StackTraces = a.stackTraces
	r.Timeouts = a.timeouts
	for _, s := range a.sigs {
		r.Signatures = append(r.Signatures, *s)
	}
	slices.SortFunc(r.Signatures, func(x, y Signature) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), y.Last.Compare(x.Last), strings.Compare(x.Pattern, y.Pattern))
	})
	nsigs := len(r.Signatures) + a.sigOverflow
	if nsigs > MaxSignatures {
		r.Signatures = r.Signatures[:MaxSignatures]
	}
	for _, s := range a.signals {
		r.Signals = append(r.Signals, *s)
	}
	slices.SortFunc(r.Signals, func(x, y Signal) int {
		return cmp.Or(cmp.Compare(codeRank[x.Code], codeRank[y.Code]), cmp.Compare(y.Count, x.Count), strings.Compare(x.Target, y.Target))
	})
	r.Trace = a.trace

	cmdSrc := r.command(c)
	if r.ErrorLines > 0 {
		top := r.Signatures[0]
		r.Add(triage.Finding{
			Code:   CodeErrors,
			Status: triage.Warn,
			Summary: fmt.Sprintf("%d error %s in %d %s, %d %s; top (%d×): %s",
				r.ErrorLines, plural(r.ErrorLines, "line", "lines"), r.Lines, plural(r.Lines, "line", "lines"),
				nsigs, plural(nsigs, "signature", "signatures"), top.Count, clip(top.Pattern, 120)),
			Evidence: triage.Evidence{
				slog.Int("count", r.ErrorLines),
				slog.Int("signatures", nsigs),
				slog.Int("stack_traces", r.StackTraces),
				slog.String("top_signature", top.Pattern),
				slog.Int("top_count", top.Count),
			},
			Command: cmdSrc + ` | grep -E 'ERROR|FATAL|Exception|panic:|Traceback|level=error'`,
		})
	}
	if r.Timeouts > 0 && r.StackTraces == 0 && a.otherErrors*4 <= r.Timeouts {
		r.Add(triage.Finding{
			Code:   CodeTimeoutsNoStack,
			Status: triage.Warn,
			Summary: fmt.Sprintf("%d timeout %s and no stack traces: suspect the network, a dependency or pool exhaustion rather than the application",
				r.Timeouts, plural(r.Timeouts, "line", "lines")),
			Evidence: triage.Evidence{
				slog.Int("timeouts", r.Timeouts),
				slog.Int("stack_traces", r.StackTraces),
				slog.Int("other_errors", a.otherErrors),
			},
			Command: cmdSrc + ` | grep -iE 'timed? ?out|deadline exceeded'`,
		})
	}
	for _, s := range r.Signals {
		r.Add(signalFinding(s, cmdSrc))
	}
	if c.traceID != "" && a.traceCount > 0 {
		r.Add(triage.Finding{
			Code:   CodeTraceFound,
			Status: triage.OK,
			Summary: fmt.Sprintf("%d %s trace %s (%d %s) in %d %s",
				a.traceCount, plural(a.traceCount, "line carries", "lines carry"), c.traceID,
				a.traceErrLines, plural(a.traceErrLines, "error", "errors"),
				len(a.traceSources), plural(len(a.traceSources), "source", "sources")),
			Evidence: triage.Evidence{
				slog.String("trace_id", c.traceID),
				slog.Int("count", a.traceCount),
				slog.Int("error_lines", a.traceErrLines),
				slog.Int("sources", len(a.traceSources)),
			},
			Command: cmdSrc + " | grep -F " + human.Quote(c.traceID),
		})
	}
}

var codeRank = map[triage.Code]int{
	CodeUpstreamRefused: 1, CodeUpstreamTimeout: 2, CodeDependencyRefused: 3, CodeDependencyTimeout: 4,
	CodePoolExhausted: 5, CodeDNSFailure: 6, CodeDiskFull: 7, CodeTooManyOpenFiles: 8, CodeOutOfMemory: 9,
	CodeKernelOOMKill: 10, CodeKernelConntrackFull: 11, CodeKernelSYNFlood: 12, CodeKernelIOError: 13,
}

var signalText = map[triage.Code]struct {
	status    triage.Status
	one, many string // formats taking the count and the target
}{
	CodeUpstreamRefused:     {triage.Fail, "%d upstream connect failed to %s", "%d upstream connects failed to %s"},
	CodeUpstreamTimeout:     {triage.Fail, "%d upstream timeout on %s", "%d upstream timeouts on %s"},
	CodeDependencyRefused:   {triage.Fail, "%d connection refused by %s", "%d connections refused by %s"},
	CodeDependencyTimeout:   {triage.Fail, "%d timeout talking to %s", "%d timeouts talking to %s"},
	CodePoolExhausted:       {triage.Fail, "%d time no free connection in pool %s", "%d times no free connection in pool %s"},
	CodeDNSFailure:          {triage.Fail, "%d lookup failed for %s", "%d lookups failed for %s"},
	CodeDiskFull:            {triage.Fail, "%d write failed with no space left on device (%s)", "%d writes failed with no space left on device (%s)"},
	CodeTooManyOpenFiles:    {triage.Fail, "%d time too many open files (%s)", "%d times too many open files (%s)"},
	CodeOutOfMemory:         {triage.Fail, "%d out-of-memory error (%s)", "%d out-of-memory errors (%s)"},
	CodeKernelOOMKill:       {triage.Fail, "kernel OOM killer killed %d time, last %s", "kernel OOM killer killed %d times, last %s"},
	CodeKernelConntrackFull: {triage.Fail, "conntrack table full %d time (%s): new connections dropped", "conntrack table full %d times (%s): new connections dropped"},
	CodeKernelSYNFlood:      {triage.Warn, "%d SYN flood warning on port %s (SYN queue overflow)", "%d SYN flood warnings on port %s (SYN queue overflow)"},
	CodeKernelIOError:       {triage.Fail, "%d I/O error on %s", "%d I/O errors on %s"},
}

// plural picks the singular or the plural word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func signalFinding(s Signal, cmdSrc string) triage.Finding {
	t := signalText[s.Code]
	summary := fmt.Sprintf(plural(s.Count, t.one, t.many), s.Count, s.Target)
	if s.Code == CodeKernelOOMKill && s.PID != 0 {
		summary += fmt.Sprintf(" (pid %d)", s.PID)
	}
	if s.Cgroup != "" {
		summary += " in cgroup " + s.Cgroup
	}
	if s.NoLiveUpstreams > 0 {
		summary += fmt.Sprintf(", %d with no live upstreams", s.NoLiveUpstreams)
	}
	if !s.Last.IsZero() {
		summary += ", last at " + s.Last.Format(time.RFC3339)
	}
	ev := append(triage.Evidence{slog.String("target", s.Target)}, s.facts()...)
	ev = append(ev, slog.Int("count", s.Count))
	if s.Code == CodeKernelOOMKill {
		ev = append(ev, slog.Int(triage.KeyPID, s.PID))
	}
	if s.Code == CodeUpstreamRefused {
		ev = append(ev, slog.Int("no_live_upstreams", s.NoLiveUpstreams))
	}
	if !s.First.IsZero() {
		ev = append(ev, slog.Time("first_seen", s.First), slog.Time("last_seen", s.Last))
	}
	ev = append(ev, slog.String("example", clip(s.Example, 300)))
	word := grepWord[s.Code]
	if !strings.Contains(s.Example, word) && s.Target != "unknown" && s.Target != "" {
		// Another proxy's wording (haproxy, envoy): the upstream's
		// name is what its lines share.
		word = s.Target
	}
	cmd := cmdSrc + " | grep -F " + human.Quote(word)
	if strings.HasPrefix(string(s.Code), "log.kernel_") {
		cmd = "dmesg -T | grep -F " + human.Quote(grepWord[s.Code])
	}
	return triage.Finding{Code: s.Code, Status: t.status, Summary: summary, Evidence: ev, Command: cmd}
}

var grepWord = map[triage.Code]string{
	CodeUpstreamRefused: "while connecting to upstream", CodeUpstreamTimeout: "upstream timed out",
	CodeDependencyRefused: "refused", CodeDependencyTimeout: "time", CodePoolExhausted: "ool",
	CodeDNSFailure: "host", CodeDiskFull: "No space left", CodeTooManyOpenFiles: "open files",
	CodeOutOfMemory: "emory", CodeKernelOOMKill: "Killed process", CodeKernelConntrackFull: "table full",
	CodeKernelSYNFlood: "SYN flooding", CodeKernelIOError: "I/O error",
}

// command is the shell command that shows the same window as the first
// source read.
func (r *Result) command(c config) string {
	since := ""
	if c.sinceArg > 0 {
		since = fmt.Sprintf(" --since '%s ago'", humanDuration(c.sinceArg))
	}
	dir := ""
	if c.jdirShown != "" {
		dir = " -D " + human.Quote(c.jdirShown)
	}
	n := ""
	if c.w.lines > 0 {
		n = fmt.Sprintf(" -n %d", c.w.lines)
	}
	for _, s := range r.Sources {
		switch {
		case s.Name == "kernel":
			continue
		case s.Name == "journal":
			return "journalctl" + dir + " --no-pager" + n + since
		case strings.HasPrefix(s.Name, "journal:"):
			return "journalctl" + dir + " -u " + human.Quote(strings.TrimPrefix(s.Name, "journal:")) + " --no-pager" + n + since
		default:
			lines := c.w.lines
			if lines == 0 {
				lines = DefaultLines
			}
			return fmt.Sprintf("tail -n %d %s", lines, human.Quote(s.Name))
		}
	}
	return "dmesg -T"
}

func humanDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return fmt.Sprintf("%d seconds", d/time.Second)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }
