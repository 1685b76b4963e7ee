//go:build linux

package sockstat

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnet"
)

// startDNS serves names (FQDN -> IPv4 address) over UDP on loopback and
// answers NXDOMAIN for anything else. It returns a resolver that asks it
// alone; /etc/hosts still comes first, as for any Go resolver.
func startDNS(t *testing.T, names map[string]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		name := strings.ToLower(q.Question[0].Name)
		a, ok := names[name]
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.ParseIP(a),
			})
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: h}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return resolverAt(pc.LocalAddr().String())
}

func resolverAt(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// localUnicast returns an address of one of this host's interfaces that
// is neither loopback nor link-local.
func localUnicast(t *testing.T) netip.Addr {
	t.Helper()
	ifas, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, ifa := range ifas {
		p, err := netip.ParsePrefix(ifa.String())
		if err != nil {
			continue
		}
		if a := p.Addr().Unmap(); a.Is4() && !a.IsLoopback() && !a.IsLinkLocalUnicast() {
			return a
		}
	}
	t.Skip("no interface of this host has a non-loopback IPv4 address")
	return netip.Addr{}
}

func listenOn(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// TestIntegrationTargetOnThisHost aims Check at targets on this host, as
// an operator names them, with real listeners behind them.
func TestIntegrationTargetOnThisHost(t *testing.T) {
	lo4 := listenOn(t, "127.0.0.1:0")
	lo6 := listenOn(t, "[::1]:0")
	mine := localUnicast(t)
	ext := listenOn(t, netip.AddrPortFrom(mine, 0).String())
	res := startDNS(t, map[string]string{"svc.test.": "127.0.0.1", "box.test.": mine.String()})
	// localhost stands for one address when the hosts file gives one, and
	// for any when it gives both families.
	var localhost netip.AddrPort
	if as, err := res.LookupNetIP(context.Background(), "ip", "localhost"); err == nil && len(as) == 1 {
		localhost = netip.AddrPortFrom(as[0].Unmap(), lo4.Port())
	}

	tests := []struct {
		name   string
		target triage.Target
		want   triage.Code
		addr   netip.AddrPort // Result.Target.Addr; zero: any address
	}{
		{"ipv4 loopback", triage.Target{Host: "127.0.0.1", Port: int(lo4.Port())}, CodeListening, lo4},
		{"ipv6 loopback", triage.Target{Host: "::1", Port: int(lo6.Port())}, CodeListening, lo6},
		{"ipv6 loopback in brackets", triage.Target{Host: "[::1]", Port: int(lo6.Port())}, CodeListening, lo6},
		{"localhost from the hosts file", triage.Target{Host: "localhost", Port: int(lo4.Port())}, CodeListening, localhost},
		{"a name resolving to loopback", triage.Target{Host: "svc.test", Port: int(lo4.Port())}, CodeListening, lo4},
		{"an address of an interface", triage.Target{Host: mine.String(), Port: int(ext.Port())}, CodeListening, ext},
		{"a name resolving to an interface", triage.Target{Host: "box.test", Port: int(ext.Port())}, CodeListening, ext},
		{"the address a probe dialled", triage.Target{URL: "http://svc.test/", Addr: lo4}, CodeListening, lo4},
		{"a port alone", triage.Target{Port: int(lo4.Port())}, CodeListening, netip.AddrPort{}},
		{"listened to on loopback only", triage.Target{Host: mine.String(), Port: int(lo4.Port())}, CodeWrongAddress,
			netip.AddrPortFrom(mine, lo4.Port())},
		{"ipv6 loopback, listened to on ipv4", triage.Target{Host: "::1", Port: int(lo4.Port())}, CodeWrongAddress,
			netip.AddrPortFrom(netip.IPv6Loopback(), lo4.Port())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(context.Background(), Options{Target: tt.target, Resolver: res, Sample: -1})
			require.NoError(t, r.Err)
			_, ok := r.Find(tt.want)
			assert.True(t, ok, "findings: %v", r.Findings)
			port := tt.target.Port
			if port == 0 {
				port = int(tt.target.Addr.Port())
			}
			assert.Equal(t, port, r.Target.Port)
			assert.Equal(t, tt.target.Host, r.Target.Host, "the host as given")
			assert.Equal(t, tt.target.URL, r.Target.URL)
			assert.Equal(t, tt.addr, r.Target.Addr)
			assert.NotNil(t, r.TargetStates)
		})
	}

	t.Run("a closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0") // a port nothing listens on once closed
		require.NoError(t, err)
		gone := ln.Addr().(*net.TCPAddr).AddrPort()
		require.NoError(t, ln.Close())
		r := Check(context.Background(), Options{Target: triage.Target{Host: "127.0.0.1", Port: int(gone.Port())}, Sample: -1})
		require.NoError(t, r.Err)
		f, ok := r.Find(CodeNoListener)
		require.True(t, ok, "findings: %v", r.Findings)
		p, _ := f.Evidence.Int(triage.KeyPort)
		assert.EqualValues(t, gone.Port(), p)
		assert.Equal(t, triage.Fail, r.Status)
		assert.Equal(t, gone, r.Target.Addr)
	})

	t.Run("the caller's options are left alone", func(t *testing.T) {
		o := Options{Target: triage.Target{Host: "svc.test", Port: int(lo4.Port())}, Resolver: res, Sample: -1}
		before := o
		r := Check(context.Background(), o)
		require.NoError(t, r.Err)
		assert.Equal(t, before, o)
		l, err := Sockets(context.Background(), o)
		require.NoError(t, err)
		require.NotEmpty(t, l.Sockets)
		for _, s := range l.Sockets {
			assert.Equal(t, lo4.Port(), s.Local.Port())
		}
	})
}

