package probe

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/triagekit/triage"
)

// procCand is a process that matched the selectors, with its first sample.
type procCand struct {
	st      procStat
	cmdline string
	threads []procStat // first sample of its threads
}

func procRun(ctx context.Context, o *ProcessOptions, r *ProcessResult) error {
	switch {
	case o.Name == "" && o.Cmdline == "" && o.PID == 0 && o.Pidfile == "":
		return fmt.Errorf("%w: no process selector (name, cmdline, pid or pidfile)", triage.ErrInvalid)
	case o.PID < 0:
		return fmt.Errorf("%w: negative pid %d", triage.ErrInvalid, o.PID)
	case o.Window < 0:
		return fmt.Errorf("%w: negative window %s", triage.ErrInvalid, o.Window)
	case o.Name != "" && (strings.TrimSpace(o.Name) == "" || strings.Contains(o.Name, "/")):
		// No process name holds a slash; a path here would only ever
		// report the process as not found.
		return fmt.Errorf("%w: process name %q (a name such as nginx, not a path)", triage.ErrInvalid, o.Name)
	case !(o.FDsPct >= 0 && o.FDsPct <= 100) || !(o.ThreadHotPct >= 0 && o.ThreadHotPct <= 100):
		return fmt.Errorf("%w: shares must be 0-100%%, got fds %v, hot thread %v", triage.ErrInvalid, o.FDsPct, o.ThreadHotPct)
	case o.MaxMatches < 0:
		return fmt.Errorf("%w: negative max matches %d", triage.ErrInvalid, o.MaxMatches)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	procRoot := cmp.Or(o.ProcRoot, "/proc")
	window := cmp.Or(o.Window, DefaultWindow)
	if deadline, ok := ctx.Deadline(); ok {
		window = min(window, time.Until(deadline)/2)
	}
	topThreads := cmp.Or(o.TopThreads, 5)
	maxMatches := cmp.Or(o.MaxMatches, 64)
	sel := procSelectors(o)

	pid := o.PID
	if o.Pidfile != "" {
		b, err := os.ReadFile(o.Pidfile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			r.Add(triage.Finding{
				Code:     CodeProcessNotFound,
				Status:   triage.Fail,
				Summary:  fmt.Sprintf("pidfile %s does not exist", o.Pidfile),
				Evidence: sel,
				Command:  "ls -l " + o.Pidfile,
			})
			return nil
		case errors.Is(err, fs.ErrPermission):
			r.Add(procDenied(0, "", o.Pidfile, "sudo cat "+procQuote(o.Pidfile)))
			return fmt.Errorf("reading pidfile: %w", err)
		case err != nil:
			return fmt.Errorf("reading pidfile: %w", err)
		}
		p, err := parseProcPidfile(b)
		if err != nil {
			return fmt.Errorf("%w: pidfile %s: %w", triage.ErrInvalid, o.Pidfile, err)
		}
		if pid != 0 && pid != p {
			return fmt.Errorf("%w: pid %d given, pidfile %s holds %d", triage.ErrInvalid, pid, o.Pidfile, p)
		}
		pid = p
	}

	rd := hostReader{buf: make([]byte, 0, 4096)}
	var cands []procCand
	var denied int
	var deniedErr error
	if pid != 0 {
		c, ok, err := procMatch(&rd, procRoot, pid, o)
		switch {
		case procVanished(err):
		case errors.Is(err, fs.ErrPermission):
			denied, deniedErr = 1, err
		case err != nil:
			return err
		case ok:
			cands = append(cands, c)
		}
	} else {
		f, err := os.Open(procRoot)
		if err != nil {
			return fmt.Errorf("listing processes: %w", err)
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return fmt.Errorf("listing processes: %w", err)
		}
		for i, name := range names {
			if i%256 == 255 && ctx.Err() != nil {
				return fmt.Errorf("scanning processes: %w", ctx.Err())
			}
			if name[0] < '1' || name[0] > '9' {
				continue
			}
			p, err := strconv.Atoi(name)
			if err != nil {
				continue
			}
			c, ok, err := procMatch(&rd, procRoot, p, o)
			switch {
			case procVanished(err):
			case errors.Is(err, fs.ErrPermission):
				denied++
				deniedErr = err
			case err != nil:
				return err
			case ok:
				cands = append(cands, c)
			}
		}
	}

	r.Matched = len(cands)
	if len(cands) == 0 {
		if denied > 0 {
			what := fmt.Sprintf("%d processes", denied)
			var pe *fs.PathError
			if pid != 0 && errors.As(deniedErr, &pe) {
				what = pe.Path
			}
			r.Add(procDenied(pid, "", what, "sudo "+procCommand(o, pid)))
			return fmt.Errorf("reading the process table: %w", deniedErr)
		}
		r.Add(procNotFound(o, pid, sel))
		return nil
	}
	slices.SortFunc(cands, func(a, b procCand) int {
		return cmp.Or(cmp.Compare(a.st.startTime, b.st.startTime), cmp.Compare(a.st.pid, b.st.pid))
	})
	if len(cands) > maxMatches {
		cands = cands[:maxMatches]
	}

	if topThreads > 0 {
		for i := range cands {
			cands[i].threads = procThreads(&rd, procRoot, cands[i].st.pid)
		}
	}
	t1 := time.Now()
	var ctxErr error
	if window > 0 {
		timer := time.NewTimer(window)
		select {
		case <-ctx.Done():
			ctxErr = fmt.Errorf("sampling over %s: %w", window, ctx.Err())
		case <-timer.C:
		}
		timer.Stop()
	} else {
		ctxErr = fmt.Errorf("no time left to sample: %w", context.DeadlineExceeded)
	}
	if ctxErr == nil {
		r.Window = time.Since(t1)
	}

	var bootTime int64
	var memTotal uint64
	if b, err := rd.read(filepath.Join(procRoot, "stat")); err == nil {
		if s, err := parseHostStat(b); err == nil {
			bootTime = s.bootTime
		}
	}
	if b, err := rd.read(filepath.Join(procRoot, "meminfo")); err == nil {
		if m, err := parseHostMeminfo(b); err == nil {
			memTotal = m.total
		}
	}
	now := time.Now()
	users := map[int]string{}
	var errs []error
	for _, c := range cands {
		p, err := procDescribeOne(&rd, procRoot, c, r.Window, topThreads, bootTime, memTotal, now, users)
		if procVanished(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
		r.Processes = append(r.Processes, p)
		procJudge(r, o, p, r.Window)
	}
	if len(r.Processes) == 0 {
		// Every match exited during the window.
		r.Add(procNotFound(o, pid, sel))
	}
	return errors.Join(append(errs, ctxErr)...)
}

func procNotFound(o *ProcessOptions, pid int, sel triage.Evidence) triage.Finding {
	what := "no process matches " + procDescribe(o, pid)
	if o.Pidfile != "" {
		what = fmt.Sprintf("pidfile %s names pid %d, which is not running", o.Pidfile, pid)
	}
	return triage.Finding{
		Code:     CodeProcessNotFound,
		Status:   triage.Fail,
		Summary:  what,
		Evidence: sel,
		Command:  procCommand(o, pid),
	}
}

// procMatch reads the first sample of one process and reports whether it
// matches the selectors. Its error is the read error, for the caller to
// sort into vanished, denied and other.
func procMatch(rd *hostReader, procRoot string, pid int, o *ProcessOptions) (procCand, bool, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	b, err := rd.read(filepath.Join(dir, "stat"))
	if err != nil {
		return procCand{}, false, err
	}
	long := len(o.Name) > 15
	if o.Name != "" {
		comm := procStatComm(b)
		if long {
			if string(comm) != o.Name[:15] {
				return procCand{}, false, nil
			}
		} else if string(comm) != o.Name {
			return procCand{}, false, nil
		}
	}
	st, err := parseProcStat(b)
	if err != nil {
		return procCand{}, false, fmt.Errorf("%s/stat: %w", dir, err)
	}
	if o.PID != 0 && st.pid != o.PID {
		return procCand{}, false, nil
	}
	b, err = rd.read(filepath.Join(dir, "cmdline"))
	if err != nil {
		return procCand{}, false, err
	}
	if long && string(procArgv0Base(b)) != o.Name {
		return procCand{}, false, nil
	}
	cmdline := procCmdline(b)
	if o.Cmdline != "" && !strings.Contains(cmdline, o.Cmdline) {
		return procCand{}, false, nil
	}
	return procCand{st: st, cmdline: cmdline}, true, nil
}

// procThreads samples a process's threads; nil when it has none readable.
func procThreads(rd *hostReader, procRoot string, pid int) []procStat {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "task")
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil
	}
	out := make([]procStat, 0, len(names))
	for _, n := range names {
		b, err := rd.read(filepath.Join(dir, n, "stat"))
		if err != nil {
			continue
		}
		st, err := parseProcStat(b)
		if err != nil {
			continue
		}
		out = append(out, st)
	}
	return out
}

