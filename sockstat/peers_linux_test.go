//go:build linux

package sockstat

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// TestPeersAreOutgoingConnections: this process listens (a service) and
// connects out (to a dependency). Its peers are the dependency, with the
// connections counted, and never the clients of its own listener.
func TestPeersAreOutgoingConnections(t *testing.T) {
	svc, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer svc.Close()
	dep, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer dep.Close()
	go func() {
		for {
			c, err := dep.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", dep.Addr().String())
		require.NoError(t, err)
		conns = append(conns, c)
	}
	// A client of the service, from another process's point of view: its
	// accepted end is inbound.
	in, err := net.Dial("tcp", svc.Addr().String())
	require.NoError(t, err)
	conns = append(conns, in)
	acc, err := svc.Accept()
	require.NoError(t, err)
	conns = append(conns, acc)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	peers, err := Peers(ctx, Options{}, os.Getpid())
	if err != nil {
		t.Skipf("cannot list sockets here: %v", err)
	}
	byAddr := map[netip.AddrPort]Peer{}
	for _, p := range peers {
		byAddr[p.Addr] = p
	}
	d := byAddr[netip.MustParseAddrPort(dep.Addr().String())]
	assert.Equal(t, 3, d.Count, "%v", peers)
	assert.Equal(t, 3, d.States[Established])
	_, inbound := byAddr[netip.MustParseAddrPort(in.LocalAddr().String())]
	assert.False(t, inbound, "the service's own client is not a dependency: %v", peers)

	_, err = Peers(ctx, Options{}, 0)
	assert.ErrorIs(t, err, triage.ErrInvalid)
	_, err = Peers(ctx, Options{}, 1<<30)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestNoNetlinkReadsFiles: NoNetlink finds the same listener from
// /proc/net/tcp, and says so in the result's source.
func TestNoNetlinkReadsFiles(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := Check(ctx, Options{Port: port, NoNetlink: true, Sample: -1})
	require.NoError(t, r.Err)
	assert.Equal(t, "proc", r.Source.Name)
	assert.True(t, r.Has(CodeListening), "%v", r.Findings)

	r = Check(ctx, Options{NoNetlink: true, NetNS: "/proc/self/ns/net"})
	assert.ErrorIs(t, r.Err, triage.ErrInvalid)
}

// TestHostileProcRoot: a ProcRoot whose net/tcp is a FIFO (a fixture or
// a container's) gives an error at once instead of waiting for a writer.
func TestHostileProcRoot(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "net"), 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "net", "tcp"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan Result, 1)
	go func() { done <- Check(ctx, Options{ProcRoot: root, Sample: -1}) }()
	select {
	case r := <-done:
		assert.Error(t, r.Err)
		assert.Equal(t, triage.Unknown, r.Status)
	case <-time.After(5 * time.Second):
		t.Fatal("Check waited on a FIFO net/tcp")
	}
}
