//go:build linux

package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
)

// ErrGone is returned (wrapped) when the process exited, or its PID now
// belongs to another process.
var ErrGone = errors.New("container: process is gone")

// Container is the namespaces of a process, held open: they stay the
// same namespaces, and valid, after the process exits, until Close.
type Container struct {
	pid    int
	netns  string // what was opened, for errors
	net    *os.File
	mnt    *os.File // nil when only a network namespace is held
	root   *os.File // O_PATH directory: the process's root; nil with mnt
	netIno uint64

	mu     sync.Mutex
	closed bool
	busy   sync.WaitGroup // uses of the descriptors under way
}

// Open holds the network and mount namespaces and the root directory of
// process pid.
func Open(pid int) (*Container, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("%w: pid %d", triage.ErrInvalid, pid)
	}
	// A pidfd names this process and no other: checked after the files
	// are open, it proves they are this process's, not those of a
	// process that took its PID in between.
	pidfd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil, fmt.Errorf("%w: pid %d", ErrGone, pid)
	case errors.Is(err, unix.ENOSYS):
		pidfd = -1 // before Linux 5.3: the files alone
	case err != nil:
		return nil, fmt.Errorf("container: pid %d: %w", pid, os.NewSyscallError("pidfd_open", err))
	default:
		defer unix.Close(pidfd)
	}
	c := &Container{pid: pid, netns: fmt.Sprintf("/proc/%d/ns/net", pid)}
	dir := "/proc/" + strconv.Itoa(pid)
	if c.net, err = openNS(dir+"/ns/net", pid); err != nil {
		return nil, err
	}
	if c.mnt, err = openNS(dir+"/ns/mnt", pid); err != nil {
		c.net.Close()
		return nil, err
	}
	fd, err := unix.Open(dir+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.net.Close()
		c.mnt.Close()
		return nil, procErr(pid, dir+"/root", err)
	}
	c.root = os.NewFile(uintptr(fd), dir+"/root")
	if pidfd >= 0 {
		if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); errors.Is(err, unix.ESRCH) {
			c.Close()
			return nil, fmt.Errorf("%w: pid %d exited while its namespaces were opened", ErrGone, pid)
		}
	}
	if c.netIno, err = inode(c.net); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// OpenNetNS holds the network namespace of file name: a bind mount such
// as /var/run/netns/NAME (ip netns), or /proc/PID/ns/net. The result has
// no mount namespace: Open and Root report an error.
func OpenNetNS(name string) (*Container, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty namespace file", triage.ErrInvalid)
	}
	f, err := openNS(name, 0)
	if err != nil {
		return nil, err
	}
	c := &Container{net: f, netns: name}
	if c.netIno, err = inode(f); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

func openNS(name string, pid int) (*os.File, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, procErr(pid, name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || (st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC) {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a namespace file", triage.ErrInvalid, name)
	}
	return f, nil
}

// procErr names what could not be opened, as ErrGone when the process
// is no more.
func procErr(pid int, name string, err error) error {
	if pid > 0 && errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%w: pid %d", ErrGone, pid)
	}
	return fmt.Errorf("container: %w", &fs.PathError{Op: "open", Path: name, Err: err})
}

func inode(f *os.File) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, fmt.Errorf("container: %w", &fs.PathError{Op: "stat", Path: f.Name(), Err: err})
	}
	return st.Ino, nil
}

// PID is the process's PID on this host; 0 for a network namespace
// opened by file.
func (c *Container) PID() int { return c.pid }

// NetNS is the inode of the network namespace, as the kernel names it in
// its messages and in /proc/PID/ns/net ("net:[4026532178]").
func (c *Container) NetNS() uint64 { return c.netIno }

// NetNSPath is a file naming the network namespace, valid until Close,
// for options that take one (sockstat.Options.NetNS).
func (c *Container) NetNSPath() string {
	return "/proc/self/fd/" + strconv.Itoa(int(c.net.Fd()))
}

// Root is the process's root directory seen from this host
// (/proc/PID/root), for checks that read files under a prefix. A path
// under it that crosses a symbolic link is resolved against this host's
// root, not the container's: open files with [Container.Open] instead
// wherever the container controls the path.
func (c *Container) Root() (string, error) {
	if c.root == nil {
		return "", fmt.Errorf("%w: %s is a network namespace only", triage.ErrInvalid, c.netns)
	}
	return fmt.Sprintf("/proc/%d/root", c.pid), nil
}

