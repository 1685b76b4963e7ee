package diskcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage/internal/testmount"
	"golang.org/x/sys/unix"
)

// FUSE opcodes and sizes from include/uapi/linux/fuse.h.
const (
	fuseLookup    = 1
	fuseForget    = 2
	fuseGetattr   = 3
	fuseStatfs    = 17
	fuseInit      = 26
	fuseCreate    = 35
	fuseInterrupt = 36
	fuseDestroy   = 38
	fuseBatchFgt  = 42

	fuseInHeader  = 40
	fuseOutHeader = 16
)

// stuckFUSE is a FUSE filesystem served over /dev/fuse by the raw protocol
// that answers INIT and GETATTR but holds every STATFS until released: a
// real mount whose statfs blocks in the kernel, like a dead NFS server's.
// Creating a file in it fails with createErrno, like a failing disk or a
// quota.
type stuckFUSE struct {
	dir      string
	dev      *os.File
	statfses atomic.Int32
	served   chan struct{}
	// createErrno is what creating a file fails with (EIO unless set).
	createErrno atomic.Int32
	// holdGetattr makes it hold GETATTR instead of STATFS: a mount that
	// answers statfs and holds the rest, as a dead network filesystem
	// can.
	holdGetattr bool

	mu       sync.Mutex
	held     [][]byte // the headers of STATFS requests not answered
	heldAttr [][]byte // the headers of GETATTR requests not answered
	released bool
}

func mountStuckFUSE(t *testing.T) *stuckFUSE {
	t.Helper()
	return mountFUSE(t, t.TempDir(), false)
}

// mountFUSE mounts the stuck filesystem on dir; with holdGetattr it
// answers STATFS at once and holds GETATTR instead.
func mountFUSE(t *testing.T, dir string, holdGetattr bool) *stuckFUSE {
	t.Helper()
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0", fd)
	if err := unix.Mount("triage-stuck", dir, "fuse", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		unix.Close(fd)
		t.Skipf("cannot mount FUSE: %v", err)
	}
	s := &stuckFUSE{dir: dir, dev: os.NewFile(uintptr(fd), "/dev/fuse"), served: make(chan struct{}), holdGetattr: holdGetattr}
	if holdGetattr {
		s.released = true // STATFS is answered
	}
	go s.serve()
	t.Cleanup(func() { s.close(t) })
	return s
}

func (s *stuckFUSE) serve() {
	defer close(s.served)
	buf := make([]byte, 256<<10)
	for {
		n, err := s.dev.Read(buf)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.ENOENT) {
				continue // ENOENT: a request was interrupted before we read it
			}
			return // ENODEV once unmounted
		}
		if n < fuseInHeader {
			continue
		}
		req := buf[:n]
		op := binary.NativeEndian.Uint32(req[4:])
		switch op {
		case fuseInit:
			out := make([]byte, 64)
			binary.NativeEndian.PutUint32(out[0:], 7)                                    // major
			binary.NativeEndian.PutUint32(out[4:], 31)                                   // minor
			binary.NativeEndian.PutUint32(out[8:], binary.NativeEndian.Uint32(req[48:])) // max_readahead
			binary.NativeEndian.PutUint16(out[16:], 16)                                  // max_background
			binary.NativeEndian.PutUint16(out[18:], 12)                                  // congestion_threshold
			binary.NativeEndian.PutUint32(out[20:], 128<<10)                             // max_write
			binary.NativeEndian.PutUint32(out[24:], 1)                                   // time_gran
			s.reply(req, 0, out)
		case fuseGetattr:
			s.mu.Lock()
			if s.holdGetattr {
				s.heldAttr = append(s.heldAttr, append([]byte(nil), req[:fuseInHeader]...))
				s.mu.Unlock()
				continue
			}
			s.mu.Unlock()
			s.reply(req, 0, getattrOut())
		case fuseStatfs:
			s.statfses.Add(1)
			s.mu.Lock()
			if !s.released {
				s.held = append(s.held, append([]byte(nil), req[:fuseInHeader]...))
				s.mu.Unlock()
				continue
			}
			s.mu.Unlock()
			s.reply(req, 0, statfsOut())
		case fuseForget, fuseBatchFgt, fuseInterrupt:
			// No reply.
		case fuseDestroy:
			s.reply(req, 0, nil)
			return
		case fuseLookup:
			s.reply(req, -int32(syscall.ENOENT), nil)
		case fuseCreate:
			errno := s.createErrno.Load()
			if errno == 0 {
				errno = int32(syscall.EIO)
			}
			s.reply(req, -errno, nil)
		default:
			s.reply(req, -int32(syscall.ENOSYS), nil)
		}
	}
}

func getattrOut() []byte {
	out := make([]byte, 104)
	a := out[16:]
	binary.NativeEndian.PutUint64(a[0:], 1)                      // ino
	binary.NativeEndian.PutUint32(a[60:], syscall.S_IFDIR|0o755) // mode
	binary.NativeEndian.PutUint32(a[64:], 2)                     // nlink
	binary.NativeEndian.PutUint32(a[80:], 4096)                  // blksize
	return out
}

func statfsOut() []byte {
	out := make([]byte, 80)
	binary.NativeEndian.PutUint64(out[0:], 1000)  // blocks
	binary.NativeEndian.PutUint64(out[8:], 500)   // bfree
	binary.NativeEndian.PutUint64(out[16:], 500)  // bavail
	binary.NativeEndian.PutUint64(out[24:], 100)  // files
	binary.NativeEndian.PutUint64(out[32:], 50)   // ffree
	binary.NativeEndian.PutUint32(out[40:], 4096) // bsize
	binary.NativeEndian.PutUint32(out[44:], 255)  // namelen
	binary.NativeEndian.PutUint32(out[48:], 4096) // frsize
	return out
}

func (s *stuckFUSE) reply(req []byte, errno int32, body []byte) {
	out := make([]byte, fuseOutHeader+len(body))
	binary.NativeEndian.PutUint32(out[0:], uint32(len(out)))
	binary.NativeEndian.PutUint32(out[4:], uint32(errno))
	copy(out[8:16], req[8:16]) // unique
	copy(out[16:], body)
	s.dev.Write(out) // fails only for a request the kernel gave up on
}

// release answers the STATFS calls held so far and every later one.
func (s *stuckFUSE) release() {
	s.mu.Lock()
	s.released, s.holdGetattr = true, false
	held, heldAttr := s.held, s.heldAttr
	s.held, s.heldAttr = nil, nil
	s.mu.Unlock()
	for _, h := range held {
		s.reply(h, 0, statfsOut())
	}
	for _, h := range heldAttr {
		s.reply(h, 0, getattrOut())
	}
}

// close answers what it held, so the goroutines blocked in statfs return,
// then unmounts, which ends the connection and the server.
func (s *stuckFUSE) close(t *testing.T) {
	s.release()
	testmount.Unmount(t, s.dir)
	select {
	case <-s.served:
	case <-time.After(10 * time.Second):
		t.Errorf("FUSE server did not stop after unmount")
	}
	s.dev.Close()
	// The guard's goroutines end once their statfs returned.
	require.Eventually(t, func() bool {
		calls.mu.Lock()
		defer calls.mu.Unlock()
		for k := range calls.calls {
			if strings.Contains(k, s.dir) {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "statfs still in flight on %s", s.dir)
}
