package dnscheck

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
)

const fastQuery = 300 * time.Millisecond

func exampleZone(t testing.TB) *zone {
	return newZone(t, "example.test.",
		"www A 192.0.2.1",
		"www AAAA 2001:db8::1",
		"v4only A 192.0.2.4",
		"alias CNAME alias2",
		"alias2 CNAME www",
		"big TXT \""+strings.Repeat("x", 250)+"\"",
	)
}

func codes(r triage.Result) []triage.Code {
	var out []triage.Code
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

func answer(t *testing.T, r Result, server int, typ string) Answer {
	t.Helper()
	require.Greater(t, len(r.Servers), server)
	for _, a := range r.Servers[server].Answers {
		if a.Type == typ {
			return a
		}
	}
	require.Failf(t, "no answer", "type %s", typ)
	return Answer{}
}

func TestCheckOneServer(t *testing.T) {
	net := loopbackNet()
	good := exampleZone(t)
	good.recursive = true
	tests := []struct {
		name    string
		handler dns.Handler
		qname   string
		want    []triage.Code
		status  triage.Status
		check   func(t *testing.T, r Result)
	}{
		{
			name: "resolved", handler: good, qname: "www.example.test",
			want: []triage.Code{CodeResolved, CodeResolved}, status: triage.OK,
			check: func(t *testing.T, r Result) {
				a := answer(t, r, 0, "A")
				assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.1")}, a.Addrs)
				assert.Equal(t, "NOERROR", a.Rcode)
				assert.True(t, a.EDNS)
				assert.Equal(t, "udp", a.Transport)
				assert.Positive(t, a.RTT)
				require.Len(t, a.Records, 1)
				assert.Equal(t, uint32(300), a.Records[0].TTL)
				aaaa := answer(t, r, 0, "AAAA")
				assert.Equal(t, []netip.Addr{netip.MustParseAddr("2001:db8::1")}, aaaa.Addrs)
			},
		},
		{
			name: "cname chain", handler: good, qname: "alias.example.test.",
			want: []triage.Code{CodeResolved, CodeResolved}, status: triage.OK,
			check: func(t *testing.T, r Result) {
				a := answer(t, r, 0, "A")
				assert.Equal(t, []string{"alias2.example.test.", "www.example.test."}, a.CNAMEs)
				assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.1")}, a.Addrs)
			},
		},
		{
			name: "no aaaa", handler: good, qname: "v4only.example.test",
			want: []triage.Code{CodeResolved, CodeNoAAAA}, status: triage.OK,
		},
		{
			name: "nxdomain", handler: good, qname: "missing.example.test",
			want: []triage.Code{CodeNXDomain, CodeNXDomain}, status: triage.Fail,
			check: func(t *testing.T, r Result) {
				f, ok := r.Find(CodeNXDomain)
				require.True(t, ok)
				assert.Equal(t, "NXDOMAIN", f.Evidence.String("rcode"))
				assert.Nil(t, r.Err, "a DNS failure is data, not an error")
			},
		},
		{
			name: "servfail", handler: rcodeServer(dns.RcodeServerFailure), qname: "www.example.test",
			want: []triage.Code{CodeServFail, CodeServFail}, status: triage.Fail,
		},
		{
			name: "refused", handler: rcodeServer(dns.RcodeRefused), qname: "www.example.test",
			want: []triage.Code{CodeRefused, CodeRefused}, status: triage.Fail,
		},
		{
			name: "silent", handler: silentServer(), qname: "www.example.test",
			want: []triage.Code{CodeTimeout, CodeTimeout}, status: triage.Fail,
			check: func(t *testing.T, r Result) {
				a := answer(t, r, 0, "A")
				assert.True(t, a.Timeout)
				assert.Empty(t, a.Rcode)
				assert.Nil(t, r.Err, "a silent server is a finding")
			},
		},
		{
			name: "truncated then tcp", handler: truncatingServer(good, true), qname: "www.example.test",
			want: []triage.Code{CodeResolved, CodeResolved}, status: triage.OK,
			check: func(t *testing.T, r Result) {
				a := answer(t, r, 0, "A")
				assert.True(t, a.Truncated)
				assert.Equal(t, "tcp", a.Transport)
				assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.1")}, a.Addrs)
			},
		},
		{
			name: "truncated without tcp", handler: truncatingServer(good, false), qname: "www.example.test",
			want: []triage.Code{CodeTruncated, CodeTruncated}, status: triage.Fail,
			check: func(t *testing.T, r Result) {
				a := answer(t, r, 0, "A")
				assert.True(t, a.Truncated)
				assert.False(t, a.Timeout)
				assert.Error(t, a.Err)
			},
		},
		{
			// The partial UDP answer is no resolution: only a complete
			// answer counts.
			name: "partial answer, tcp dropped", handler: partialServer(false), qname: "www.example.test",
			want: []triage.Code{CodeTruncated, CodeTruncated}, status: triage.Fail,
			check: func(t *testing.T, r Result) {
				assert.False(t, r.Has(CodeResolved))
				assert.Empty(t, answer(t, r, 0, "A").Addrs, "no addresses from a partial answer")
			},
		},
		{
			name: "truncated over tcp too", handler: partialServer(true), qname: "www.example.test",
			want: []triage.Code{CodeTruncated, CodeTruncated}, status: triage.Fail,
			check: func(t *testing.T, r Result) {
				assert.False(t, r.Has(CodeResolved))
				a := answer(t, r, 0, "A")
				assert.Error(t, a.Err)
				assert.Empty(t, a.Addrs)
			},
		},
		{
			name: "drops edns", handler: noEDNSServer(good), qname: "www.example.test",
			want: []triage.Code{CodeNoEDNS, CodeResolved, CodeNoEDNS, CodeResolved}, status: triage.Warn,
			check: func(t *testing.T, r Result) {
				a := answer(t, r, 0, "A")
				assert.False(t, a.EDNS)
				assert.True(t, a.EDNSRetried)
				assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.1")}, a.Addrs)
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startDNS(t, net+itoa(i+1), 0, tt.handler)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := Check(ctx, Options{Name: tt.qname, Servers: []string{addr}, SkipSystem: true, QueryTimeout: fastQuery})
			assert.Equal(t, "dnscheck", r.Check)
			assert.Equal(t, tt.want, codes(r.Result))
			assert.Equal(t, tt.status, r.Status)
			require.Len(t, r.Servers, 1)
			assert.Equal(t, "option", r.Servers[0].Source)
			assert.Positive(t, r.Duration)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestCheckLargeAnswerOverTCP(t *testing.T) {
	z := newZone(t, "example.test.")
	z.recursive = true
	for i := range 120 {
		rr, err := dns.NewRR("many.example.test. 60 IN A 10.0." + itoa(i/250) + "." + itoa(i%250+1))
		require.NoError(t, err)
		z.rrs = append(z.rrs, rr)
	}
	addr := startDNS(t, loopbackNet()+"1", 0, truncateOverUDP{z})
	r := Check(context.Background(), Options{Name: "many.example.test.", Types: []string{"A"}, Servers: []string{addr}, SkipSystem: true, QueryTimeout: fastQuery})
	a := answer(t, r, 0, "A")
	assert.True(t, a.Truncated, "120 A records do not fit in 1232 bytes")
	assert.Equal(t, "tcp", a.Transport)
	assert.Len(t, a.Addrs, 120)
	assert.Equal(t, triage.OK, r.Status)
}

// truncateOverUDP answers like z but truncates to the client's buffer,
// as a real server does.
type truncateOverUDP struct{ z *zone }

func (s truncateOverUDP) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	s.z.answer(m, req.Question[0].Name, req.Question[0].Qtype)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if o := req.IsEdns0(); o != nil {
			size = int(o.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func TestCheckServersCompared(t *testing.T) {
	base := loopbackNet()
	a := newZone(t, "example.test.", "www A 192.0.2.1")
	a.recursive = true
	b := newZone(t, "example.test.", "www A 192.0.2.99")
	b.recursive = true
	c := newZone(t, "example.test.", "www A 192.0.2.1")
	c.recursive = true
	addrA := startDNS(t, base+"1", 0, a)
	addrB := startDNS(t, base+"2", 0, b)
	addrC := startDNS(t, base+"3", 0, c)
	addrFail := startDNS(t, base+"4", 0, rcodeServer(dns.RcodeServerFailure))
	addrSilent := startDNS(t, base+"5", 0, silentServer())

	t.Run("disagree", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "www.example.test", Types: []string{"A"},
			Servers: []string{addrA, addrB, addrC}, SkipSystem: true, QueryTimeout: fastQuery})
		f, ok := r.Find(CodeMismatch)
		require.True(t, ok, "findings: %v", r.Findings)
		assert.Equal(t, triage.Warn, f.Status)
		assert.Equal(t, ViewServers, f.Evidence.String(KeyView))
		said := f.Evidence.String("answers")
		assert.Contains(t, said, addrA+","+addrC+" says 192.0.2.1")
		assert.Contains(t, said, addrB+" says 192.0.2.99")
		n, _ := f.Evidence.Int("servers")
		assert.EqualValues(t, 3, n)
		assert.Equal(t, triage.Warn, r.Status)
	})
	t.Run("agree", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "www.example.test", Types: []string{"A"},
			Servers: []string{addrA, addrC}, SkipSystem: true, QueryTimeout: fastQuery})
		assert.Equal(t, []triage.Code{CodeResolved}, codes(r.Result))
		assert.Equal(t, triage.OK, r.Status)
	})
	t.Run("one fails others answer", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "www.example.test", Types: []string{"A"},
			Servers: []string{addrA, addrFail, addrSilent}, SkipSystem: true, QueryTimeout: fastQuery})
		for _, code := range []triage.Code{CodeServFail, CodeTimeout} {
			f, ok := r.Find(code)
			require.True(t, ok, "%s in %v", code, r.Findings)
			assert.Equal(t, triage.Warn, f.Status, "the stub moves on to the next server")
		}
		f, ok := r.Find(CodeMismatch)
		require.True(t, ok)
		assert.Contains(t, f.Evidence.String("answers"), addrFail+" says SERVFAIL")
		assert.NotContains(t, f.Evidence.String("answers"), addrSilent, "a timeout says nothing")
		assert.Equal(t, triage.Warn, r.Status)
	})
}