// Open opens the file name as the process sees it, for reading: a
// relative name is taken from its root, and every symbolic link on the
// way, absolute ones included, is resolved inside that root (openat2
// RESOLVE_IN_ROOT), so that a file the container controls cannot lead to
// one of this host's. It does not block on FIFOs.
func (c *Container) Open(name string) (*os.File, error) {
	if err := c.acquire(); err != nil {
		return nil, err
	}
	defer c.busy.Done()
	if c.root == nil {
		return nil, fmt.Errorf("%w: %s is a network namespace only", triage.ErrInvalid, c.netns)
	}
	rel := path.Clean("/" + name)[1:]
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(int(c.root.Fd()), rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, fmt.Errorf("container: pid %d: %w", c.pid, &fs.PathError{Op: "open", Path: name, Err: err})
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Do runs fn inside the namespaces (network, and mount when held) on a
// thread of its own that ends with it, and returns fn's error. fn should
// honour ctx; Do waits for it either way. A panic in fn is returned as an
// error. An error entering a namespace is returned without running fn.
func (c *Container) Do(ctx context.Context, fn func() error) error {
	return c.do(ctx, true, fn)
}

func (c *Container) do(ctx context.Context, mount bool, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// The descriptors stay open while fn runs: Close waits for it.
	if err := c.acquire(); err != nil {
		return err
	}
	defer c.busy.Done()
	errc := make(chan error, 1)
	onThreadOfItsOwn(func() {
		defer func() {
			if v := recover(); v != nil {
				errc <- fmt.Errorf("container: panic inside %s: %v", c.netns, v)
			}
		}()
		if err := c.enter(mount); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	})
	return <-errc
}

// onThreadOfItsOwn runs fn on a goroutine locked to a thread that is not
// the process's main thread, and ends that thread after: the goroutine
// exits without unlocking it, so no other goroutine is ever scheduled on
// it in whatever namespace fn entered.
//
// The main thread is never used: Go cannot end it, only park it for good,
// and it is what /proc/self shows of the process (its network and mount
// namespaces), so a main thread left inside a container would make every
// later read of /proc/self/mountinfo or /proc/net the container's. When
// the goroutine lands there it holds it, locked and untouched, while a
// second goroutine, which cannot be scheduled on a locked thread, does the
// work.
func onThreadOfItsOwn(fn func()) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			fn() // and exit locked: the thread ends
			return
		}
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			defer close(done)
			fn()
		}()
		<-done
		runtime.UnlockOSThread()
	}()
}

func (c *Container) enter(mount bool) error {
	if mount && c.mnt != nil {
		// A thread shares its root and working directory with the
		// process's other threads; setns refuses a mount namespace
		// until it has its own.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("container: %w", os.NewSyscallError("unshare", err))
		}
		if err := unix.Setns(int(c.mnt.Fd()), unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("container: entering the mount namespace of pid %d: %w", c.pid, os.NewSyscallError("setns", err))
		}
	}
	if err := unix.Setns(int(c.net.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("container: entering %s: %w", c.netns, os.NewSyscallError("setns", err))
	}
	return nil
}

// DialContext dials address from inside the network namespace: the
// socket is made there and keeps that namespace when it is handed back.
// A name in address is resolved on this host; resolve it as the
// container does first (dnscheck.AppLookupVia) and dial the address.
func (c *Container) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var conn net.Conn
	err := c.do(ctx, false, func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, network, address)
		return err
	})
	return conn, err
}

// acquire marks a use of the descriptors, or fails once Close began.
func (c *Container) acquire() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("container: %w", os.ErrClosed)
	}
	c.busy.Add(1)
	return nil
}

// Close releases the namespaces, once the uses under way (a Do, an
// Open) return. It is safe to call more than once.
func (c *Container) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.busy.Wait()
	var errs []error
	for _, f := range []*os.File{c.net, c.mnt, c.root} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

var (
	errNotExist        = unix.ENOENT
	errRefused         = unix.ECONNREFUSED
	errUnreachable     = unix.ENETUNREACH
	errHostUnreachable = unix.EHOSTUNREACH
)
