//go:build linux

package sockstat

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnet"
)

func codes(r Result) []triage.Code {
	var c []triage.Code
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return c
}

func TestIntegrationListenerAddresses(t *testing.T) {
	ns := testnet.New(t)
	_, any4 := ns.ListenBacklog(t, "0.0.0.0:0", 16, -1)
	_, lo4 := ns.ListenBacklog(t, "127.0.0.1:0", 16, -1)
	_, any6 := ns.ListenBacklog(t, "[::]:0", 16, 0)
	_, lo6 := ns.ListenBacklog(t, "[::1]:0", 16, -1)
	_, only6 := ns.ListenBacklog(t, "[::]:0", 16, 1)

	tests := []struct {
		name     string
		port     uint16
		addr     string
		want     triage.Code
		listenAt netip.Addr
		dual     bool
	}{
		{"ipv4 wildcard serves loopback", any4.Port(), "127.0.0.1", CodeListening, any4.Addr(), false},
		{"ipv4 wildcard, no address asked", any4.Port(), "", CodeListening, any4.Addr(), false},
		{"ipv4 wildcard does not serve ipv6", any4.Port(), "::1", CodeWrongAddress, any4.Addr(), false},
		{"loopback only", lo4.Port(), "127.0.0.1", CodeListening, lo4.Addr(), false},
		{"loopback only, another address asked", lo4.Port(), "127.0.0.2", CodeWrongAddress, lo4.Addr(), false},
		{"dual-stack wildcard serves ipv4", any6.Port(), "127.0.0.1", CodeListening, any6.Addr(), true},
		{"ipv6 loopback", lo6.Port(), "::1", CodeListening, lo6.Addr(), false},
		{"ipv6 loopback does not serve ipv4", lo6.Port(), "127.0.0.1", CodeWrongAddress, lo6.Addr(), false},
		{"v6only wildcard does not serve ipv4", only6.Port(), "127.0.0.1", CodeWrongAddress, only6.Addr(), false},
		{"nothing on the port", 1, "", CodeNoListener, netip.Addr{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Port: int(tt.port), NetNS: ns.Path, Sample: -1}
			if tt.addr != "" {
				o.Addr = netip.MustParseAddr(tt.addr)
			}
			r := Check(context.Background(), o)
			require.NoError(t, r.Err)
			assert.Equal(t, "netlink", r.Source.Name)
			f, ok := r.Find(tt.want)
			require.True(t, ok, "findings: %v", r.Findings)
			if tt.listenAt.IsValid() {
				require.Len(t, r.Listeners, 1)
				assert.Equal(t, tt.listenAt, r.Listeners[0].Local.Addr())
				assert.Equal(t, tt.dual, r.Listeners[0].DualStack)
				assert.Equal(t, uint32(16), r.Listeners[0].Backlog)
			}
			if tt.want == CodeWrongAddress {
				assert.Equal(t, tt.listenAt.String(), f.Evidence.String("listen_addr"))
				assert.Equal(t, triage.Fail, r.Status)
			}
		})
	}

	// The whole namespace: exactly the five listeners.
	r := Check(context.Background(), Options{NetNS: ns.Path, Sample: -1})
	require.NoError(t, r.Err)
	assert.Len(t, r.Listeners, 5)
	assert.Equal(t, map[State]int{Listen: 5}, r.States)
	assert.Equal(t, triage.OK, r.Status)
}

func TestIntegrationAcceptQueueFull(t *testing.T) {
	ns := testnet.New(t)
	_, ln := ns.ListenBacklog(t, "127.0.0.1:0", 1, -1)
	for range 4 {
		ns.Connect(t, ln)
	}
	o := Options{Port: int(ln.Port()), NetNS: ns.Path, Sample: -1, Owners: true}
	var r Result
	require.Eventually(t, func() bool {
		r = Check(context.Background(), o)
		return r.Has(CodeAcceptQueueFull)
	}, 5*time.Second, 50*time.Millisecond, "findings: %v", r.Findings)
	require.NoError(t, r.Err)
	f, _ := r.Find(CodeAcceptQueueFull)
	q, _ := f.Evidence.Int("queue")
	b, _ := f.Evidence.Int("backlog")
	assert.GreaterOrEqual(t, q, b)
	assert.Equal(t, int64(1), b)
	assert.Equal(t, triage.Fail, r.Status)
	// The owner is this test process.
	require.Len(t, r.Listeners, 1)
	require.Len(t, r.Listeners[0].Processes, 1)
	assert.Equal(t, os.Getpid(), r.Listeners[0].Processes[0].PID)

	// Handshakes completed past the full queue count as overflows in
	// this namespace's counters.
	require.Eventually(t, func() bool {
		r = Check(context.Background(), Options{NetNS: ns.Path, Sample: -1})
		return r.Counters != nil && r.Counters.ListenOverflows > 0
	}, 5*time.Second, 100*time.Millisecond)
}