// system builds a resolv.conf and hosts file around a resolver on
// port 53 of a fresh loopback address, which needs root.
type system struct {
	resolvConf, hosts string
	server            string
	zone              *zone
}

func newSystem(t *testing.T, resolvExtra, hosts string) system {
	t.Helper()
	z := newZone(t, "test.",
		"api.example.test. A 192.0.2.10",
		"api.example.test. AAAA 2001:db8::10",
		"db.corp.test. A 192.0.2.20",
	)
	z.recursive = true
	ip := loopbackNet() + "53"
	pc, err := net.ListenPacket("udp", ip+":53")
	if err != nil {
		t.Skipf("resolv.conf cannot name a port; binding %s:53 needs root: %v", ip, err)
	}
	pc.Close()
	addr := startDNS(t, ip, 53, z)
	dir := t.TempDir()
	s := system{resolvConf: filepath.Join(dir, "resolv.conf"), hosts: filepath.Join(dir, "hosts"), server: addr, zone: z}
	require.NoError(t, os.WriteFile(s.resolvConf, []byte("# test\nnameserver "+ip+"\n"+resolvExtra), 0o644))
	require.NoError(t, os.WriteFile(s.hosts, []byte("127.0.0.1 localhost\n"+hosts), 0o644))
	return s
}

