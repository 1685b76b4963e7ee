package dnscheck

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		file string
		want ResolvConf
	}{
		{"resolv-k8s.conf", ResolvConf{
			Nameservers: []string{"10.96.0.10:53"},
			Search:      []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"},
			Ndots:       5, Timeout: 5 * time.Second, Attempts: 2,
		}},
		{"resolv-full.conf", ResolvConf{
			Nameservers: []string{"127.0.0.53:53", "[::1]:53", "[fe80::1%eth0]:53"},
			Search:      []string{"corp.example", "example.com."},
			Ndots:       2, Timeout: time.Second, Attempts: 3, Rotate: true,
			Options: []string{"edns0", "trust-ad"},
		}},
		{"resolv-limits.conf", ResolvConf{
			Nameservers: []string{"192.0.2.53:53"},
			Search:      []string{"b.example"},
			Ndots:       15, Timeout: 30 * time.Second, Attempts: 5,
		}},
		{"resolv-noeol.conf", ResolvConf{
			Nameservers: []string{"192.0.2.1:53"}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			defer f.Close()
			got, err := ParseResolvConf(f)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("empty", func(t *testing.T) {
		got, err := ParseResolvConf(strings.NewReader(""))
		require.NoError(t, err)
		assert.Empty(t, got.Nameservers)
		assert.Equal(t, 1, got.Ndots)
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := ParseResolvConf(iotest.ErrReader(boom))
		assert.ErrorIs(t, err, boom)
	})
}

func TestCandidates(t *testing.T) {
	k8s := ResolvConf{Search: []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Ndots: 5}
	tests := []struct {
		name string
		rc   ResolvConf
		in   string
		want []string
	}{
		{"ndots 5 tries the list first", k8s, "api.example.com", []string{
			"api.example.com.default.svc.cluster.local.", "api.example.com.svc.cluster.local.",
			"api.example.com.cluster.local.", "api.example.com."}},
		{"trailing dot skips the list", k8s, "api.example.com.", []string{"api.example.com."}},
		{"enough dots tries the name first", ResolvConf{Search: []string{"corp.example."}, Ndots: 1}, "db.internal",
			[]string{"db.internal.", "db.internal.corp.example."}},
		{"single label", ResolvConf{Search: []string{"corp.example"}, Ndots: 1}, "db",
			[]string{"db.corp.example.", "db."}},
		{"no search list", ResolvConf{Ndots: 5}, "db", []string{"db."}},
		{"empty", k8s, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rc.Candidates(tt.in))
		})
	}
}

func TestParseHosts(t *testing.T) {
	f, err := os.Open("testdata/hosts")
	require.NoError(t, err)
	defer f.Close()
	h, err := parseHosts(f)
	require.NoError(t, err)
	addrs := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	assert.Equal(t, addrs("127.0.0.1", "::1"), h["localhost"])
	assert.Equal(t, addrs("10.0.0.5", "10.0.0.6"), h["api.example.com"], "case and trailing dot folded")
	assert.Equal(t, addrs("10.0.0.5"), h["api"])
	assert.Equal(t, addrs("fe80::1%lo"), h["linklocal"])
	assert.NotContains(t, h, "broken")
	assert.NotContains(t, h, "pinned", "comments are not names")
}

func FuzzParseResolvConf(f *testing.F) {
	for _, name := range []string{"resolv-k8s.conf", "resolv-full.conf", "resolv-limits.conf", "resolv-noeol.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("nameserver [::1]\noptions ndots:\x00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := ParseResolvConf(bytes.NewReader(b))
		require.NoError(t, err)
		for _, ns := range rc.Nameservers {
			_, err := netip.ParseAddrPort(ns)
			assert.NoError(t, err, "nameserver %q must be host:port", ns)
		}
		assert.True(t, rc.Ndots >= 0 && rc.Ndots <= maxNdots)
		assert.True(t, rc.Attempts >= 0 && rc.Attempts <= maxAttempts)
		assert.True(t, rc.Timeout >= 0 && rc.Timeout <= maxTimeout)
		for _, name := range []string{"a", "a.b.c.d.e.f", "x."} {
			c := rc.Candidates(name)
			require.NotEmpty(t, c)
			for _, n := range c {
				assert.True(t, strings.HasSuffix(n, "."), n)
			}
		}
	})
}

func FuzzParseHosts(f *testing.F) {
	b, err := os.ReadFile("testdata/hosts")
	require.NoError(f, err)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHosts(bytes.NewReader(b))
		require.NoError(t, err)
		for name, as := range h {
			assert.NotEmpty(t, name)
			assert.Equal(t, strings.ToLower(name), name)
			assert.NotEmpty(t, as)
		}
	})
}

// FuzzAnswer feeds arbitrary DNS messages to the code that reads answers,
// CNAME chains and referrals: no panics, no endless chains.
func FuzzAnswer(f *testing.F) {
	seed := func(build func(m *dns.Msg)) {
		m := new(dns.Msg)
		m.SetQuestion("www.example.test.", dns.TypeA)
		build(m)
		b, err := m.Pack()
		require.NoError(f, err)
		f.Add(b)
	}
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		require.NoError(f, err)
		return r
	}
	seed(func(m *dns.Msg) {
		m.Answer = []dns.RR{rr("www.example.test. 60 IN CNAME a.example.test."), rr("a.example.test. 60 IN A 192.0.2.1")}
	})
	seed(func(m *dns.Msg) {
		m.Answer = []dns.RR{rr("www.example.test. 60 IN CNAME www.example.test.")}
	})
	seed(func(m *dns.Msg) {
		m.Ns = []dns.RR{rr("example.test. 60 IN NS ns.example.test.")}
		m.Extra = []dns.RR{rr("ns.example.test. 60 IN A 192.0.2.53"), rr("ns.example.test. 60 IN AAAA 2001:db8::53")}
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil || len(m.Question) == 0 {
			return
		}
		q := m.Question[0]
		var a Answer
		a.Name, a.Type = q.Name, typeString(q.Qtype)
		a.fill(m, q.Qtype)
		assert.LessOrEqual(t, len(a.CNAMEs), maxChain)
		_ = a.verdict()
		final, _, _ := answerChain(m, q.Name, q.Qtype)
		assert.LessOrEqual(t, len(final), len(m.Answer)*maxChain)
		zone, ns, _ := delegation(m, q.Name)
		if zone != "" {
			assert.True(t, dns.IsSubDomain(zone, q.Name))
			assert.NotEmpty(t, ns)
		}
		tr := &tracer{port: "53"}
		_ = tr.servers(ns, m.Extra)
	})
}
