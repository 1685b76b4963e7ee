package process

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/human"
	"github.com/triagekit/triage/internal/procfs"
	"github.com/triagekit/triage/internal/window"
)

// candidate is a process that matched the selectors, with its first sample.
type candidate struct {
	st      taskStat
	cmdline string
	threads []taskStat // first sample of its threads
	nsPID   int        // its PID in the namespace asked about
}

// pidNS is the PID namespace the matches must be in: its inode, and the
// depth of its PIDs in the NSpid lines of /proc/PID/status (0 for this
// host's). The zero value matches every process.
type pidNS struct {
	ino   uint64
	level int
	// below caches, by inode, whether another PID namespace lies below
	// this one: most processes share a few namespaces.
	below map[uint64]bool
}

// maxPIDNSDepth is how deep the kernel nests PID namespaces.
const maxPIDNSDepth = 32

// nestedPIDNS reports whether the PID namespace at path (a
// /proc/PID/ns/pid) lies below the one whose inode is ino, walking up
// with NS_GET_PARENT. The walk ends where the kernel will not go higher
// (the top of this process's view, EPERM) or where the kernel has no
// such request (ENOTTY, before Linux 4.9): not below.
func nestedPIDNS(path string, ino uint64) (bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	for range maxPIDNSDepth {
		parent, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
		unix.Close(fd)
		if err != nil {
			return false, nil
		}
		fd = parent
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			break
		}
		if st.Ino == ino {
			unix.Close(fd)
			return true, nil
		}
	}
	unix.Close(fd)
	return false, nil
}

// readPIDNS finds the PID namespace of process pid.
func readPIDNS(rd *procfs.Reader, procRoot string, pid int) (pidNS, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "ns", "pid"), &st); err != nil {
		return pidNS{}, fmt.Errorf("the PID namespace of pid %d: %w", pid, &fs.PathError{Op: "stat", Path: dir + "/ns/pid", Err: err})
	}
	b, err := rd.Read(filepath.Join(dir, "status"))
	if err != nil {
		return pidNS{}, err
	}
	ids, err := parseNSpid(b)
	if err != nil {
		return pidNS{}, fmt.Errorf("%s/status: %w", dir, err)
	}
	return pidNS{ino: st.Ino, level: len(ids) - 1, below: map[uint64]bool{}}, nil
}