func TestCheckSystemView(t *testing.T) {
	s := newSystem(t, "search corp.test example.test\noptions ndots:5 timeout:1\n", "10.9.9.9 api.example.test\n10.9.9.8 legacy.example.test\n")

	t.Run("search expansion and hosts override", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "api.example.test", ResolvConf: s.resolvConf, HostsFile: s.hosts,
			Resolver: resolverTo([]string{s.server}, nil), QueryTimeout: fastQuery})
		require.NoError(t, r.Err)
		require.NotNil(t, r.ResolvConf)
		assert.Equal(t, 5, r.ResolvConf.Ndots)
		require.Len(t, r.Servers, 1)
		assert.Equal(t, "resolv.conf", r.Servers[0].Source)
		assert.Equal(t, s.server, r.Servers[0].Addr)

		// ndots:5 puts the search list first: two NXDOMAINs, then the name.
		var asked []string
		for _, a := range r.Search {
			asked = append(asked, a.Name+" "+a.Rcode)
		}
		assert.Equal(t, []string{
			"api.example.test.corp.test. NXDOMAIN",
			"api.example.test.example.test. NXDOMAIN",
			"api.example.test. NOERROR",
		}, asked)
		assert.Equal(t, "api.example.test.", r.Queried)
		f, ok := r.Find(CodeSearchExpansion)
		require.True(t, ok, "findings: %v", r.Findings)
		assert.Equal(t, triage.Warn, f.Status)
		n, _ := f.Evidence.Int("wasted")
		assert.EqualValues(t, 2, n)
		nd, _ := f.Evidence.Int("ndots")
		assert.EqualValues(t, 5, nd)

		require.NotNil(t, r.App)
		assert.Equal(t, "hosts", r.App.Source)
		assert.Equal(t, []netip.Addr{netip.MustParseAddr("10.9.9.9")}, r.App.Addrs)
		f, ok = r.Find(CodeHostsOverride)
		require.True(t, ok)
		assert.Equal(t, "10.9.9.9", f.Evidence.String("hosts_addrs"))
		assert.Equal(t, "192.0.2.10,2001:db8::10", f.Evidence.String("dns_addrs"))
		assert.Equal(t, s.hosts, f.Evidence.String("path"))
		assert.Equal(t, triage.Warn, r.Status)
	})
	t.Run("fully qualified skips the list", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "db.corp.test.", ResolvConf: s.resolvConf, HostsFile: s.hosts,
			Resolver: resolverTo([]string{s.server}, nil), QueryTimeout: fastQuery})
		assert.Empty(t, r.Search)
		assert.False(t, r.Has(CodeSearchExpansion))
		assert.False(t, r.Has(CodeHostsOverride))
		require.NotNil(t, r.App)
		assert.Equal(t, "resolver", r.App.Source)
		assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.20")}, r.App.Addrs)
	})
	t.Run("short name answered by the first suffix", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "db", Types: []string{"A"}, ResolvConf: s.resolvConf, HostsFile: s.hosts,
			Resolver: resolverTo([]string{s.server}, nil), QueryTimeout: fastQuery})
		require.Len(t, r.Search, 1)
		assert.Equal(t, "db.corp.test.", r.Queried)
		assert.False(t, r.Has(CodeSearchExpansion), "the list did what it is for")
		assert.True(t, r.Has(CodeResolved))
	})
	t.Run("nothing answers", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "nope", Types: []string{"A"}, ResolvConf: s.resolvConf, HostsFile: s.hosts,
			Resolver: resolverTo([]string{s.server}, nil), QueryTimeout: fastQuery})
		assert.Len(t, r.Search, 3)
		f, ok := r.Find(CodeSearchExpansion)
		require.True(t, ok)
		n, _ := f.Evidence.Int("wasted")
		assert.EqualValues(t, 3, n)
		assert.True(t, r.Has(CodeNXDomain))
		require.NotNil(t, r.App)
		assert.True(t, r.App.NotFound)
	})
	t.Run("application resolver disagrees", func(t *testing.T) {
		stale := newZone(t, "test.", "db.corp.test. A 198.51.100.1")
		stale.recursive = true
		staleAddr := startDNS(t, loopbackNet()+"1", 0, stale)
		r := Check(context.Background(), Options{Name: "db.corp.test.", ResolvConf: s.resolvConf, HostsFile: s.hosts,
			Resolver: resolverTo([]string{staleAddr}, nil), QueryTimeout: fastQuery})
		require.NotNil(t, r.App)
		assert.Equal(t, "resolver", r.App.Source)
		f, ok := r.Find(CodeMismatch)
		require.True(t, ok, "findings: %v", r.Findings)
		assert.Equal(t, "application says 198.51.100.1; DNS says 192.0.2.20", f.Evidence.String("answers"))
		assert.Equal(t, ViewApplication, f.Evidence.String(KeyView))
		assert.Equal(t, "db.corp.test.", f.Evidence.String(triage.KeyName))
	})
	t.Run("another resolv.conf steers the application's lookups", func(t *testing.T) {
		// No Resolver: the file's nameserver answers the application
		// view, not this host's.
		r := Check(context.Background(), Options{Name: "db.corp.test.", Types: []string{"A"}, ResolvConf: s.resolvConf,
			HostsFile: s.hosts, QueryTimeout: fastQuery})
		require.NoError(t, r.Err)
		require.NotNil(t, r.App)
		assert.Equal(t, "resolver", r.App.Source)
		assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.20")}, r.App.Addrs)
		assert.False(t, r.Has(CodeMismatch), "findings: %v", r.Findings)
	})
	t.Run("hosts name unknown to dns", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "legacy.example.test.", Types: []string{"A"}, ResolvConf: s.resolvConf, HostsFile: s.hosts, Resolver: resolverTo([]string{s.server}, nil), QueryTimeout: fastQuery})
		f, ok := r.Find(CodeNXDomain)
		require.True(t, ok, "the fact is kept")
		assert.Equal(t, triage.OK, f.Status, "the application reads the hosts file, not DNS: a hosts-file name unknown to DNS is normal")
		assert.False(t, r.Has(CodeHostsOverride), "DNS says nothing: no override")
		assert.Equal(t, triage.OK, r.Status)
	})
	t.Run("hosts agrees with dns", func(t *testing.T) {
		require.NoError(t, os.WriteFile(s.hosts, []byte("192.0.2.20 db.corp.test\n"), 0o644))
		r := Check(context.Background(), Options{Name: "db.corp.test.", Types: []string{"A"}, ResolvConf: s.resolvConf, HostsFile: s.hosts, Resolver: resolverTo([]string{s.server}, nil), QueryTimeout: fastQuery})
		assert.False(t, r.Has(CodeHostsOverride))
		assert.Equal(t, "hosts", r.App.Source)
	})
}

