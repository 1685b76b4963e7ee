//go:build linux

package sockstat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/triagekit/triage"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage/internal/procfs"
)

// dumpRetries is how often a dump the kernel interrupted, or one that lost
// messages to a full receive buffer, is started over.
const dumpRetries = 3

// recvBuffer is the receive buffer. The kernel fills dump datagrams up to
// 32 KiB; should one not fit, the dump is retried with 1 MiB.
const recvBuffer = 64 << 10

var (
	errDumpIntr  = errors.New("dump interrupted")
	errTruncated = errors.New("netlink datagram truncated")
)

type linuxReader struct {
	netns    string
	procRoot string
	fileOnly bool
	ns       *os.File
	conn     *netlink.Conn
	peek     bool    // a datagram did not fit: use a larger buffer
	perFam   bool    // TCPDIAG_GETSOCK failed: one request per family
	buf      *[]byte // receive buffer, reused across dumps
	src      Source
}

func newReader(ctx context.Context, c config) (reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sockstat: %w", err)
	}
	r := &linuxReader{netns: c.netns, procRoot: c.procRoot, src: Source{Name: "netlink"}}
	if filepath.Clean(r.procRoot) != "/proc" || c.noNetlink {
		r.fileOnly = true
		r.src = Source{Name: "proc"}
	}
	if r.netns != "" && !r.fileOnly {
		f, err := os.Open(r.netns)
		if err != nil {
			return nil, fmt.Errorf("sockstat: network namespace: %w", err)
		}
		var st unix.Statfs_t
		if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || (st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC) {
			f.Close()
			return nil, fmt.Errorf("%w: %s is not a namespace file", triage.ErrInvalid, r.netns)
		}
		r.ns = f
	}
	switch {
	case r.ns != nil:
		var st unix.Stat_t
		if unix.Fstat(int(r.ns.Fd()), &st) == nil {
			r.src.NetNS = st.Ino
		}
	case !r.fileOnly:
		var st unix.Stat_t
		if unix.Stat("/proc/thread-self/ns/net", &st) == nil {
			r.src.NetNS = st.Ino
		}
	}
	return r, nil
}

func (r *linuxReader) source() Source { return r.src }

func (r *linuxReader) close() {
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	if r.ns != nil {
		r.ns.Close()
	}
}

