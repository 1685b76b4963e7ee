//go:build unix

package probe

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fullAcceptQueue returns the address of a listener whose accept queue
// is full: it never accepts, its backlog is cut to the minimum and
// filled, so the kernel drops further SYNs.
func fullAcceptQueue(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	raw, err := ln.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	var lerr error
	require.NoError(t, raw.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), 0) }))
	require.NoError(t, lerr)
	addr := ln.Addr().String()
	// A backlog of 0 holds one connection; fill it with a few so that
	// the queue is full whatever the kernel rounds to.
	for range 4 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	return addr
}
