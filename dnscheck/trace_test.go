package dnscheck

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
)

// hierarchy is a root, a TLD and zones on distinct loopback addresses
// sharing one port, so referrals and glue (which carry no port) work.
type hierarchy struct {
	root  string // host:port of the root server
	port  int
	base  string
	zones map[string]*zone
}

func newHierarchy(t *testing.T) hierarchy {
	t.Helper()
	for try := 0; try < 5; try++ {
		h, ok := tryHierarchy(t)
		if ok {
			return h
		}
	}
	t.Skip("no port free on all the loopback addresses of the hierarchy")
	return hierarchy{}
}

func tryHierarchy(t *testing.T) (hierarchy, bool) {
	base := loopbackNet()
	ip := func(n int) string { return base + itoa(n) }
	// Find a port free on every address first, so a failure leaves no
	// half-started servers behind.
	pc, err := net.ListenPacket("udp", ip(1)+":0")
	require.NoError(t, err)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	for n := 1; n <= 9; n++ {
		a := net.JoinHostPort(ip(n), itoa(port))
		p, err := net.ListenPacket("udp", a)
		if err != nil {
			return hierarchy{}, false
		}
		l, err := net.Listen("tcp", a)
		p.Close()
		if err != nil {
			return hierarchy{}, false
		}
		l.Close()
	}
	h := hierarchy{port: port, base: base, zones: map[string]*zone{}}
	serve := func(n int, hd dns.Handler) string { return startDNS(t, ip(n), port, hd) }
	add := func(n int, origin string, lines ...string) {
		z := newZone(t, origin, lines...)
		h.zones[origin] = z
		addr := serve(n, z)
		if origin == "." {
			h.root = addr
		}
	}
	add(1, ".",
		"test. NS ns.test.",
		"ns.test. A "+ip(2),
	)
	add(2, "test.",
		"example.test. NS ns1.example.test.",
		"ns1.example.test. A "+ip(3),
		"other.test. NS ns5.example.test.", // no glue: out of bailiwick
		"a.test. NS ns.b.test.",            // glue loop: a needs b needs a
		"b.test. NS ns.a.test.",
		"lame.test. NS ns1.example.test.", // .3 does not serve lame.test
		"half.test. NS ns1.half.test.",
		"half.test. NS ns2.half.test.",
		"ns1.half.test. A "+ip(6),
		"ns2.half.test. A "+ip(7),
		"slow.test. NS ns.slow.test.",
		"ns.slow.test. A "+ip(8),
		"ghost.test. NS ns.nowhere.example.test.", // the NS name does not exist
		"up.test. NS ns.up.test.",
		"ns.up.test. A "+ip(9),
	)
	add(3, "example.test.",
		"www A 192.0.2.1",
		"www AAAA 2001:db8::1",
		"ns5 A "+ip(5),
		"ext CNAME www.other.test.",
		"loop1 CNAME loop2.other.test.",
		"self CNAME self",
	)
	add(5, "other.test.",
		"www CNAME www.example.test.",
		"loop2 CNAME loop1.example.test.",
	)
	serve(6, rcodeServer(dns.RcodeRefused))
	add(7, "half.test.", "www A 192.0.2.7")
	serve(8, silentServer())
	// An upward referral: the server of up.test sends us back to test.
	serve(9, dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		ns, _ := dns.NewRR("test. 300 IN NS ns.test.")
		glue, _ := dns.NewRR("ns.test. 300 IN A " + ip(2))
		m.Ns, m.Extra = []dns.RR{ns}, []dns.RR{glue}
		_ = w.WriteMsg(m)
	}))
	return h, true
}

func (h hierarchy) opts(name, typ string) TraceOptions {
	return TraceOptions{Name: name, Type: typ, RootHints: []string{h.root}, Port: h.port, StepTimeout: fastQuery}
}

func kinds(r TraceResult) []string {
	var out []string
	for _, s := range r.Steps {
		k := s.Zone + " " + string(s.Kind)
		if s.Depth > 0 {
			k = "  " + k
		}
		out = append(out, k)
	}
	return out
}