// inNS runs fn on a thread inside the namespace (or here, without one).
func (r *linuxReader) inNS(fn func() error) error {
	if r.ns == nil {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(r.ns.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("sockstat: entering %s: %w", r.netns, err)
			return
		}
		err = fn()
		// A thread that cannot go back stays locked and dies with this
		// goroutine instead of serving others from the wrong namespace.
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// openRegular opens path for reading without blocking and refuses what
// is not a regular file: a ProcRoot may be a fixture or a container's, and
// a FIFO there would hold open(2) until a writer came.
func openRegular(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		if err == nil {
			err = procfs.ErrNotRegular
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// open opens a file of the namespace's /proc: "net/tcp",
// "sys/net/ipv4/ip_local_port_range". A file opened inside a namespace
// keeps showing that namespace wherever it is read.
func (r *linuxReader) open(name string) (*os.File, error) {
	if r.fileOnly || r.ns == nil {
		return openRegular(filepath.Join(r.procRoot, name))
	}
	var f *os.File
	err := r.inNS(func() error {
		var err error
		if p, ok := bytes.CutPrefix([]byte(name), []byte("net/")); ok {
			f, err = os.Open("/proc/thread-self/net/" + string(p))
		} else {
			f, err = os.Open("/proc/" + name)
		}
		return err
	})
	return f, err
}

// localAddrs reads the addresses of the namespace's interfaces.
func (r *linuxReader) localAddrs() map[netip.Addr]bool {
	if r.fileOnly {
		return nil
	}
	var ifas []net.Addr
	if err := r.inNS(func() (err error) {
		ifas, err = net.InterfaceAddrs()
		return err
	}); err != nil {
		return nil
	}
	mine := make(map[netip.Addr]bool, len(ifas))
	for _, ifa := range ifas {
		if p, err := netip.ParsePrefix(ifa.String()); err == nil {
			mine[p.Addr().Unmap().WithZone("")] = true
		}
	}
	return mine
}

// readFile reads a small file of the namespace's /proc whole. It uses the
// descriptor directly: a short command reads a few of these, and the
// bookkeeping of an os.File costs more than the read.
func (r *linuxReader) readFile(name string) ([]byte, error) {
	path := filepath.Join(r.procRoot, name)
	var fd int
	var err error
	if r.fileOnly || r.ns == nil {
		fd, err = openRead(path)
	} else {
		err = r.inNS(func() (err error) {
			if p, ok := strings.CutPrefix(name, "net/"); ok {
				fd, err = openRead("/proc/thread-self/net/" + p)
			} else {
				fd, err = openRead("/proc/" + name)
			}
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("sockstat: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 4096)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, fmt.Errorf("sockstat: %w", &os.PathError{Op: "read", Path: path, Err: err})
		case n == 0:
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

func openRead(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func (r *linuxReader) dial() error {
	if r.conn != nil {
		return nil
	}
	cfg := &netlink.Config{}
	if r.ns != nil {
		cfg.NetNS = int(r.ns.Fd())
	}
	c, err := netlink.Dial(unix.NETLINK_SOCK_DIAG, cfg)
	if err != nil {
		return err
	}
	r.conn = c
	return nil
}

func (r *linuxReader) drop() {
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
}

// fallbackErr reports whether err means sock_diag cannot be used here, so
// that /proc must be read instead.
func fallbackErr(err error) bool {
	for _, e := range []error{unix.EPROTONOSUPPORT, unix.EPERM, unix.EACCES, unix.ENOENT, unix.EOPNOTSUPP, unix.EAFNOSUPPORT, unix.EINVAL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func retryErr(err error) bool {
	return errors.Is(err, errDumpIntr) || errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EINTR) || isTruncated(err)
}

func isTruncated(err error) bool { return errors.Is(err, errTruncated) }

func (r *linuxReader) dump(ctx context.Context, reqs []diagRequest, reset func(), fn func(*diagMsg)) error {
	if r.src.Name == "proc" {
		reset()
		return r.procDump(ctx, reqs, fn)
	}
	var err error
	for attempt := 0; attempt <= dumpRetries; attempt++ {
		reset()
		err = r.dial()
		if err == nil {
			err = r.dumpOnce(ctx, reqs, fn)
		}
		if err == nil {
			return nil
		}
		r.drop()
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("sockstat: sock_diag dump: %w", cerr)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The socket's deadline is the context's, a hair early.
			return fmt.Errorf("sockstat: sock_diag dump: %w", context.DeadlineExceeded)
		}
		var bf errBothFamilies
		if errors.As(err, &bf) && !r.perFam {
			r.perFam = true
			attempt--
			continue
		}
		if fallbackErr(err) {
			r.src = Source{Name: "proc", Fallback: "sock_diag: " + err.Error()}
			reset()
			return r.procDump(ctx, reqs, fn)
		}
		if !retryErr(err) {
			return fmt.Errorf("sockstat: sock_diag dump: %w", err)
		}
		if isTruncated(err) {
			r.peek, r.buf = true, nil
		}
	}
	if errors.Is(err, errDumpIntr) {
		return fmt.Errorf("%w: %d attempts", ErrDumpInterrupted, dumpRetries+1)
	}
	return fmt.Errorf("sockstat: sock_diag dump after %d attempts: %w", dumpRetries+1, err)
}

// dumpOnce sends each request and reads its reply under the context's
// deadline; cancelling the context unblocks a pending read.
func (r *linuxReader) dumpOnce(ctx context.Context, reqs []diagRequest, fn func(*diagMsg)) error {
	c := r.conn
	dl, _ := ctx.Deadline() // zero: no deadline
	if err := c.SetDeadline(dl); err != nil {
		return err
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = c.SetDeadline(time.Unix(1, 0))
	})
	defer func() {
		if !stop() {
			<-fired
		}
	}()
	if r.buf == nil {
		size := recvBuffer
		if r.peek {
			size = 1 << 20
		}
		b := make([]byte, size)
		r.buf = &b
	}
	if !r.perFam {
		reqs = mergeFamilies(reqs)
	}
	return receiveDump(c, r.buf, reqs, fn)
}

// errBothFamilies marks a failed TCPDIAG_GETSOCK request: the dump is
// retried with one request per family.
type errBothFamilies struct{ err error }

func (e errBothFamilies) Error() string { return "TCPDIAG_GETSOCK: " + e.err.Error() }
func (e errBothFamilies) Unwrap() error { return e.err }

func receiveDump(c *netlink.Conn, buf *[]byte, reqs []diagRequest, fn func(*diagMsg)) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	for _, q := range reqs {
		req := netlink.Message{
			Header: netlink.Header{Type: netlink.HeaderType(q.msgType()), Flags: netlink.Request | netlink.Dump},
			Data:   q.marshal(),
		}
		sent, err := c.Send(req)
		if err == nil {
			err = receive(rc, *buf, sent.Header.Sequence, fn)
		}
		if err != nil {
			var en errnoError
			if q.bothFamilies && errors.As(err, &en) {
				return errBothFamilies{err}
			}
			return err
		}
	}
	return nil
}

// receive reads one dump's datagrams into buf and hands each socket to
// fn. It reads the socket directly rather than through the library's
// iterator, which allocates per message: the dump's cost then stays in
// the kernel, and memory does not grow with the number of sockets.
// Reads wait in the runtime's poller, so the socket's deadline applies.
func receive(rc syscall.RawConn, buf []byte, seq uint32, fn func(*diagMsg)) error {
	intr := false
	for {
		var n, flags int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			for {
				n, _, flags, _, rerr = unix.Recvmsg(int(fd), buf, nil, 0)
				if rerr != unix.EINTR {
					break
				}
			}
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
		if flags&unix.MSG_TRUNC != 0 {
			return errTruncated
		}
		done, dintr, err := parseDatagram(buf[:n], seq, fn)
		intr = intr || dintr
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	if intr {
		return errDumpIntr
	}
	return nil
}

// procDump answers the requests from /proc/net/{tcp,tcp6,udp,udp6},
// applying the state and port filters the kernel would have applied.
func (r *linuxReader) procDump(ctx context.Context, reqs []diagRequest, fn func(*diagMsg)) error {
	for _, q := range reqs {
		name := "net/tcp"
		if q.protocol == protoUDP {
			name = "net/udp"
		}
		if q.family == afInet6 {
			name += "6"
		}
		f, err := r.open(name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && q.family == afInet6 {
				continue // IPv6 disabled
			}
			return fmt.Errorf("sockstat: %w", err)
		}
		n := 0
		err = parseProcNet(f, q.family, func(m *diagMsg) bool {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return false
			}
			if q.states.has(m.state) && matchFilter(q.filter, m) {
				fn(m)
			}
			return true
		})
		f.Close()
		if err != nil {
			return fmt.Errorf("sockstat: %s: %w", name, err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sockstat: %s: %w", name, err)
		}
	}
	return nil
}

// kernelCountsCloseWait reports whether Tcp.CurrEstab includes CLOSE-WAIT
// sockets, which it does since Linux 6.10.
func kernelCountsCloseWait() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return releaseAtLeast(unix.ByteSliceToString(u.Release[:]), 6, 10)
}