func TestCheckIPv6Reachability(t *testing.T) {
	ip := loopbackNet() + "1"
	ln, err := net.Listen("tcp", ip+":0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if c, err := net.Dial("tcp", net.JoinHostPort("::1", itoa(port))); err == nil {
		c.Close()
		t.Skipf("something listens on [::1]:%d", port)
	}
	z := newZone(t, "example.test.", "dual A "+ip, "dual AAAA ::1")
	z.recursive = true
	addr := startDNS(t, loopbackNet()+"2", 0, z)

	r := Check(context.Background(), Options{Name: "dual.example.test", Servers: []string{addr}, SkipSystem: true,
		Port: port, QueryTimeout: fastQuery, DialTimeout: time.Second})
	require.Len(t, r.Reach, 2)
	f, ok := r.Find(CodeIPv6Unreachable)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Fail, f.Status)
	assert.Equal(t, "::1", f.Evidence.String("addr"))
	v4, _ := f.Evidence.Lookup("ipv4_reachable")
	assert.True(t, v4.Bool())
	for _, x := range r.Reach {
		assert.Equal(t, x.Addr.Addr().Is4(), x.Reachable, "%v", x.Addr)
	}
}

func TestCheckBadInput(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"empty name", Options{SkipSystem: true, Servers: []string{"127.0.0.1:1"}}},
		{"address", Options{Name: "192.0.2.1", SkipSystem: true, Servers: []string{"127.0.0.1:1"}}},
		{"bad name", Options{Name: "a..b", SkipSystem: true, Servers: []string{"127.0.0.1:1"}}},
		{"long label", Options{Name: strings.Repeat("a", 64) + ".test", SkipSystem: true, Servers: []string{"127.0.0.1:1"}}},
		{"bad type", Options{Name: "x.test", Types: []string{"BOGUS"}, SkipSystem: true, Servers: []string{"127.0.0.1:1"}}},
		{"bad server", Options{Name: "x.test", SkipSystem: true, Servers: []string{"dns.example:53"}}},
		{"port zero", Options{Name: "x.test", SkipSystem: true, Servers: []string{"127.0.0.1:0"}}},
		{"nobody to ask", Options{Name: "x.test", SkipSystem: true}},
		{"port out of range", Options{Name: "x.test", SkipSystem: true, Servers: []string{"127.0.0.1:1"}, Port: 70000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(context.Background(), tt.o)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
		})
	}
}

