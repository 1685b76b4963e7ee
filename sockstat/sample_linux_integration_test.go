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

// TestIntegrationConntrackFull fills a namespace's connection-tracking
// table and checks that the namespace's own counters show the drops, and
// that another namespace's do not.
func TestIntegrationConntrackFull(t *testing.T) {
	ns := testnet.New(t)
	ln := nsListen(t, ns, "127.0.0.1:0")
	testnet.Hold(t, ln)
	held := ns.FillConntrack(t, ln.Addr().String(), 16)
	t.Logf("%d connections fill the table", held)

	// A client keeps trying while the counters are sampled: its SYNs
	// find no room.
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		if c, err := ns.DialContext(ctx, "tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	r := Check(context.Background(), Options{NetNS: ns.Path, Sample: time.Second})
	<-done
	require.NoError(t, r.Err)
	require.NotNil(t, r.Counters)
	require.NotNil(t, r.Counters.Growth)
	g := r.Counters.Growth
	assert.Equal(t, uint64(16), g.ConntrackMax)
	assert.GreaterOrEqual(t, g.ConntrackEntries, uint64(16))
	t.Logf("%d of %d entries, %d drops counted", g.ConntrackEntries, g.ConntrackMax, g.ConntrackDrops)
	f, ok := r.Find(CodeConntrackFull)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Fail, f.Status)
	var st unix.Stat_t
	require.NoError(t, unix.Stat(ns.Path, &st))
	ino, _ := f.Evidence.Int(triage.KeyNetNS)
	assert.Equal(t, int64(st.Ino), ino, "the finding names the namespace, as the kernel's message does")

	// A namespace that tracks nothing has no table to fill.
	other := testnet.New(t)
	r = Check(context.Background(), Options{NetNS: other.Path, Sample: 200 * time.Millisecond})
	require.NoError(t, r.Err)
	_, ok = r.Find(CodeConntrackFull)
	assert.False(t, ok)
}

// TestIntegrationResetsHigh refuses a client's connection attempts fifty
// times a second in a namespace: the reset rate shows, as sar -n ETCP
// shows it, and a quiet namespace shows none.
func TestIntegrationResetsHigh(t *testing.T) {
	ns := testnet.New(t)
	quiet := Check(context.Background(), Options{NetNS: ns.Path, Sample: 300 * time.Millisecond})
	require.NoError(t, quiet.Err)
	_, ok := quiet.Find(CodeResetsHigh)
	assert.False(t, ok)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// Nothing listens on port 9 in a new namespace: RST.
			if c, err := ns.DialContext(context.Background(), "tcp", "127.0.0.1:9"); err == nil {
				c.Close()
			}
		}
	}()
	r := Check(context.Background(), Options{NetNS: ns.Path, Sample: time.Second})
	close(stop)
	<-done
	require.NoError(t, r.Err)
	g := r.Counters.Growth
	require.NotNil(t, g)
	t.Logf("%d attempts failed, %d resets in %s", g.AttemptFails, g.EstabResets, r.Counters.Window)
	f, ok := r.Find(CodeResetsHigh)
	require.True(t, ok, "findings: %v", r.Findings)
	rate, _ := f.Evidence.Lookup("per_sec")
	assert.InDelta(t, 50, rate.Float64(), 30)
}
