package diskcheck

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/triagekit/triage/internal/window"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage/internal/procfs"
)

func check(ctx context.Context, o *Options, r *Result) error {
	if err := o.validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	procRoot := cmp.Or(o.ProcRoot, "/proc")
	now := o.Now
	if now == nil {
		now = time.Now
	}
	timeout := cmp.Or(o.StatfsTimeout, DefaultStatfsTimeout)
	v := hostView
	var mounts []mount
	var err error
	if o.PID > 0 {
		v, mounts, err = openView(procRoot, o.PID)
		if err != nil {
			return err
		}
		defer v.close()
	} else if mounts, err = readMountinfo(procRoot); err != nil {
		return err
	}

	fss, errs := selectFilesystems(ctx, o, v, mounts, timeout)
	sample(ctx, v, fss, timeout, now)

	switch {
	case o.GrowthInterval > 0:
		first := make([]Filesystem, len(fss))
		for i := range fss {
			first[i] = *fss[i]
		}
		if err := window.Wait(ctx, window.Fit(ctx, o.GrowthInterval)); err != nil {
			errs = append(errs, fmt.Errorf("growth sample: %w", err))
			break
		}
		sample(ctx, v, fss, timeout, now)
		for i := range fss {
			if first[i].measured() && fss[i].measured() {
				fss[i].Growth = growth(&first[i], fss[i])
			}
		}
	case o.Previous != nil:
		for _, fs := range fss {
			for i := range o.Previous.Filesystems {
				prev := &o.Previous.Filesystems[i]
				if prev.MountID == fs.MountID && prev.MountPoint == fs.MountPoint && prev.measured() && fs.measured() {
					fs.Growth = growth(prev, fs)
				}
			}
		}
	}

	if o.Probe {
		probeAll(ctx, v, fss, timeout)
	}
	if o.DeletedOpen {
		if err := attachDeleted(ctx, procRoot, mounts, fss); err != nil {
			errs = append(errs, err)
		}
		r.DeletedOpenScanned = true
	}

	t := o.thresholds()
	for _, fs := range fss {
		r.Filesystems = append(r.Filesystems, *fs)
		r.Add(fs.findings(t)...)
		if fs.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fs.MountPoint, fs.Err))
		}
	}
	return errors.Join(errs...)
}

