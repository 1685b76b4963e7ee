//go:build linux

package sockstat

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnet"
)

// TestIntegrationListenOverflowsGrow fills the accept queue of a listener
// that never accepts, then keeps connecting to it while Check samples
// the namespace's counters: every SYN the full queue turns away is a
// ListenOverflow.
func TestIntegrationListenOverflowsGrow(t *testing.T) {
	ns := testnet.New(t)
	_, ln := ns.ListenBacklog(t, "127.0.0.1:0", 1, -1)
	// A backlog of one queues two connections; neither overflows.
	for range 2 {
		ns.Connect(t, ln)
	}
	var r Result
	require.Eventually(t, func() bool {
		r = Check(context.Background(), Options{NetNS: ns.Path, Port: int(ln.Port()), Sample: -1})
		return r.Has(CodeAcceptQueueFull)
	}, 5*time.Second, 50*time.Millisecond, "findings: %v", r.Findings)
	require.NotNil(t, r.Counters)
	require.Zero(t, r.Counters.ListenOverflows, "no SYN was turned away yet")

	// Connect every 10ms, at most 300 times, until the check is done.
	stop := make(chan struct{})
	dialed := make(chan int)
	go func() {
		var fds []int
		defer func() {
			for _, fd := range fds {
				unix.Close(fd)
			}
			dialed <- len(fds)
		}()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range 300 {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = ns.Do(func() error {
				fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					return err
				}
				fds = append(fds, fd)
				return unix.Connect(fd, &unix.SockaddrInet4{Port: int(ln.Port()), Addr: ln.Addr().As4()})
			})
		}
	}()
	r = Check(context.Background(), Options{NetNS: ns.Path, Sample: 500 * time.Millisecond})
	close(stop)
	n := <-dialed
	require.NoError(t, r.Err)
	require.Positive(t, n)
	f, ok := r.Find(CodeListenOverflows)
	require.True(t, ok, "findings: %v (after %d connects)", r.Findings, n)
	assert.Equal(t, triage.Warn, f.Status)
	overflows, _ := f.Evidence.Int("overflows")
	assert.Positive(t, overflows)
	require.NotNil(t, r.Counters.Growth)
	assert.Equal(t, uint64(overflows), r.Counters.Growth.ListenOverflows)
	assert.Positive(t, r.Counters.Window)
}

// TestIntegrationRetransmitsHigh drops a fifth of the segments towards a
// local port at random and streams small writes to it over a few
// connections while Check samples the namespace's counters. Loopback
// loses nothing on its own, so every retransmission in the window is the
// rule's doing.
func TestIntegrationRetransmitsHigh(t *testing.T) {
	ns := testnet.New(t)
	testnet.RequireIPTables(t)
	// An Ethernet-sized MTU: on loopback's 64 KiB, data held back by a
	// loss would leave in a single segment.
	ns.Exec(t, "ip", "link", "set", "lo", "mtu", "1500")
	ln := nsListen(t, ns, "127.0.0.1:0")
	// Several connections, so that one backing off its retransmission
	// timer does not stop the stream.
	const conns = 8
	cl, sv := pairs(t, ns, ln, conns)
	port := ln.Addr().(*net.TCPAddr).Port
	// After the handshakes, so that no SYN is lost to it.
	ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", fmt.Sprint(port),
		"-m", "statistic", "--mode", "random", "--probability", "0.2", "-j", "DROP")

	stop := make(chan struct{})
	done := make(chan int, 2*conns)
	for i := range conns {
		go func() {
			n, _ := io.Copy(io.Discard, sv[i])
			done <- int(n)
		}()
		// Ten writes of 100 bytes every millisecond, for at most 3000
		// milliseconds, until the check is done.
		go func() {
			n := 0
			defer func() { done <- n }()
			msg := make([]byte, 100)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for range 3000 {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				_ = cl[i].SetWriteDeadline(time.Now().Add(time.Second))
				for range 10 {
					if _, err := cl[i].Write(msg); err != nil {
						return
					}
					n += len(msg)
				}
			}
		}()
	}
	// Retransmissions over 5% of the segments sent: well above what a
	// healthy loopback shows (none), well below what a fifth dropped
	// gives even counting the receiver's ACKs among the segments sent.
	r := Check(context.Background(), Options{NetNS: ns.Path, Sample: time.Second, Thresholds: Thresholds{RetransPct: 5}})
	close(stop)
	for i := range conns {
		cl[i].Close()
		sv[i].Close()
	}
	written := 0
	for range 2 * conns {
		written += <-done
	}

	require.NoError(t, r.Err)
	require.NotNil(t, r.Counters)
	require.NotNil(t, r.Counters.Growth)
	g := r.Counters.Growth
	t.Logf("%d bytes written and read; in %s: %d segments out, %d retransmitted, %d timeouts", written, r.Counters.Window, g.OutSegs, g.RetransSegs, g.Timeouts)
	f, ok := r.Find(CodeRetransmitsHigh)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Warn, f.Status)
	pct, _ := f.Evidence.Float("retrans_pct")
	assert.GreaterOrEqual(t, pct, 5.0)
	retrans, _ := f.Evidence.Int("retrans")
	assert.Equal(t, int64(g.RetransSegs), retrans)
}