func TestCheckMissingFiles(t *testing.T) {
	dir := t.TempDir()
	addr := startDNS(t, loopbackNet()+"1", 0, exampleZone(t))
	r := Check(context.Background(), Options{Name: "www.example.test.", Types: []string{"A"},
		ResolvConf: filepath.Join(dir, "nope"), HostsFile: filepath.Join(dir, "nope"), Servers: []string{addr},
		Resolver: resolverTo([]string{addr}, nil), QueryTimeout: 100 * time.Millisecond})
	assert.ErrorIs(t, r.Err, os.ErrNotExist)
	assert.NotEqual(t, triage.OK, r.Status, "%v", r.Findings)
}

func TestCheckSilentServerDeadline(t *testing.T) {
	addr := startDNS(t, loopbackNet()+"1", 0, silentServer())
	before := openFDs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Check(ctx, Options{Name: "www.example.test", Servers: []string{addr}, SkipSystem: true})
	elapsed := time.Since(start)
	assert.Less(t, elapsed, 500*time.Millisecond+time.Second)
	assert.True(t, r.Has(CodeTimeout), "a silent server is reported as a timeout before the deadline: %v", r.Findings)
	assert.Equal(t, triage.Fail, r.Status)
	if before >= 0 {
		assert.LessOrEqual(t, openFDs(t), before, "sockets left open")
	}
}