// readMountinfo reads the mount table of procRoot/self.
func readMountinfo(procRoot string) ([]mount, error) {
	// Bounded and without blocking: a ProcRoot may be a container's.
	b, err := procfs.ReadFile(filepath.Join(procRoot, "self", "mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	return parseMountinfo(bytes.NewReader(b))
}

func newFilesystem(m mount) *Filesystem {
	return &Filesystem{
		MountID:    m.id,
		Device:     m.source,
		Dev:        m.dev(),
		MountPoint: m.point,
		Root:       m.root,
		Type:       m.fstype,
		Options:    m.options,
		ReadOnly:   m.readOnly(),
	}
}

func selectFilesystems(ctx context.Context, o *Options, v view, mounts []mount, timeout time.Duration) ([]*Filesystem, []error) {
	var fss []*Filesystem
	var errs []error
	byID := map[int]*Filesystem{}
	add := func(m mount) *Filesystem {
		if fs, ok := byID[m.id]; ok {
			return fs
		}
		fs := newFilesystem(m)
		byID[m.id] = fs
		fss = append(fss, fs)
		return fs
	}
	vis := visible(mounts)
	for _, p := range o.Paths {
		if v.root != nil {
			// Inside the process's root: the mount that holds the path
			// after its links are followed there, by mount id.
			if !filepath.IsAbs(p) {
				errs = append(errs, fmt.Errorf("%s: a path in pid %d must be absolute", p, v.pid))
				continue
			}
			lexical, ok := holder(vis, filepath.Clean(p))
			if !ok {
				errs = append(errs, fmt.Errorf("%s: no mount of pid %d holds it", p, v.pid))
				continue
			}
			id, stuck, err := calls.do(ctx, v.key("resolve", p), timeout, func() (any, error) { return v.mountID(p) })
			if errors.Is(err, ErrStuckMount) {
				fs := add(lexical)
				fs.Paths = append(fs.Paths, p)
				fs.Stuck = fs.Stuck || stuck
				fs.Err, fs.Error = err, err.Error()
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s in pid %d: %w", p, v.pid, err))
				continue
			}
			m := lexical
			for _, x := range mounts {
				if x.id == id.(int) {
					m = x
				}
			}
			fs := add(m)
			fs.Paths = append(fs.Paths, p)
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		lexical, ok := holder(vis, abs)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no mount holds it", p))
			continue
		}
		// Resolving symlinks touches every component, which blocks on a
		// stuck mount like statfs does, so it goes through the same guard.
		v, stuck, err := calls.do(ctx, "resolve "+abs, timeout, func() (any, error) { return filepath.EvalSymlinks(abs) })
		if errors.Is(err, ErrStuckMount) {
			fs := add(lexical)
			fs.Paths = append(fs.Paths, p)
			fs.Stuck = fs.Stuck || stuck
			fs.Err = err
			fs.Error = err.Error()
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		m, ok := holder(vis, v.(string))
		if !ok {
			m = lexical
		}
		fs := add(m)
		fs.Paths = append(fs.Paths, p)
	}
	if len(o.Paths) == 0 || o.All {
		have := map[string]bool{}
		for _, fs := range fss {
			have[fs.Dev] = true
		}
		for _, m := range realFilesystems(mounts) {
			if !have[m.dev()] {
				add(m)
			}
		}
	}
	return fss, errs
}

// sample takes statfs of every filesystem not already known to be stuck,
// all at once, each through the in-flight guard: every call is started
// before any is waited for, so a stuck mount costs the timeout once.
func sample(ctx context.Context, v view, fss []*Filesystem, timeout time.Duration, now func() time.Time) {
	started := make([]*call, len(fss))
	for i, fs := range fss {
		if fs.Err != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			fs.Err, fs.Error = err, err.Error()
			continue
		}
		started[i] = startStatfsIn(v, fs.MountPoint, now)
	}
	for i, c := range started {
		if c == nil {
			continue
		}
		fs := fss[i]
		a, stuck, err := statfsResult(c.wait(ctx, timeout))
		if err != nil {
			fs.Stuck, fs.Err, fs.Error = stuck, err, err.Error()
			continue
		}
		st := a.st
		frsize := uint64(st.Frsize)
		if frsize == 0 {
			frsize = uint64(st.Bsize)
		}
		fs.fill(statfsValues{
			frsize: frsize,
			blocks: st.Blocks, bfree: st.Bfree, bavail: st.Bavail,
			files: st.Files, ffree: st.Ffree,
		}, a.at)
		fs.ReadOnly = fs.ReadOnly || st.Flags&unix.ST_RDONLY != 0
	}
}

func probeAll(ctx context.Context, v view, fss []*Filesystem, timeout time.Duration) {
	var wg sync.WaitGroup
	for _, fs := range fss {
		if !fs.measured() || readOnlyTypes[fs.Type] {
			continue
		}
		dirs := []string{}
		for _, p := range fs.Paths {
			dirs = append(dirs, probeDirFor(v, p))
		}
		if len(dirs) == 0 {
			dirs = append(dirs, fs.MountPoint)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, dir := range dirs {
				res, stuck, err := calls.do(ctx, v.key("probe", dir), timeout, func() (any, error) { return probe(v, dir), nil })
				if err != nil {
					fs.Stuck = fs.Stuck || stuck
					fs.Err, fs.Error = err, err.Error()
					return
				}
				fs.Probe = res.(*Probe)
				if !fs.Probe.OK {
					return
				}
			}
		}()
	}
	wg.Wait()
}

func probeDirFor(v view, p string) string {
	var st unix.Stat_t
	var err error
	if v.root == nil {
		err = unix.Stat(p, &st)
	} else {
		var fd int
		if fd, err = v.open(p); err == nil {
			err = unix.Fstat(fd, &st)
			unix.Close(fd)
		}
	}
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return filepath.Dir(p)
	}
	return p
}

// probe creates, writes, fsyncs and removes a temporary file in dir of
// view v. In a process's view the file is made in a descriptor of dir
// opened inside its root, by a name of one component that must not exist
// yet, and no link is followed.
func probe(v view, dir string) *Probe {
	if v.root != nil {
		return probeIn(v, dir)
	}
	p := &Probe{Dir: dir}
	fail := p.failed
	f, err := os.CreateTemp(dir, ".triage-probe-*")
	if err != nil {
		return fail("create", err)
	}
	name := f.Name()
	defer os.Remove(name)
	// A whole block, so a filesystem with inodes but no bytes left fails.
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		f.Close()
		return fail("write", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fail("fsync", err)
	}
	if err := f.Close(); err != nil {
		return fail("write", err)
	}
	if err := os.Remove(name); err != nil {
		return fail("remove", err)
	}
	p.OK = true
	return p
}

// failed fills p with the operation that failed and its error.
func (p *Probe) failed(op string, err error) *Probe {
	p.Op, p.Err, p.Error = op, err, err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		p.Errno = unix.ErrnoName(errno)
	}
	if p.Errno == "" {
		p.Errno = "unknown"
	}
	return p
}

// probeIn is probe in a process's view.
func probeIn(v view, dir string) *Probe {
	p := &Probe{Dir: dir}
	dfd, err := v.openat2(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS)
	if err != nil {
		return p.failed("create", &os.PathError{Op: "open", Path: dir, Err: err})
	}
	defer unix.Close(dfd)
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf(".triage-probe-%x", rnd)
	path := filepath.Join(dir, name)
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return p.failed("create", &os.PathError{Op: "open", Path: path, Err: err})
	}
	f := os.NewFile(uintptr(fd), path)
	defer unix.Unlinkat(dfd, name, 0)
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		f.Close()
		return p.failed("write", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return p.failed("fsync", err)
	}
	if err := f.Close(); err != nil {
		return p.failed("write", err)
	}
	if err := unix.Unlinkat(dfd, name, 0); err != nil {
		return p.failed("remove", &os.PathError{Op: "remove", Path: path, Err: err})
	}
	p.OK = true
	return p
}

// statfsAnswer is what a statfs call through the guard gives: the numbers
// and when they were read.
type statfsAnswer struct {
	st unix.Statfs_t
	at time.Time
}

// startStatfsIn starts statfs of point in view v through the in-flight
// guard: at most one call per mount point and view in the process. Check
// and Usage share it, so a caller joining the other's call gets the same
// kind of value.
func startStatfsIn(v view, point string, now func() time.Time) *call {
	return calls.start(v.key("statfs", point), func() (any, error) {
		var st unix.Statfs_t
		if err := v.statfs(point, &st); err != nil {
			return nil, &os.PathError{Op: "statfs", Path: point, Err: err}
		}
		return statfsAnswer{st, now()}, nil
	})
}

// statfsResult reads what [call.wait] returned for a statfs call.
func statfsResult(v any, stuck bool, err error) (statfsAnswer, bool, error) {
	if err != nil {
		return statfsAnswer{}, stuck, err
	}
	a, ok := v.(statfsAnswer)
	if !ok {
		return statfsAnswer{}, false, fmt.Errorf("diskcheck: statfs: unexpected %T", v)
	}
	return a, false, nil
}