// procDescribeOne takes the second sample of a candidate and fills in
// everything ps and top show. A vanished error means it exited meanwhile
// (or its PID was reused) and is to be skipped.
func procDescribeOne(rd *hostReader, procRoot string, c procCand, window time.Duration, topThreads int,
	bootTime int64, memTotal uint64, now time.Time, users map[int]string) (ProcessInfo, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(c.st.pid))
	st := c.st
	if window > 0 {
		b, err := rd.read(filepath.Join(dir, "stat"))
		if err != nil {
			return ProcessInfo{}, err
		}
		if st, err = parseProcStat(b); err != nil {
			return ProcessInfo{}, fmt.Errorf("%s/stat: %w", dir, err)
		}
		if st.startTime != c.st.startTime {
			return ProcessInfo{}, fs.ErrNotExist // the PID now belongs to another process
		}
	}
	p := ProcessInfo{
		PID:     st.pid,
		PPID:    st.ppid,
		Name:    st.comm,
		State:   string(st.state),
		Cmdline: c.cmdline,
		Threads: st.threads,
		FDs:     -1,
	}
	if window > 0 {
		p.CPUPct = procPct(hostDelta(c.st.ticks, st.ticks), window)
	}
	if st.rssPages > 0 {
		p.RSSBytes = uint64(st.rssPages) * uint64(os.Getpagesize())
		p.MemPct = hostPct(float64(p.RSSBytes), float64(memTotal))
	}
	if bootTime > 0 {
		p.Started = time.Unix(bootTime, 0).Add(time.Duration(st.startTime) * time.Second / procClockTicks).UTC()
		p.Uptime = max(now.Sub(p.Started), 0)
	}

	var errs []error
	keep := func(err error) {
		if err != nil && !procVanished(err) {
			errs = append(errs, err)
		}
	}
	if b, err := rd.read(filepath.Join(dir, "status")); err == nil {
		if uid, err := parseProcStatusUID(b); err == nil {
			p.UID = uid
			p.User = procUserName(uid, users)
		} else {
			keep(fmt.Errorf("%s/status: %w", dir, err))
		}
	} else {
		keep(err)
	}
	if b, err := rd.read(filepath.Join(dir, "limits")); err == nil {
		if n, err := parseProcLimitsNofile(b); err == nil {
			p.FDLimit = n
		} else {
			keep(fmt.Errorf("%s/limits: %w", dir, err))
		}
	} else {
		keep(err)
	}
	if p.State != "Z" {
		n, err := procCountFDs(procRoot, st.pid)
		if procVanished(err) {
			return ProcessInfo{}, err
		}
		keep(err)
		if err == nil {
			p.FDs = n
			if p.FDLimit > 0 {
				p.FDsPct = hostPct(float64(n), float64(p.FDLimit))
			}
		}
	}
	if topThreads > 0 && window > 0 && len(c.threads) > 0 {
		for _, t2 := range procThreads(rd, procRoot, st.pid) {
			for _, t1 := range c.threads {
				if t1.pid != t2.pid || t1.startTime != t2.startTime {
					continue
				}
				if d := hostDelta(t1.ticks, t2.ticks); d > 0 {
					p.HotThreads = append(p.HotThreads, ThreadInfo{
						TID: t2.pid, Name: t2.comm, State: string(t2.state), CPUPct: procPct(d, window),
					})
				}
				break
			}
		}
		slices.SortFunc(p.HotThreads, func(a, b ThreadInfo) int {
			return cmp.Or(cmp.Compare(b.CPUPct, a.CPUPct), cmp.Compare(a.TID, b.TID))
		})
		if len(p.HotThreads) > topThreads {
			p.HotThreads = p.HotThreads[:topThreads]
		}
	}
	if err := errors.Join(errs...); err != nil {
		p.Err = fmt.Errorf("pid %d (%s): %w", p.PID, p.Name, err)
		p.Error = p.Err.Error()
	}
	return p, p.Err
}