func run(ctx context.Context, o *Options, r *Result) error {
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
	case !(o.MajorFaultsPerSec >= 0) || math.IsInf(o.MajorFaultsPerSec, 1):
		return fmt.Errorf("%w: major faults per second %v", triage.ErrInvalid, o.MajorFaultsPerSec)
	case o.PIDNamespaceOf < 0:
		return fmt.Errorf("%w: negative pid %d for the PID namespace", triage.ErrInvalid, o.PIDNamespaceOf)
	case o.MaxMatches < 0:
		return fmt.Errorf("%w: negative max matches %d", triage.ErrInvalid, o.MaxMatches)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	procRoot := cmp.Or(o.ProcRoot, "/proc")
	win := window.Fit(ctx, cmp.Or(o.Window, DefaultWindow))
	topThreads := cmp.Or(o.TopThreads, 5)
	maxMatches := cmp.Or(o.MaxMatches, 64)
	sel := selectors(o)

	pid := o.PID
	if o.Pidfile != "" {
		b, err := procfs.ReadFile(o.Pidfile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			r.Add(triage.Finding{
				Code:     CodeNotFound,
				Status:   triage.Fail,
				Summary:  fmt.Sprintf("pidfile %s does not exist", o.Pidfile),
				Evidence: sel,
				Command:  "ls -l " + o.Pidfile,
			})
			return nil
		case errors.Is(err, fs.ErrPermission):
			r.Add(denied(0, "", o.Pidfile, "sudo cat "+human.Quote(o.Pidfile)))
			return fmt.Errorf("reading pidfile: %w", err)
		case err != nil:
			return fmt.Errorf("reading pidfile: %w", err)
		}
		p, err := parsePidfile(b)
		if err != nil {
			return fmt.Errorf("%w: pidfile %s: %w", triage.ErrInvalid, o.Pidfile, err)
		}
		if pid != 0 && pid != p {
			return fmt.Errorf("%w: pid %d given, pidfile %s holds %d", triage.ErrInvalid, pid, o.Pidfile, p)
		}
		pid = p
	}
	if r.Target.PID == 0 {
		r.Target.PID = pid
	}

	rd := procfs.NewReader(4096)
	var ns pidNS
	if o.PIDNamespaceOf > 0 {
		var err error
		if ns, err = readPIDNS(rd, procRoot, o.PIDNamespaceOf); err != nil {
			return err
		}
		// PID names a process as the namespace numbers it: found by
		// scanning, not by its directory here; the target is the match's
		// PID on this host.
		pid, r.Target.PID = 0, 0
	}
	var cands []candidate
	var nDenied int
	var deniedErr error
	if pid != 0 {
		c, ok, err := match(rd, procRoot, pid, o, ns)
		switch {
		case vanished(err):
		case errors.Is(err, fs.ErrPermission):
			nDenied, deniedErr = 1, err
		case err != nil:
			return err
		case ok:
			cands = append(cands, c)
		}
	} else {
		f, err := openDir(procRoot)
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
			c, ok, err := match(rd, procRoot, p, o, ns)
			switch {
			case vanished(err):
			case errors.Is(err, fs.ErrPermission):
				nDenied++
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
		if nDenied > 0 {
			what := fmt.Sprintf("%d processes", nDenied)
			var pe *fs.PathError
			if pid != 0 && errors.As(deniedErr, &pe) {
				what = pe.Path
			}
			r.Add(denied(pid, "", what, "sudo "+command(o, pid)))
			return fmt.Errorf("reading the process table: %w", deniedErr)
		}
		r.Add(notFound(o, pid, sel))
		return nil
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.st.startTime, b.st.startTime), cmp.Compare(a.st.pid, b.st.pid))
	})
	if len(cands) > maxMatches {
		cands = cands[:maxMatches]
	}

	if topThreads > 0 {
		for i := range cands {
			cands[i].threads = sampleThreads(rd, procRoot, cands[i].st.pid)
		}
	}
	t1 := time.Now()
	var ctxErr error
	if win <= 0 {
		ctxErr = fmt.Errorf("no time left to sample: %w", context.DeadlineExceeded)
	} else if err := window.Wait(ctx, win); err != nil {
		ctxErr = fmt.Errorf("sampling over %s: %w", win, err)
	}
	if ctxErr == nil {
		r.Window = time.Since(t1)
	}

	var bootTime int64
	var memTotal uint64
	if b, err := rd.Read(filepath.Join(procRoot, "stat")); err == nil {
		if t, err := parseBootTime(b); err == nil {
			bootTime = t
		}
	}
	if b, err := rd.Read(filepath.Join(procRoot, "meminfo")); err == nil {
		if n, err := parseMemTotal(b); err == nil {
			memTotal = n
		}
	}
	now := time.Now()
	users := map[int]string{}
	var errs []error
	for _, c := range cands {
		p, err := describe(rd, procRoot, c, r.Window, topThreads, bootTime, memTotal, now, users)
		if vanished(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
		r.Processes = append(r.Processes, p)
		judge(r, o, p, r.Window)
	}
	if len(r.Processes) == 0 {
		// Every match exited during the window.
		r.Add(notFound(o, pid, sel))
	}
	if len(r.Processes) == 1 && r.Target.PID == 0 {
		r.Target.PID = r.Processes[0].PID
	}
	return errors.Join(append(errs, ctxErr)...)
}

func notFound(o *Options, pid int, sel triage.Evidence) triage.Finding {
	what := "no process matches " + selected(o, pid)
	if o.Pidfile != "" {
		what = fmt.Sprintf("pidfile %s names pid %d, which is not running", o.Pidfile, pid)
	}
	return triage.Finding{
		Code:     CodeNotFound,
		Status:   triage.Fail,
		Summary:  what,
		Evidence: sel,
		Command:  command(o, pid),
	}
}

