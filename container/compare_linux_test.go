//go:build linux

package container

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// hostAddr is a non-loopback address of this host, for a listener the
// host reaches and an empty namespace does not.
func hostAddr(t *testing.T) string {
	t.Helper()
	ifas, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, ifa := range ifas {
		if n, ok := ifa.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this host has no IPv4 address but loopback")
	return ""
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n10.1.2.3 api.triage-test\n"), 0o644))
	pid := unsharedWith(t, "mount --bind "+hosts+" /etc/hosts")
	c, err := Open(pid)
	require.NoError(t, err)
	defer c.Close()

	t.Run("a name only the container's hosts file holds", func(t *testing.T) {
		r := Compare(context.Background(), c, CompareOptions{Name: "api.triage-test", Timeout: time.Second})
		require.NoError(t, r.Err)
		assert.Equal(t, []string{"10.1.2.3"}, r.Inside.Addrs)
		assert.NotEmpty(t, r.Host.LookupError, "%+v", r.Host)
		f, ok := r.Find(CodeDNSDiffers)
		require.True(t, ok, "%v", r.Findings)
		assert.Equal(t, triage.Warn, f.Status)
		assert.Equal(t, "10.1.2.3", f.Evidence.String("inside_addrs"))
	})
	t.Run("an address only the host reaches", func(t *testing.T) {
		ln, err := net.Listen("tcp", hostAddr(t)+":0")
		require.NoError(t, err)
		defer ln.Close()
		go acceptAndClose(ln)
		r := Compare(context.Background(), c, CompareOptions{Address: ln.Addr().String(), Timeout: time.Second})
		require.NoError(t, r.Err)
		assert.True(t, r.Host.Connected, "%+v", r.Host)
		assert.False(t, r.Inside.Connected)
		assert.Equal(t, "unreachable", r.Inside.DialError, "a namespace with loopback only has no route")
		f, ok := r.Find(CodeReachDiffers)
		require.True(t, ok, "%v", r.Findings)
		assert.Equal(t, ln.Addr().String(), f.Evidence.String(triage.KeyAddr))
	})
	t.Run("the same view", func(t *testing.T) {
		r := Compare(context.Background(), c, CompareOptions{Name: "localhost", Address: "127.0.0.1:9", Timeout: time.Second})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeSameView), "%v", r.Findings)
		assert.Empty(t, r.Inside.Dialed, "loopback is another host on each side: not compared")
	})
	t.Run("bad input", func(t *testing.T) {
		for _, o := range []CompareOptions{{}, {Address: "no-port"}, {Name: "x", Timeout: -1}} {
			r := Compare(context.Background(), c, o)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid, "%+v", o)
			assert.Equal(t, triage.Unknown, r.Status)
		}
	})
}

// acceptAndClose takes every connection to ln and closes it, until ln is
// closed.
func acceptAndClose(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		conn.Close()
	}
}