func TestIntegrationSynSentBacklog(t *testing.T) {
	ns := testnet.New(t)
	testnet.RequireIPTables(t)
	_, ln := ns.ListenBacklog(t, "127.0.0.1:0", 16, -1)
	ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", fmt.Sprint(ln.Port()), "--tcp-flags", "SYN,ACK", "SYN", "-j", "DROP")
	for range 6 {
		ns.Connect(t, ln)
	}
	r := Check(context.Background(), Options{NetNS: ns.Path, Sample: -1, Peer: ln.Addr(), PeerPort: int(ln.Port()), Details: true})
	require.NoError(t, r.Err)
	f, ok := r.Find(CodeSynSentBacklog)
	require.True(t, ok, "findings: %v", r.Findings)
	n, _ := f.Evidence.Int("count")
	assert.Equal(t, int64(6), n)
	assert.Equal(t, "127.0.0.1", f.Evidence.String("peer"))
	assert.Equal(t, 6, r.States[SynSent])
	assert.Equal(t, map[State]int{SynSent: 6}, r.TargetStates)
	assert.Len(t, r.Sockets, 6)
	for _, s := range r.Sockets {
		assert.Equal(t, SynSent, s.State)
		assert.Equal(t, "on", s.Timer)
	}
}

// pairs opens n connections to ln from inside the namespace and returns
// the client and server ends.
func pairs(t *testing.T, ns *testnet.NS, ln net.Listener, n int) (clients, servers []net.Conn) {
	t.Helper()
	for range n {
		var c net.Conn
		to := ln.Addr().(*net.TCPAddr).AddrPort()
		if to.Addr().IsUnspecified() {
			to = netip.AddrPortFrom(netip.IPv6Loopback(), to.Port())
		}
		require.NoError(t, ns.Do(func() (err error) {
			c, err = net.Dial("tcp", to.String())
			return err
		}))
		s, err := ln.Accept()
		require.NoError(t, err)
		clients = append(clients, c)
		servers = append(servers, s)
	}
	t.Cleanup(func() {
		for i := range clients {
			clients[i].Close()
			servers[i].Close()
		}
	})
	return clients, servers
}