// match reads the first sample of one process and reports whether it
// matches the selectors. Its error is the read error, for the caller to
// sort into vanished, denied and other.
func match(rd *procfs.Reader, procRoot string, pid int, o *Options, ns pidNS) (candidate, bool, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	nsPID := 0
	if ns.ino != 0 {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, "ns", "pid"), &st); err != nil {
			return candidate{}, false, &fs.PathError{Op: "stat", Path: dir + "/ns/pid", Err: err}
		}
		if st.Ino != ns.ino {
			// A process of a PID namespace nested in it (a sandbox
			// the container runs) is one of its processes too: its
			// own ps lists it.
			in, known := ns.below[st.Ino]
			if !known {
				var err error
				if in, err = nestedPIDNS(filepath.Join(dir, "ns", "pid"), ns.ino); err != nil {
					return candidate{}, false, &fs.PathError{Op: "open", Path: dir + "/ns/pid", Err: err}
				}
				ns.below[st.Ino] = in
			}
			if !in {
				return candidate{}, false, nil
			}
		}
		b, err := rd.Read(filepath.Join(dir, "status"))
		if err != nil {
			return candidate{}, false, err
		}
		ids, err := parseNSpid(b)
		if err != nil || len(ids) <= ns.level {
			return candidate{}, false, nil
		}
		nsPID = ids[ns.level]
		if o.PID != 0 && nsPID != o.PID {
			return candidate{}, false, nil
		}
	}
	b, err := rd.Read(filepath.Join(dir, "stat"))
	if err != nil {
		return candidate{}, false, err
	}
	long := len(o.Name) > 15
	if o.Name != "" {
		comm := statComm(b)
		if long {
			if string(comm) != o.Name[:15] {
				return candidate{}, false, nil
			}
		} else if string(comm) != o.Name {
			return candidate{}, false, nil
		}
	}
	st, err := parseStat(b)
	if err != nil {
		return candidate{}, false, fmt.Errorf("%s/stat: %w", dir, err)
	}
	if o.PID != 0 && ns.ino == 0 && st.pid != o.PID {
		return candidate{}, false, nil
	}
	b, err = rd.Read(filepath.Join(dir, "cmdline"))
	if err != nil && !errors.Is(err, procfs.ErrTooLarge) {
		// A command line over procfs.MaxSize is matched and shown by
		// its start.
		return candidate{}, false, err
	}
	if long && string(argv0Base(b)) != o.Name {
		return candidate{}, false, nil
	}
	cmdline := joinArgs(b)
	if o.Cmdline != "" && !strings.Contains(cmdline, o.Cmdline) {
		return candidate{}, false, nil
	}
	return candidate{st: st, cmdline: cmdline, nsPID: nsPID}, true, nil
}

// sampleThreads samples a process's threads; nil when it has none readable.
func sampleThreads(rd *procfs.Reader, procRoot string, pid int) []taskStat {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "task")
	f, err := openDir(dir)
	if err != nil {
		return nil
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil
	}
	out := make([]taskStat, 0, len(names))
	for _, n := range names {
		b, err := rd.Read(filepath.Join(dir, n, "stat"))
		if err != nil {
			continue
		}
		st, err := parseStat(b)
		if err != nil {
			continue
		}
		out = append(out, st)
	}
	return out
}