// TestIntegrationTargetElsewhere aims Check at targets that are not on
// the host: they are peers, and the connections towards them are counted.
// Inside a namespace whose loopback also has 10.77.0.1 and a route to
// 10.77.0.0/24, SYNs to another address of that subnet loop back, are
// not for the namespace, and are never answered.
func TestIntegrationTargetElsewhere(t *testing.T) {
	ns := testnet.New(t)
	ns.Exec(t, "ip", "addr", "add", "10.77.0.1/32", "dev", "lo")
	ns.Exec(t, "ip", "route", "add", "10.77.0.0/24", "dev", "lo")
	peer := netip.MustParseAddrPort("10.77.0.99:443")
	for range 3 {
		ns.Connect(t, peer)
	}
	res := startDNS(t, map[string]string{"db.test.": peer.Addr().String()})

	tests := []struct {
		name   string
		target triage.Target
		addr   netip.AddrPort // Result.Target.Addr
		syn    int            // SYN-SENT sockets towards the target
	}{
		{"an address literal", triage.Target{Host: "10.77.0.99", Port: 443}, peer, 3},
		{"a name", triage.Target{Host: "db.test", Port: 443}, peer, 3},
		{"another port of the peer", triage.Target{Host: "10.77.0.99", Port: 8443}, netip.MustParseAddrPort("10.77.0.99:8443"), 0},
		{"a name that does not resolve", triage.Target{Host: "nowhere.test", Port: 443}, netip.AddrPort{}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(context.Background(), Options{Target: tt.target, Resolver: res, NetNS: ns.Path, Sample: -1, Details: true})
			require.NoError(t, r.Err)
			assert.Equal(t, tt.target.Host, r.Target.Host)
			assert.Equal(t, tt.target.Port, r.Target.Port)
			assert.Equal(t, tt.addr, r.Target.Addr)
			for _, c := range []triage.Code{CodeListening, CodeNoListener, CodeWrongAddress} {
				assert.False(t, r.Has(c), "no listener question about a peer: %v", r.Findings)
			}
			require.NotNil(t, r.TargetStates)
			assert.Equal(t, tt.syn, r.TargetStates[SynSent])
			assert.Len(t, r.Sockets, tt.syn)
		})
	}

	// The subnet's own address is this namespace's, not the
	// caller's: looked at from inside, it is a local target.
	ln := ns.Listen(t, "tcp", "10.77.0.1:0")
	own := ln.Addr().(*net.TCPAddr).AddrPort()
	r := Check(context.Background(), Options{Target: triage.Target{Host: "10.77.0.1", Port: int(own.Port())}, NetNS: ns.Path, Sample: -1})
	require.NoError(t, r.Err)
	assert.True(t, r.Has(CodeListening), "findings: %v", r.Findings)
	assert.Equal(t, own, r.Target.Addr)
	// From the caller's namespace, the same address is elsewhere.
	r = Check(context.Background(), Options{Target: triage.Target{Host: "10.77.0.1", Port: int(own.Port())}, Sample: -1})
	require.NoError(t, r.Err)
	assert.False(t, r.Has(CodeListening) || r.Has(CodeNoListener), "findings: %v", r.Findings)
}

// TestTargetResolverDeadline: a name server that never answers holds the
// check no longer than its context.
func TestTargetResolverDeadline(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // never read
	require.NoError(t, err)
	defer pc.Close()
	// The resolver's own goroutines wait for an answer past the caller's
	// deadline; closing their connections ends them.
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "udp", pc.LocalAddr().String())
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Check(ctx, Options{Target: triage.Target{Host: "slow.test", Port: 80}, Resolver: res})
	assert.Less(t, time.Since(start), 300*time.Millisecond+2*time.Second)
	assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
	assert.Equal(t, triage.Unknown, r.Status)
	assert.Equal(t, "slow.test", r.Target.Host)
}

func TestTargetBadInput(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"a target and a port", Options{Target: triage.Target{Host: "127.0.0.1", Port: 80}, Port: 80}},
		{"a target and a peer", Options{Target: triage.Target{Host: "127.0.0.1", Port: 80}, Peer: netip.MustParseAddr("10.0.0.1")}},
		{"a host without a port", Options{Target: triage.Target{Host: "db.internal"}}},
		{"a target port out of range", Options{Target: triage.Target{Host: "127.0.0.1", Port: 70000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(context.Background(), tt.opts)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
			_, err := Sockets(context.Background(), tt.opts)
			assert.ErrorIs(t, err, triage.ErrInvalid)
		})
	}
}