func nsListen(t *testing.T, ns *testnet.NS, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	require.NoError(t, ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestIntegrationTimeWaitAndCloseWait(t *testing.T) {
	ns := testnet.New(t)
	twLn := nsListen(t, ns, "127.0.0.1:0")
	cwLn := nsListen(t, ns, "127.0.0.1:0")
	estLn := nsListen(t, ns, "[::1]:0")

	// The client closes first and the server follows: TIME-WAIT on the
	// client side.
	cl, sv := pairs(t, ns, twLn, 12)
	for i := range cl {
		cl[i].Close()
		sv[i].Close()
	}
	// The client closes and the server never does: CLOSE-WAIT on the
	// server's port.
	cl, _ = pairs(t, ns, cwLn, 11)
	for _, c := range cl {
		c.Close()
	}
	pairs(t, ns, estLn, 3)

	o := Options{NetNS: ns.Path, Sample: -1, Thresholds: Thresholds{TimeWait: 10}}
	var r Result
	require.Eventually(t, func() bool {
		r = Check(context.Background(), o)
		return r.States[TimeWait] == 12 && r.States[CloseWait] == 11 && r.States[FinWait2] == 11
	}, 5*time.Second, 50*time.Millisecond, "states: %v", r.States)
	require.NoError(t, r.Err)
	assert.ElementsMatch(t, []triage.Code{CodeTimeWaitExcess, CodeCloseWaitLeak}, codes(r))
	cw, _ := r.Find(CodeCloseWaitLeak)
	port, _ := cw.Evidence.Int("port")
	assert.Equal(t, int64(cwLn.Addr().(*net.TCPAddr).Port), port)
	tw, _ := r.Find(CodeTimeWaitExcess)
	assert.Equal(t, "127.0.0.1", tw.Evidence.String("peer"))
	// 3 established IPv6 pairs, from CurrEstab; the listeners; 11 FIN-WAIT-2.
	t.Logf("states: %v", r.States)
	assert.Equal(t, 6, r.States[Established])
	assert.Equal(t, 3, r.States[Listen])
	assert.Equal(t, 11, r.States[FinWait2])
	assert.Equal(t, 12+11+11+6+3, r.Total)

	// The histogram matches a full listing.
	l, err := Sockets(context.Background(), Options{NetNS: ns.Path})
	require.NoError(t, err)
	full := map[State]int{}
	for _, s := range l.Sockets {
		full[s.State]++
	}
	sum, err := Summarize(context.Background(), Options{NetNS: ns.Path})
	require.NoError(t, err)
	assert.Equal(t, full, sum.States)
	assert.Equal(t, len(l.Sockets), sum.Total)
}

// TestIntegrationProcFallbackMatchesNetlink reads the same sockets both
// ways.
func TestIntegrationProcFallbackMatchesNetlink(t *testing.T) {
	ns := testnet.New(t)
	ln := nsListen(t, ns, "127.0.0.1:0")
	ln6 := nsListen(t, ns, "[::]:0")
	pairs(t, ns, ln, 4)
	cl, _ := pairs(t, ns, ln6, 3)
	cl[0].Close()
	ns.ListenBacklog(t, "127.0.0.1:0", 7, -1)

	o, err := Options{NetNS: ns.Path, ProcRoot: "/proc"}.config()
	require.NoError(t, err)
	read := func(proc bool) map[string]int {
		rd, err := newReader(context.Background(), o)
		require.NoError(t, err)
		defer rd.close()
		lr := rd.(*linuxReader)
		if proc {
			lr.src = Source{Name: "proc", Fallback: "test"}
		}
		defer func() {
			// Both families came through one TCPDIAG_GETSOCK request.
			assert.False(t, lr.perFam)
		}()
		got := map[string]int{}
		reqs := []diagRequest{{family: afInet, protocol: protoTCP, states: allStates}, {family: afInet6, protocol: protoTCP, states: allStates}}
		require.NoError(t, rd.dump(context.Background(), reqs, func() { clear(got) }, func(m *diagMsg) {
			got[fmt.Sprintf("%s %s %s inode=%d uid=%d", m.state, m.local, m.peer, m.inode, m.uid)]++
		}))
		return got
	}
	require.Eventually(t, func() bool {
		nl, pr := read(false), read(true)
		return assert.ObjectsAreEqual(nl, pr) && len(nl) == 3+8+6
	}, 5*time.Second, 100*time.Millisecond)

	// And through Check, the fallback says so and counts the same. The
	// closed client may still move from FIN-WAIT-1 to FIN-WAIT-2 between
	// the two reads on a loaded machine: compare until both agree.
	var viaProc Result
	var sum Summary
	require.Eventually(t, func() bool {
		rd, err := newReader(context.Background(), o)
		require.NoError(t, err)
		lr := rd.(*linuxReader)
		lr.src = Source{Name: "proc", Fallback: "test"}
		s := newScan(o, 0, 0)
		c, err := readCounters(lr)
		require.NoError(t, err)
		require.NoError(t, s.tcp(context.Background(), lr, c, allStates))
		rd.close()
		viaProc = Result{}
		s.fill(&viaProc)
		sum, err = Summarize(context.Background(), Options{NetNS: ns.Path})
		require.NoError(t, err)
		return assert.ObjectsAreEqual(sum.States, viaProc.States)
	}, 5*time.Second, 100*time.Millisecond, "proc and netlink never agreed on the states")
	assert.Equal(t, "netlink", sum.Source.Name)
}

// A sock_diag read that gets no answer must give up at the context's
// deadline.
func TestIntegrationNetlinkReadDeadline(t *testing.T) {
	c, err := netlink.Dial(unix.NETLINK_SOCK_DIAG, nil)
	require.NoError(t, err)
	r := &linuxReader{procRoot: "/proc", conn: c, src: Source{Name: "netlink"}}
	defer r.close()
	rc, err := c.SyscallConn()
	require.NoError(t, err)

	for _, withDeadline := range []bool{true, false} {
		t.Run(fmt.Sprintf("deadline=%v", withDeadline), func(t *testing.T) {
			var ctx context.Context
			var cancel context.CancelFunc
			if withDeadline {
				ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
			} else {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
			}
			defer cancel()
			require.NoError(t, c.SetDeadline(time.Time{}))
			start := time.Now()
			// Nothing was sent: the read blocks until the deadline.
			err := func() error {
				fired := make(chan struct{})
				stop := context.AfterFunc(ctx, func() { defer close(fired); _ = c.SetDeadline(time.Unix(1, 0)) })
				defer func() {
					if !stop() {
						<-fired
					}
				}()
				if dl, ok := ctx.Deadline(); ok {
					_ = c.SetDeadline(dl)
				}
				return receive(rc, make([]byte, 4096), 1, func(*diagMsg) {})
			}()
			assert.Error(t, err)
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			assert.Less(t, time.Since(start), 200*time.Millisecond+time.Second)
		})
	}

	// Through the dump path: a context already past its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	err = r.dump(ctx, []diagRequest{{family: afInet, protocol: protoTCP, states: allStates}}, func() {}, func(*diagMsg) {})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestIntegrationCheckDeadline(t *testing.T) {
	ns := testnet.New(t)
	nsListen(t, ns, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	// The sample window would be 5s; the deadline cuts it short and the
	// sockets are still reported.
	r := Check(ctx, Options{NetNS: ns.Path, Sample: 5 * time.Second, Owners: true})
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.NoError(t, r.Err)
	assert.Len(t, r.Listeners, 1)
}

const childEnv = "SOCKSTAT_TEST_CHILD_LISTEN"

// TestIntegrationOwnerOfChildProcess finds the PID of a child process
// listening inside the namespace.
func TestIntegrationOwnerOfChildProcess(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		return
	}
	ns := testnet.New(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := ns.Command(exe, "-test.run=^TestHelperChildListener$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	buf := make([]byte, 64)
	n, err := out.Read(buf)
	require.NoError(t, err)
	port := strings.TrimSpace(strings.SplitN(string(buf[:n]), "\n", 2)[0])

	var p int
	_, err = fmt.Sscan(port, &p)
	require.NoError(t, err)
	r := Check(context.Background(), Options{Port: p, Addr: netip.MustParseAddr("127.0.0.1"), NetNS: ns.Path, Owners: true, Sample: -1})
	require.NoError(t, r.Err)
	f, ok := r.Find(CodeListening)
	require.True(t, ok, "findings: %v", r.Findings)
	pid, _ := f.Evidence.Int("pid")
	assert.Equal(t, int64(cmd.Process.Pid), pid)
	assert.Equal(t, "sockstat.test", f.Evidence.String("process"))

	// The same namespace named by the child's /proc/PID/ns/net: it holds
	// the child's listener and nothing else, whatever the host has.
	byPID := fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
	r = Check(context.Background(), Options{NetNS: byPID, Owners: true, Sample: 200 * time.Millisecond})
	require.NoError(t, r.Err)
	assert.Equal(t, "netlink", r.Source.Name)
	assert.Equal(t, map[State]int{Listen: 1}, r.States)
	require.Len(t, r.Listeners, 1)
	assert.Equal(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p)), r.Listeners[0].Local)
	require.Len(t, r.Listeners[0].Processes, 1)
	assert.Equal(t, cmd.Process.Pid, r.Listeners[0].Processes[0].PID)
	// Counters are the namespace's too: nothing was ever established in it.
	require.NotNil(t, r.Counters)
	assert.Zero(t, r.Counters.ActiveOpens)
	assert.Zero(t, r.Counters.CurrEstab)
	l, err := Sockets(context.Background(), Options{NetNS: byPID})
	require.NoError(t, err)
	require.Len(t, l.Sockets, 1)
	assert.Equal(t, p, int(l.Sockets[0].Local.Port()))
	sum, err := Summarize(context.Background(), Options{NetNS: byPID})
	require.NoError(t, err)
	assert.Equal(t, map[State]int{Listen: 1}, sum.States)
}

// TestHelperChildListener is the child of TestIntegrationOwnerOfChildProcess.
func TestHelperChildListener(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("runs as a child process only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(3)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	time.Sleep(time.Minute)
	os.Exit(0)
}

// TestIntegrationFallbackOnKernelError makes the kernel refuse a dump (no
// sock_diag handler for the protocol, an error in the reply) and expects
// /proc to be read instead, and the result to say so.
func TestIntegrationFallbackOnKernelError(t *testing.T) {
	ns := testnet.New(t)
	nsListen(t, ns, "127.0.0.1:0")
	o, err := Options{NetNS: ns.Path}.config()
	require.NoError(t, err)
	rd, err := newReader(context.Background(), o)
	require.NoError(t, err)
	defer rd.close()
	n := 0
	// Protocol 253 (reserved for experiments) has no sock_diag handler.
	err = rd.dump(context.Background(), []diagRequest{{family: afInet, protocol: 253, states: allStates}}, func() { n = 0 }, func(m *diagMsg) {
		if m.state == Listen {
			n++
		}
	})
	require.NoError(t, err)
	src := rd.source()
	assert.Equal(t, "proc", src.Name)
	assert.Contains(t, src.Fallback, "sock_diag")
	assert.Equal(t, 1, n, "the listener, read from /proc/net/tcp")
}

// TestIntegrationTruncatedDatagramRetried gives the dump a buffer too
// small for one datagram: the kernel truncates it, and the dump must be
// retried with a larger buffer rather than lose sockets.
func TestIntegrationTruncatedDatagramRetried(t *testing.T) {
	ns := testnet.New(t)
	ln := nsListen(t, ns, "127.0.0.1:0")
	pairs(t, ns, ln, 20)
	o, err := Options{NetNS: ns.Path}.config()
	require.NoError(t, err)
	rd, err := newReader(context.Background(), o)
	require.NoError(t, err)
	defer rd.close()
	lr := rd.(*linuxReader)
	small := make([]byte, 256)
	lr.buf = &small
	n, resets := 0, 0
	reqs := []diagRequest{{family: afInet, protocol: protoTCP, states: allStates}, {family: afInet6, protocol: protoTCP, states: allStates}}
	require.NoError(t, rd.dump(context.Background(), reqs, func() { n = 0; resets++ }, func(*diagMsg) { n++ }))
	assert.Equal(t, 41, n)
	assert.True(t, lr.peek)
	assert.Equal(t, 2, resets, "one failed attempt, one retry")
	assert.Equal(t, "netlink", rd.source().Name)
}

// TestIntegrationEphemeralPortsLow narrows the namespace's port range to
// ten ports and uses nine of them towards one listener.
func TestIntegrationEphemeralPortsLow(t *testing.T) {
	ns := testnet.New(t)
	ns.Exec(t, "sysctl", "-qw", "net.ipv4.ip_local_port_range=40000 40009")
	ln := nsListen(t, ns, "127.0.0.1:0")
	pairs(t, ns, ln, 9)
	r := Check(context.Background(), Options{NetNS: ns.Path, Sample: 200 * time.Millisecond})
	require.NoError(t, r.Err)
	require.NotNil(t, r.Ephemeral)
	assert.Equal(t, 40000, r.Ephemeral.Low)
	assert.Equal(t, 40009, r.Ephemeral.High)
	assert.Equal(t, 9, r.Ephemeral.InUse)
	assert.Equal(t, ln.Addr().(*net.TCPAddr).AddrPort(), r.Ephemeral.Peer)
	f, ok := r.Find(CodeEphemeralPortsLow)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Warn, f.Status)
	pct, _ := f.Evidence.Float("used_pct")
	assert.InDelta(t, 90, pct, 0.01)

	// The sample ran: growth is there, over a window.
	require.NotNil(t, r.Counters)
	require.NotNil(t, r.Counters.Growth)
	assert.Positive(t, r.Counters.Window)
	assert.Equal(t, uint64(18), r.Counters.CurrEstab, "both ends of 9 connections")
}

func TestIntegrationTCPInfo(t *testing.T) {
	ns := testnet.New(t)
	ln := nsListen(t, ns, "127.0.0.1:0")
	cl, _ := pairs(t, ns, ln, 2)
	_, err := cl[0].Write([]byte("hello"))
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	l, err := Sockets(context.Background(), Options{NetNS: ns.Path, Port: port, States: []State{Established}, TCPInfo: true, Owners: true})
	require.NoError(t, err)
	require.Len(t, l.Sockets, 4)
	for _, s := range l.Sockets {
		require.NotNil(t, s.Info, "%v", s)
		assert.Positive(t, s.Info.SndCwnd)
		assert.Positive(t, s.Info.RTO)
		assert.NotZero(t, s.Inode)
		require.Len(t, s.Processes, 1)
		assert.Equal(t, os.Getpid(), s.Processes[0].PID)
	}
}

func TestParseInode(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "12345": 12345, "18446744073709551615": 0} {
		got, ok := parseInode([]byte(in))
		if in == "18446744073709551615" {
			assert.False(t, ok, "twenty digits are not an inode")
			continue
		}
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "12a", "-1", " 1"} {
		_, ok := parseInode([]byte(bad))
		assert.False(t, ok, "%q", bad)
	}
}