// describe takes the second sample of a candidate and fills in
// everything ps and top show. A vanished error means it exited meanwhile
// (or its PID was reused) and is to be skipped.
func describe(rd *procfs.Reader, procRoot string, c candidate, win time.Duration, topThreads int,
	bootTime int64, memTotal uint64, now time.Time, users map[int]string) (Info, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(c.st.pid))
	st := c.st
	if win > 0 {
		b, err := rd.Read(filepath.Join(dir, "stat"))
		if err != nil {
			return Info{}, err
		}
		if st, err = parseStat(b); err != nil {
			return Info{}, fmt.Errorf("%s/stat: %w", dir, err)
		}
		if st.startTime != c.st.startTime {
			return Info{}, fs.ErrNotExist // the PID now belongs to another process
		}
	}
	p := Info{
		PID:     st.pid,
		NSPID:   c.nsPID,
		PPID:    st.ppid,
		Name:    st.comm,
		State:   string(st.state),
		Cmdline: c.cmdline,
		Threads: st.threads,
		FDs:     -1,
	}
	if win > 0 {
		p.CPUPct = cpuPct(procfs.Delta(c.st.ticks, st.ticks), win)
		p.MajorFaultsPerSec = float64(procfs.Delta(c.st.majflt, st.majflt)) / win.Seconds()
	}
	if st.rssPages > 0 {
		p.RSSBytes = uint64(st.rssPages) * uint64(os.Getpagesize())
		p.MemPct = pct(float64(p.RSSBytes), float64(memTotal))
	}
	if bootTime > 0 {
		p.Started = time.Unix(bootTime, 0).Add(time.Duration(st.startTime) * time.Second / clockTicks).UTC()
		p.Uptime = max(now.Sub(p.Started), 0)
	}

	var errs []error
	keep := func(err error) {
		if err != nil && !vanished(err) {
			errs = append(errs, err)
		}
	}
	if b, err := rd.Read(filepath.Join(dir, "status")); err == nil {
		if uid, swap, err := parseStatus(b); err == nil {
			p.UID = uid
			p.User = userName(uid, users)
			p.SwapBytes = swap
		} else {
			keep(fmt.Errorf("%s/status: %w", dir, err))
		}
	} else {
		keep(err)
	}
	if b, err := rd.Read(filepath.Join(dir, "limits")); err == nil {
		if n, err := parseLimitsNofile(b); err == nil {
			p.FDLimit = n
		} else {
			keep(fmt.Errorf("%s/limits: %w", dir, err))
		}
	} else {
		keep(err)
	}
	if p.State != "Z" {
		n, err := procfs.CountEntries(filepath.Join(dir, "fd"))
		if vanished(err) {
			return Info{}, err
		}
		keep(err)
		if err == nil {
			p.FDs = n
			if p.FDLimit > 0 {
				p.FDsPct = pct(float64(n), float64(p.FDLimit))
			}
		}
	}
	if topThreads > 0 && win > 0 && len(c.threads) > 0 {
		for _, t2 := range sampleThreads(rd, procRoot, st.pid) {
			for _, t1 := range c.threads {
				if t1.pid != t2.pid || t1.startTime != t2.startTime {
					continue
				}
				if d := procfs.Delta(t1.ticks, t2.ticks); d > 0 {
					p.HotThreads = append(p.HotThreads, Thread{
						TID: t2.pid, Name: t2.comm, State: string(t2.state), CPUPct: cpuPct(d, win),
					})
				}
				break
			}
		}
		slices.SortFunc(p.HotThreads, func(a, b Thread) int {
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

// judge adds the findings for one process.
func judge(r *Result, o *Options, p Info, win time.Duration) {
	who := fmt.Sprintf("pid %d (%s)", p.PID, p.Name)
	pidAttr, nameAttr := slog.Int(triage.KeyPID, p.PID), slog.String(triage.KeyProcess, p.Name)
	psCmd := fmt.Sprintf("ps -o pid,ppid,user,stat,%%cpu,%%mem,nlwp,lstart,cmd -p %d", p.PID)
	switch p.State {
	case "Z":
		r.Add(triage.Finding{
			Code:     CodeZombie,
			Status:   triage.Fail,
			Summary:  fmt.Sprintf("%s is a zombie: it exited and parent %d has not reaped it", who, p.PPID),
			Evidence: triage.Evidence{pidAttr, slog.Int("ppid", p.PPID), nameAttr},
			Command:  psCmd,
		})
		return
	case "D":
		ev := triage.Evidence{pidAttr, nameAttr}
		wchan := ""
		if b, err := procfs.ReadFile(filepath.Join(cmp.Or(o.ProcRoot, "/proc"), strconv.Itoa(p.PID), "wchan")); err == nil {
			if w := string(bytes.TrimSpace(b)); w != "" && w != "0" {
				wchan = " in " + w
				ev = append(ev, slog.String("wchan", w))
			}
		}
		r.Add(triage.Finding{
			Code:     CodeUninterruptible,
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
		Code:   CodeRunning,
		Status: triage.OK,
		Summary: fmt.Sprintf("%s running as %s, state %s, up %s, cpu %.1f%%, rss %s (%.1f%%), %d threads, %s",
			who, p.User, p.State, p.Uptime.Round(time.Second), p.CPUPct, human.Bytes(p.RSSBytes), p.MemPct, p.Threads, fds),
		Evidence: triage.Evidence{pidAttr, nameAttr, slog.String("state", p.State), slog.Duration("uptime_ns", p.Uptime)},
		Command:  psCmd,
	})
	if fdsPct := cmp.Or(o.FDsPct, 80); p.FDs >= 0 && p.FDLimit > 0 && p.FDsPct >= fdsPct {
		r.Add(triage.Finding{
			Code:   CodeFDsNearLimit,
			Status: level(p.FDsPct >= 95),
			Summary: fmt.Sprintf("%s has %d open files of its soft limit %d (%.1f%%)",
				who, p.FDs, p.FDLimit, p.FDsPct),
			Evidence: triage.Evidence{pidAttr, nameAttr, slog.Int("fds", p.FDs),
				slog.Uint64("fd_limit", p.FDLimit), slog.Float64("fds_pct", p.FDsPct)},
			Command: fmt.Sprintf("ls /proc/%d/fd | wc -l; grep 'open files' /proc/%d/limits", p.PID, p.PID),
		})
	}
	hot := cmp.Or(o.ThreadHotPct, 90)
	for _, t := range p.HotThreads {
		if win < MinJudgeWindow {
			break
		}
		if t.CPUPct < hot {
			break
		}
		r.Add(triage.Finding{
			Code:   CodeThreadHot,
			Status: triage.Warn,
			Summary: fmt.Sprintf("thread %d (%s) of %s used %.1f%% of a core over %s",
				t.TID, t.Name, who, t.CPUPct, win.Round(time.Millisecond)),
			Evidence: triage.Evidence{pidAttr, nameAttr, slog.Int("tid", t.TID), slog.String("thread", t.Name),
				slog.Float64("cpu_pct", t.CPUPct), slog.Duration("window_ns", win)},
			Command: fmt.Sprintf("top -H -b -n 1 -p %d | head -20", p.PID),
		})
	}
	if faults := cmp.Or(o.MajorFaultsPerSec, 50); win >= MinJudgeWindow && p.SwapBytes > 0 && p.MajorFaultsPerSec >= faults {
		r.Add(triage.Finding{
			Code:   CodeSwapping,
			Status: triage.Warn,
			Summary: fmt.Sprintf("%s has %s in swap and took %.0f major page faults a second over %s: its memory comes back from disk as it runs",
				who, human.Bytes(p.SwapBytes), p.MajorFaultsPerSec, win.Round(time.Millisecond)),
			Evidence: triage.Evidence{pidAttr, nameAttr, slog.Uint64("swap_bytes", p.SwapBytes),
				slog.Float64("major_faults_per_sec", p.MajorFaultsPerSec), slog.Duration("window_ns", win)},
			Command: fmt.Sprintf("grep VmSwap /proc/%d/status; ps -o pid,maj_flt,rss,cmd -p %d; vmstat 1 5", p.PID, p.PID),
		})
	}
	recent := cmp.Or(o.RecentStart, 5*time.Minute)
	if recent > 0 && !p.Started.IsZero() && p.Uptime < recent {
		r.Add(triage.Finding{
			Code:   CodeRestartedRecently,
			Status: triage.Warn,
			Summary: fmt.Sprintf("%s started %s ago, at %s",
				who, p.Uptime.Round(time.Second), p.Started.Format(time.RFC3339)),
			Evidence: triage.Evidence{pidAttr, nameAttr, slog.Duration("uptime_ns", p.Uptime),
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
		r.Add(denied(p.PID, p.Name, what, cmd))
	}
}

func denied(pid int, name, what, cmd string) triage.Finding {
	subject := what
	if pid != 0 {
		subject = fmt.Sprintf("%s of pid %d", what, pid)
		if name != "" {
			subject += " (" + name + ")"
		}
	}
	return triage.Finding{
		Code:     CodePermissionDenied,
		Status:   triage.Unknown,
		Summary:  fmt.Sprintf("permission denied reading %s; run as root or as its owner", subject),
		Evidence: triage.Evidence{slog.Int(triage.KeyPID, pid), slog.String("what", what), slog.String(triage.KeyProcess, name)},
		Command:  cmd,
	}
}

// openDir opens a directory to list, without waiting on a FIFO put in
// its place.
func openDir(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
}

// vanished reports errors that mean the process is gone.
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// cpuPct is CPU time in clock ticks over a window, in percent of one core.
func cpuPct(ticks uint64, win time.Duration) float64 {
	if win <= 0 {
		return 0
	}
	return float64(ticks) / clockTicks / win.Seconds() * 100
}

// pct is part in percent of whole; zero when whole is.
func pct(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return part / whole * 100
}

func level(fail bool) triage.Status {
	if fail {
		return triage.Fail
	}
	return triage.Warn
}

// userName looks a UID up once per check; the UID as text when the
// user database has no name for it.
func userName(uid int, cache map[int]string) string {
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

// selectors are the evidence of what was asked for.
func selectors(o *Options) triage.Evidence {
	var ev triage.Evidence
	if o.Name != "" {
		ev = append(ev, slog.String(triage.KeyProcess, o.Name))
	}
	if o.Cmdline != "" {
		ev = append(ev, slog.String("cmdline", o.Cmdline))
	}
	if o.PID != 0 {
		ev = append(ev, slog.Int(triage.KeyPID, o.PID))
	}
	if o.Pidfile != "" {
		ev = append(ev, slog.String("pidfile", o.Pidfile))
	}
	return ev
}

// selected says in words what was asked for.
func selected(o *Options, pid int) string {
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

// command is the ps or pgrep line that finds what was asked for.
func command(o *Options, pid int) string {
	switch {
	case pid != 0:
		return fmt.Sprintf("ps -o pid,ppid,stat,cmd -p %d", pid)
	case o.Name != "":
		return "pgrep -a -x " + human.Quote(o.Name)
	default:
		return "pgrep -a -f " + human.Quote(o.Cmdline)
	}
}