// procJudge adds the findings for one process.
func procJudge(r *ProcessResult, o *ProcessOptions, p ProcessInfo, window time.Duration) {
	who := fmt.Sprintf("pid %d (%s)", p.PID, p.Name)
	pidAttr, nameAttr := slog.Int("pid", p.PID), slog.String("name", p.Name)
	psCmd := fmt.Sprintf("ps -o pid,ppid,user,stat,%%cpu,%%mem,nlwp,lstart,cmd -p %d", p.PID)
	switch p.State {
	case "Z":
		r.Add(triage.Finding{
			Code:     CodeProcessZombie,
			Status:   triage.Fail,
			Summary:  fmt.Sprintf("%s is a zombie: it exited and parent %d has not reaped it", who, p.PPID),
			Evidence: triage.Evidence{pidAttr, slog.Int("ppid", p.PPID), nameAttr},
			Command:  psCmd,
		})
		return
	case "D":
		ev := triage.Evidence{pidAttr, nameAttr}
		wchan := ""
		if b, err := os.ReadFile(filepath.Join(cmp.Or(o.ProcRoot, "/proc"), strconv.Itoa(p.PID), "wchan")); err == nil {
			if w := string(bytes.TrimSpace(b)); w != "" && w != "0" {
				wchan = " in " + w
				ev = append(ev, slog.String("wchan", w))
			}
		}
		r.Add(triage.Finding{
			Code:     CodeProcessUninterruptible,
			Status:   triage.Warn,
			Summary:  fmt.Sprintf("%s is in uninterruptible sleep (D)%s, usually waiting on disk or network storage", who, wchan),
			Evidence: ev,
			Command:  fmt.Sprintf("cat /proc/%d/stack /proc/%d/wchan", p.PID, p.PID),
		})
	}
	fds := "? fds"
	if p.FDs >= 0 {
		fds = fmt.Sprintf("%d fds", p.FDs)
		if p.FDLimit > 0 {
			fds = fmt.Sprintf("%d/%d fds", p.FDs, p.FDLimit)
		}
	}
	r.Add(triage.Finding{
		Code:   CodeProcessRunning,
		Status: triage.OK,
		Summary: fmt.Sprintf("%s running as %s, state %s, up %s, cpu %.1f%%, rss %s (%.1f%%), %d threads, %s",
			who, p.User, p.State, p.Uptime.Round(time.Second), p.CPUPct, hostBytes(p.RSSBytes), p.MemPct, p.Threads, fds),
		Evidence: triage.Evidence{pidAttr, nameAttr, slog.String("state", p.State), slog.Duration("uptime", p.Uptime)},
		Command:  psCmd,
	})
	if fdsPct := cmp.Or(o.FDsPct, 80); p.FDs >= 0 && p.FDLimit > 0 && p.FDsPct >= fdsPct {
		r.Add(triage.Finding{
			Code:   CodeProcessFDsNearLimit,
			Status: hostLevel(p.FDsPct >= 95),
			Summary: fmt.Sprintf("%s has %d open files of its soft limit %d (%.1f%%)",
				who, p.FDs, p.FDLimit, p.FDsPct),
			Evidence: triage.Evidence{pidAttr, nameAttr, slog.Int("fds", p.FDs),
				slog.Uint64("fd_limit", p.FDLimit), slog.Float64("fds_pct", p.FDsPct)},
			Command: fmt.Sprintf("ls /proc/%d/fd | wc -l; grep 'open files' /proc/%d/limits", p.PID, p.PID),
		})
	}
	hot := cmp.Or(o.ThreadHotPct, 90)
	for _, t := range p.HotThreads {
		if window < MinJudgeWindow {
			break
		}
		if t.CPUPct < hot {
			break
		}
		r.Add(triage.Finding{
			Code:   CodeProcessThreadHot,
			Status: triage.Warn,
			Summary: fmt.Sprintf("thread %d (%s) of %s used %.1f%% of a core over %s",
				t.TID, t.Name, who, t.CPUPct, hostRound(window)),
			Evidence: triage.Evidence{pidAttr, nameAttr, slog.Int("tid", t.TID), slog.String("thread", t.Name),
				slog.Float64("cpu_pct", t.CPUPct), slog.Duration("window", window)},
			Command: fmt.Sprintf("top -H -b -n 1 -p %d | head -20", p.PID),
		})
	}
	recent := cmp.Or(o.RecentStart, 5*time.Minute)
	if recent > 0 && !p.Started.IsZero() && p.Uptime < recent {
		r.Add(triage.Finding{
			Code:   CodeProcessRestartedRecently,
			Status: triage.Warn,
			Summary: fmt.Sprintf("%s started %s ago, at %s",
				who, p.Uptime.Round(time.Second), p.Started.Format(time.RFC3339)),
			Evidence: triage.Evidence{pidAttr, nameAttr, slog.Duration("uptime", p.Uptime),
				slog.Time("started", p.Started)},
			Command: fmt.Sprintf("ps -o pid,lstart,etime,cmd -p %d", p.PID),
		})
	}
	if p.Err != nil && errors.Is(p.Err, fs.ErrPermission) {
		what, cmd := "part of it", fmt.Sprintf("sudo ls -l /proc/%d/", p.PID)
		var pe *fs.PathError
		if errors.As(p.Err, &pe) {
			what, cmd = pe.Path, "sudo cat "+pe.Path
			if strings.HasSuffix(pe.Path, "/fd") {
				cmd = "sudo ls " + pe.Path + " | wc -l"
			}
		}
		r.Add(procDenied(p.PID, p.Name, what, cmd))
	}
}

