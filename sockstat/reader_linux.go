//go:build linux

package sockstat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/triagekit/triage"
	"golang.org/x/sys/unix"
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
	o        *Options
	fileOnly bool
	ns       *os.File
	conn     *netlink.Conn
	peek     bool    // a datagram did not fit: use a larger buffer
	buf      *[]byte // receive buffer, reused across dumps
	src      Source
}

func newReader(ctx context.Context, o *Options) (reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sockstat: %w", err)
	}
	r := &linuxReader{o: o, src: Source{Name: "netlink"}}
	if filepath.Clean(o.ProcRoot) != "/proc" {
		r.fileOnly = true
		r.src = Source{Name: "proc"}
	}
	if o.NetNS != "" && !r.fileOnly {
		f, err := os.Open(o.NetNS)
		if err != nil {
			return nil, fmt.Errorf("sockstat: network namespace: %w", err)
		}
		var st unix.Statfs_t
		if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || (st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC) {
			f.Close()
			return nil, fmt.Errorf("%w: %s is not a namespace file", triage.ErrInvalid, o.NetNS)
		}
		r.ns = f
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
			errc <- fmt.Errorf("sockstat: entering %s: %w", r.o.NetNS, err)
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

// open opens a file of the namespace's /proc: "net/tcp",
// "sys/net/ipv4/ip_local_port_range". A file opened inside a namespace
// keeps showing that namespace wherever it is read.
func (r *linuxReader) open(name string) (*os.File, error) {
	if r.fileOnly || r.ns == nil {
		return os.Open(filepath.Join(r.o.ProcRoot, name))
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

func (r *linuxReader) readFile(name string) ([]byte, error) {
	f, err := r.open(name)
	if err != nil {
		return nil, fmt.Errorf("sockstat: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("sockstat: %w", err)
	}
	return b, nil
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
	return receiveDump(c, r.buf, reqs, fn)
}

func receiveDump(c *netlink.Conn, buf *[]byte, reqs []diagRequest, fn func(*diagMsg)) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	for _, q := range reqs {
		req := netlink.Message{
			Header: netlink.Header{Type: sockDiagByFamily, Flags: netlink.Request | netlink.Dump},
			Data:   q.marshal(),
		}
		sent, err := c.Send(req)
		if err != nil {
			return err
		}
		if err := receive(rc, *buf, sent.Header.Sequence, fn); err != nil {
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

// findOwners fills want (socket inode -> processes) by reading the fd
// tables under procRoot, like ss -p, in parallel. It stops once every
// inode has an owner or the context ends; processes that vanish or that
// it may not read are skipped. One owner is recorded per socket.
func findOwners(ctx context.Context, procRoot string, want map[uint64][]Process) error {
	if len(want) == 0 {
		return nil
	}
	d, err := os.Open(procRoot)
	if err != nil {
		return fmt.Errorf("sockstat: owners: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("sockstat: owners: %w", err)
	}
	var (
		mu       sync.Mutex
		left     atomic.Int64
		denied   atomic.Int64
		jobs     = make(chan string)
		wg       sync.WaitGroup
		found    = make(map[uint64]Process, len(want))
		workers  = min(8, max(2, 2*runtime.GOMAXPROCS(0)))
		selfComm = func(pid string) string {
			b, err := os.ReadFile(filepath.Join(procRoot, pid, "comm"))
			if err != nil {
				return ""
			}
			return string(bytes.TrimSpace(b))
		}
	)
	left.Store(int64(len(want)))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 128)
			for pid := range jobs {
				if left.Load() <= 0 || ctx.Err() != nil {
					continue
				}
				hits, err := scanFDs(filepath.Join(procRoot, pid, "fd"), want, buf)
				if errors.Is(err, os.ErrPermission) {
					denied.Add(1)
				}
				if len(hits) == 0 {
					continue
				}
				p, _ := strconv.Atoi(pid)
				proc := Process{PID: p, Name: selfComm(pid)}
				mu.Lock()
				for _, ino := range hits {
					if _, ok := found[ino]; !ok {
						found[ino] = proc
						left.Add(-1)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, n := range names {
		if n == "" || n[0] < '0' || n[0] > '9' {
			continue
		}
		if left.Load() <= 0 || ctx.Err() != nil {
			break
		}
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	for ino, p := range found {
		want[ino] = []Process{p}
	}
	if left.Load() > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sockstat: owners of %d sockets: %w", left.Load(), err)
		}
		if denied.Load() > 0 {
			return fmt.Errorf("sockstat: owners of %d sockets unknown, %d processes unreadable: %w", left.Load(), denied.Load(), os.ErrPermission)
		}
	}
	return nil
}

// scanFDs returns the wanted socket inodes among a process's open files.
func scanFDs(dir string, want map[uint64][]Process, buf []byte) ([]uint64, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var hits []uint64
	for _, n := range names {
		k, err := unix.Readlinkat(fd, n, buf)
		if err != nil || k < 10 {
			continue
		}
		l := buf[:k]
		rest, ok := bytes.CutPrefix(l, []byte("socket:["))
		if !ok || rest[len(rest)-1] != ']' {
			continue
		}
		ino, err := strconv.ParseUint(string(rest[:len(rest)-1]), 10, 64)
		if err != nil {
			continue
		}
		if _, ok := want[ino]; ok {
			hits = append(hits, ino)
		}
	}
	return hits, nil
}