func TestCheckCanceled(t *testing.T) {
	addr := startDNS(t, loopbackNet()+"1", 0, silentServer())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	r := Check(ctx, Options{Name: "www.example.test", Servers: []string{addr}, SkipSystem: true, QueryTimeout: time.Minute})
	assert.Less(t, time.Since(start), 200*time.Millisecond+time.Second)
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.NotEqual(t, triage.OK, r.Status)
	assert.True(t, errors.Is(r.Err, context.Canceled))
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func TestCheckApplicationResolverHangs(t *testing.T) {
	silent := startDNS(t, loopbackNet()+"1", 0, silentServer())
	dir := t.TempDir()
	rc := filepath.Join(dir, "resolv.conf")
	// Nothing listens on port 53 of this address: the kernel refuses.
	require.NoError(t, os.WriteFile(rc, []byte("nameserver "+loopbackNet()+"9\n"), 0o644))
	hosts := filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(hosts, nil, 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Check(ctx, Options{Name: "www.example.test.", Types: []string{"A"}, ResolvConf: rc, HostsFile: hosts, Resolver: resolverTo([]string{silent}, nil)})
	assert.Less(t, time.Since(start), 700*time.Millisecond+time.Second)
	require.NotNil(t, r.App)
	assert.Error(t, r.App.Err)
	f, ok := r.Find(CodeUnreachable)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Fail, f.Status)
	assert.NotEmpty(t, f.Evidence.String("error"))
}

func TestCheckRecordJSON(t *testing.T) {
	z := exampleZone(t)
	z.recursive = true
	addr := startDNS(t, loopbackNet()+"1", 0, z)
	r := Check(context.Background(), Options{Name: "alias.example.test", Servers: []string{addr}, SkipSystem: true, Port: 1, QueryTimeout: fastQuery, DialTimeout: 100 * time.Millisecond})
	r.Name = "api-dns" // a runner's name for the check
	b, err := json.Marshal(&r)
	require.NoError(t, err)
	// The common part and the typed fields side by side.
	var back struct {
		Check  string `json:"check"`
		Name   string `json:"name"`
		Target struct {
			Name string `json:"name"`
		} `json:"target"`
		Queried string `json:"queried"`
		Servers []struct {
			Answers []struct {
				Addrs  []string `json:"addrs"`
				CNAMEs []string `json:"cnames"`
			} `json:"answers"`
		} `json:"servers"`
	}
	require.NoError(t, json.Unmarshal(b, &back), "%s", b)
	assert.Equal(t, "dnscheck", back.Check)
	assert.Equal(t, "api-dns", back.Name, "the DNS name is the target's, not the check's name")
	assert.Equal(t, "alias.example.test", back.Target.Name)
	assert.Equal(t, "alias.example.test.", back.Queried, "%s", b)
	require.Len(t, back.Servers, 1)
	assert.Equal(t, []string{"192.0.2.1"}, back.Servers[0].Answers[0].Addrs)
}

func TestCheckSilentSystemServer(t *testing.T) {
	silentIP, goodIP := loopbackNet()+"53", loopbackNet()+"54"
	for _, ip := range []string{silentIP, goodIP} {
		pc, err := net.ListenPacket("udp", ip+":53")
		if err != nil {
			t.Skipf("resolv.conf cannot name a port; binding %s:53 needs root: %v", ip, err)
		}
		pc.Close()
	}
	startDNS(t, silentIP, 53, silentServer())
	z := exampleZone(t)
	z.recursive = true
	good := startDNS(t, goodIP, 53, z)
	rc := filepath.Join(t.TempDir(), "resolv.conf")
	require.NoError(t, os.WriteFile(rc, []byte("nameserver "+silentIP+"\nnameserver "+goodIP+"\noptions timeout:3 attempts:2 rotate\n"), 0o644))

	r := Check(context.Background(), Options{Name: "www.example.test.", Types: []string{"A"}, ResolvConf: rc,
		HostsFile: filepath.Join(t.TempDir(), "none"), Resolver: resolverTo([]string{good}, nil), QueryTimeout: fastQuery})
	f, ok := r.Find(CodeTimeout)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Warn, f.Status, "the stub moves on to %s", good)
	assert.Equal(t, silentIP+":53", f.Evidence.String("servers"))
	v, _ := f.Evidence.Lookup("stub_timeout_ns")
	assert.Equal(t, 3*time.Second, v.Duration())
	n, _ := f.Evidence.Int("attempts")
	assert.EqualValues(t, 2, n)
	assert.True(t, r.Has(CodeResolved))
	assert.ErrorIs(t, r.Err, os.ErrNotExist, "the hosts file named does not exist")
}