func TestTrace(t *testing.T) {
	h := newHierarchy(t)
	tests := []struct {
		name   string
		opts   func(TraceOptions) TraceOptions
		qname  string
		qtype  string
		want   []triage.Code
		status triage.Status
		steps  []string
		addrs  []string
		check  func(t *testing.T, r TraceResult)
	}{
		{
			name: "referrals with glue", qname: "www.example.test", qtype: "A",
			want: []triage.Code{CodeResolved}, status: triage.OK,
			steps: []string{". referral", "test. referral", "example.test. answer"},
			addrs: []string{"192.0.2.1"},
			check: func(t *testing.T, r TraceResult) {
				assert.Equal(t, "test.", r.Steps[0].Referral)
				assert.Equal(t, "example.test.", r.Steps[1].Referral)
				assert.Equal(t, "ns1.example.test.", r.Steps[2].NS)
				require.NotEmpty(t, r.Steps[1].Glue)
				assert.Equal(t, "A", r.Steps[1].Glue[0].Type)
				assert.Equal(t, "NOERROR", r.Rcode)
				for _, s := range r.Steps {
					assert.Positive(t, s.RTT)
				}
			},
		},
		{
			name: "aaaa", qname: "www.example.test.", qtype: "AAAA",
			want: []triage.Code{CodeResolved}, status: triage.OK,
			addrs: []string{"2001:db8::1"},
		},
		{
			name: "missing glue resolved", qname: "www.other.test", qtype: "A",
			want: []triage.Code{CodeResolved}, status: triage.OK,
			steps: []string{
				". referral", "test. referral", // to other.test, NS without glue
				"  . referral", "  test. referral", "  example.test. answer", // ns5.example.test A
				"other.test. cname", // www.other.test -> www.example.test
				". referral", "test. referral", "example.test. answer",
			},
			addrs: []string{"192.0.2.1"},
			check: func(t *testing.T, r TraceResult) {
				assert.Equal(t, "CNAME", r.Answer[0].Type)
				assert.Equal(t, "www.example.test.", r.Answer[0].Data)
			},
		},
		{
			name: "cname across zones", qname: "ext.example.test", qtype: "A",
			want: []triage.Code{CodeResolved}, status: triage.OK, addrs: []string{"192.0.2.1"},
		},
		{
			name: "nxdomain", qname: "missing.example.test", qtype: "A",
			want: []triage.Code{CodeNXDomain}, status: triage.Fail,
			steps: []string{". referral", "test. referral", "example.test. nxdomain"},
			check: func(t *testing.T, r TraceResult) {
				assert.Equal(t, "NXDOMAIN", r.Rcode)
				f, _ := r.Find(CodeNXDomain)
				assert.Equal(t, "example.test.", f.Evidence.String("zone"))
			},
		},
		{
			name: "nodata", qname: "ns5.example.test", qtype: "AAAA",
			status: triage.OK,
			steps:  []string{". referral", "test. referral", "example.test. nodata"},
		},
		{
			name: "lame delegation", qname: "www.lame.test", qtype: "A",
			want: []triage.Code{CodeLameDelegation}, status: triage.Fail,
			steps: []string{". referral", "test. referral", "lame.test. lame"},
			check: func(t *testing.T, r TraceResult) {
				f, _ := r.Find(CodeLameDelegation)
				assert.Equal(t, "lame.test.", f.Evidence.String("zone"))
				assert.Equal(t, "ns1.example.test.", f.Evidence.String("ns"))
				assert.Contains(t, f.Evidence.String("reason"), "REFUSED")
			},
		},
		{
			name: "one lame server of two", qname: "www.half.test", qtype: "A",
			want: []triage.Code{CodeLameDelegation, CodeResolved}, status: triage.Warn,
			steps: []string{". referral", "test. referral", "half.test. lame", "half.test. answer"},
			addrs: []string{"192.0.2.7"},
		},
		{
			name: "nameserver without an address", qname: "www.ghost.test", qtype: "A",
			want: []triage.Code{CodeLameDelegation}, status: triage.Fail,
			steps: []string{". referral", "test. referral",
				"  . referral", "  test. referral", "  example.test. nxdomain",
				"ghost.test. lame"},
			check: func(t *testing.T, r TraceResult) {
				f, _ := r.Find(CodeLameDelegation)
				assert.Equal(t, "ns.nowhere.example.test.", f.Evidence.String("ns"))
				assert.Equal(t, "", r.Rcode)
			},
		},
		{
			name: "referral loop", qname: "www.up.test", qtype: "A",
			want: []triage.Code{CodeLameDelegation, CodeLoop}, status: triage.Fail,
			steps: []string{". referral", "test. referral", "up.test. lame"},
			check: func(t *testing.T, r TraceResult) {
				f, _ := r.Find(CodeLoop)
				assert.Equal(t, "up.test. -> test.", f.Evidence.String("chain"))
				assert.Equal(t, "referral loop", f.Evidence.String("kind"))
			},
		},
		{
			name: "silent zone", qname: "www.slow.test", qtype: "A",
			want: []triage.Code{CodeTimeout}, status: triage.Fail,
			steps: []string{". referral", "test. referral", "slow.test. timeout"},
		},
		{
			name: "glue loop", qname: "www.a.test", qtype: "A",
			want: []triage.Code{CodeLoop}, status: triage.Fail,
			check: func(t *testing.T, r TraceResult) {
				f, _ := r.Find(CodeLoop)
				assert.Equal(t, "nameserver lookup needs itself", f.Evidence.String("kind"))
			},
		},
		{
			name: "cname loop across zones", qname: "loop1.example.test", qtype: "A",
			want: []triage.Code{CodeLoop}, status: triage.Fail,
			check: func(t *testing.T, r TraceResult) {
				f, _ := r.Find(CodeLoop)
				assert.Equal(t, "loop1.example.test. -> loop2.other.test. -> loop1.example.test.", f.Evidence.String("chain"))
			},
		},
		{
			name: "cname to itself", qname: "self.example.test", qtype: "A",
			want: []triage.Code{CodeLoop}, status: triage.Fail,
		},
		{
			name: "too many referrals", qname: "www.example.test", qtype: "A",
			opts: func(o TraceOptions) TraceOptions { o.MaxReferrals = 1; return o },
			want: []triage.Code{CodeTooDeep}, status: triage.Fail,
			steps: []string{". referral", "test. referral"},
			check: func(t *testing.T, r TraceResult) {
				f, _ := r.Find(CodeTooDeep)
				n, _ := f.Evidence.Int("limit")
				assert.EqualValues(t, 1, n)
			},
		},
		{
			name: "too many cname hops", qname: "ext.example.test", qtype: "A",
			opts: func(o TraceOptions) TraceOptions { o.MaxCNAMEs = 1; return o },
			want: []triage.Code{CodeTooDeep}, status: triage.Fail,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := h.opts(tt.qname, tt.qtype)
			if tt.opts != nil {
				o = tt.opts(o)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := Trace(ctx, o)
			assert.Equal(t, "dnscheck.trace", r.Check)
			assert.Equal(t, tt.qname, r.Target.Name, "the name as given")
			assert.NoError(t, r.Err)
			assert.Equal(t, tt.want, codes(r.Result), "findings: %v\nsteps: %v", r.Findings, kinds(r))
			assert.Equal(t, tt.status, r.Status)
			if tt.steps != nil {
				assert.Equal(t, tt.steps, kinds(r))
			}
			if tt.addrs != nil {
				var got []string
				for _, a := range r.Addrs {
					got = append(got, a.String())
				}
				assert.Equal(t, tt.addrs, got)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestTraceNeverLeavesGivenRoots(t *testing.T) {
	h := newHierarchy(t)
	r := Trace(context.Background(), h.opts("www.example.test", "A"))
	for _, s := range r.Steps {
		ap, err := netip.ParseAddrPort(s.Server)
		require.NoError(t, err)
		assert.True(t, ap.Addr().IsLoopback(), "asked %s", s.Server)
		assert.True(t, strings.HasPrefix(ap.Addr().String(), h.base), "asked %s", s.Server)
	}
}

func TestTraceDeadline(t *testing.T) {
	addr := startDNS(t, loopbackNet()+"1", 0, silentServer())
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Trace(ctx, TraceOptions{Name: "www.example.test", RootHints: []string{addr, addr}})
	assert.Less(t, time.Since(start), 400*time.Millisecond+time.Second)
	assert.NotEqual(t, triage.OK, r.Status)
	assert.True(t, r.Has(CodeTimeout) || r.Err != nil)
}

func TestTraceBadInput(t *testing.T) {
	tests := []struct {
		name string
		o    TraceOptions
	}{
		{"empty", TraceOptions{RootHints: []string{"127.0.0.1:1"}}},
		{"bad name", TraceOptions{Name: "a..b", RootHints: []string{"127.0.0.1:1"}}},
		{"bad type", TraceOptions{Name: "a.test", Type: "NOPE", RootHints: []string{"127.0.0.1:1"}}},
		{"bad hint", TraceOptions{Name: "a.test", RootHints: []string{"a.root-servers.net"}}},
		{"negative bound", TraceOptions{Name: "a.test", MaxReferrals: -1, RootHints: []string{"127.0.0.1:1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Trace(context.Background(), tt.o)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
			assert.Empty(t, r.Steps, "nothing asked")
		})
	}
}