func procDenied(pid int, name, what, cmd string) triage.Finding {
	subject := what
	if pid != 0 {
		subject = fmt.Sprintf("%s of pid %d", what, pid)
		if name != "" {
			subject += " (" + name + ")"
		}
	}
	return triage.Finding{
		Code:     CodeProcessPermissionDenied,
		Status:   triage.Unknown,
		Summary:  fmt.Sprintf("permission denied reading %s; run as root or as its owner", subject),
		Evidence: triage.Evidence{slog.Int("pid", pid), slog.String("what", what), slog.String("name", name)},
		Command:  cmd,
	}
}

// procVanished reports errors that mean the process is gone.
func procVanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

func procPct(ticks uint64, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return float64(ticks) / procClockTicks / window.Seconds() * 100
}

// procUserName looks a UID up once per check; the UID as text when the
// user database has no name for it.
func procUserName(uid int, cache map[int]string) string {
	if n, ok := cache[uid]; ok {
		return n
	}
	n := strconv.Itoa(uid)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	cache[uid] = n
	return n
}

func procSelectors(o *ProcessOptions) triage.Evidence {
	var ev triage.Evidence
	if o.Name != "" {
		ev = append(ev, slog.String("name", o.Name))
	}
	if o.Cmdline != "" {
		ev = append(ev, slog.String("cmdline", o.Cmdline))
	}
	if o.PID != 0 {
		ev = append(ev, slog.Int("pid", o.PID))
	}
	if o.Pidfile != "" {
		ev = append(ev, slog.String("pidfile", o.Pidfile))
	}
	return ev
}

func procDescribe(o *ProcessOptions, pid int) string {
	var parts []string
	if o.Name != "" {
		parts = append(parts, fmt.Sprintf("name %q", o.Name))
	}
	if o.Cmdline != "" {
		parts = append(parts, fmt.Sprintf("command line containing %q", o.Cmdline))
	}
	if pid != 0 {
		parts = append(parts, fmt.Sprintf("pid %d", pid))
	}
	return strings.Join(parts, " and ")
}

func procCommand(o *ProcessOptions, pid int) string {
	switch {
	case pid != 0:
		return fmt.Sprintf("ps -o pid,ppid,stat,cmd -p %d", pid)
	case o.Name != "":
		return "pgrep -a -x " + procQuote(o.Name)
	default:
		return "pgrep -a -f " + procQuote(o.Cmdline)
	}
}

// procQuote quotes s for a POSIX shell.
func procQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
