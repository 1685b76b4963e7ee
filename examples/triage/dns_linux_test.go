//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/dnscheck"
)

// resolver is a recursive-looking DNS server on loopback that answers A
// questions with addr and the rest with no data, counting what it is asked.
type resolver struct {
	addr    string
	queries atomic.Int64
}

// startResolver serves on UDP at hostport (port 0 picks one) until the
// test ends.
func startResolver(t *testing.T, hostport, addr string) *resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", hostport)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", hostport, err)
	}
	r := &resolver{addr: pc.LocalAddr().String()}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		r.queries.Add(1)
		m := new(dns.Msg)
		m.SetReply(req)
		m.RecursionAvailable = true
		if q := req.Question[0]; q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A: net.ParseIP(addr)})
		}
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
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
	return r
}

func runDNS(t *testing.T, args ...string) (jsonReport, dnscheck.Result, map[string]map[string]any) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"-json", "-timeout", "10s"}, args...), &out, &errb)
	require.NotEqual(t, 2, code, "usage error: %s", errb.String())
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "stdout: %s\nstderr: %s", out.String(), errb.String())
	var res dnscheck.Result
	findings := map[string]map[string]any{}
	n := 0
	for _, r := range rep.Results {
		if r.Check != "dnscheck" {
			continue
		}
		n++
		require.Empty(t, r.Error)
		require.NoError(t, r.typed(&res))
		for _, f := range r.Findings {
			findings[f.Code] = f.Evidence
		}
	}
	require.Equal(t, 1, n, "one dnscheck result in %s", out.String())
	return rep, res, findings
}

func hypotheses(rep jsonReport) []string {
	var ids []string
	for _, h := range rep.Hypotheses {
		ids = append(ids, h.ID)
	}
	return ids
}

// containerFiles writes a resolv.conf naming ns (which must listen on
// port 53, as resolv.conf cannot name a port) and a hosts file.
func containerFiles(t *testing.T, ns *resolver, hosts string) (rc, hostsPath string) {
	t.Helper()
	host, port, err := net.SplitHostPort(ns.addr)
	require.NoError(t, err)
	require.Equal(t, "53", port)
	dir := t.TempDir()
	rc, hostsPath = filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(rc, []byte("nameserver "+host+"\noptions timeout:1 attempts:1\n"), 0o644))
	require.NoError(t, os.WriteFile(hostsPath, []byte("127.0.0.1 localhost\n"+hosts), 0o644))
	return rc, hostsPath
}

// TestIntegrationDNSContainerFiles judges a resolver configuration and a
// hosts file given on the command line, as for a container's, against
// real DNS servers on loopback: nothing asks this host's resolvers.
func TestIntegrationDNSContainerFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to serve DNS on port 53 of a loopback address")
	}
	// The resolv.conf server needs port 53: an address of this test's own.
	a := startResolver(t, fmt.Sprintf("127.%d.%d.53:53", 50+rand.IntN(150), rand.IntN(250)), "127.0.0.10")
	b := startResolver(t, "127.0.0.1:0", "127.0.0.20")
	const name = "www.example.test."

	t.Run("resolvers disagree", func(t *testing.T) {
		rc, hosts := containerFiles(t, a, "")
		rep, res, findings := runDNS(t, "-dns", name, "-resolv-conf", rc, "-hosts-file", hosts, "-dns-server", b.addr)

		require.NotNil(t, res.ResolvConf)
		assert.Equal(t, []string{a.addr}, res.ResolvConf.Nameservers, "the servers of -resolv-conf, not this host's")
		require.Len(t, res.Servers, 2)
		assert.Equal(t, a.addr, res.Servers[0].Addr)
		assert.Equal(t, b.addr, res.Servers[1].Addr)
		// The application's view went to the -resolv-conf server too.
		require.NotNil(t, res.App)
		assert.Equal(t, "resolver", res.App.Source)
		assert.Equal(t, "[127.0.0.10]", fmt.Sprint(res.App.Addrs))

		ev, ok := findings[string(dnscheck.CodeMismatch)]
		require.True(t, ok, "dns.mismatch in %v", findings)
		assert.Contains(t, ev["answers"], "127.0.0.10")
		assert.Contains(t, ev["answers"], "127.0.0.20")
		assert.NotContains(t, findings, string(dnscheck.CodeHostsOverride))
		assert.Contains(t, hypotheses(rep), "dns.mismatch")
	})

	t.Run("hosts file overrides DNS", func(t *testing.T) {
		rc, hosts := containerFiles(t, a, "127.0.0.99 www.example.test\n")
		before := a.queries.Load()
		rep, res, findings := runDNS(t, "-dns", name, "-resolv-conf", rc, "-hosts-file", hosts)

		require.NotNil(t, res.App)
		assert.Equal(t, "hosts", res.App.Source)
		assert.Equal(t, "[127.0.0.99]", fmt.Sprint(res.Hosts))
		ev, ok := findings[string(dnscheck.CodeHostsOverride)]
		require.True(t, ok, "dns.hosts_override in %v", findings)
		assert.Equal(t, hosts, ev["path"])
		assert.Equal(t, "127.0.0.99", ev["hosts_addrs"])
		assert.Equal(t, "127.0.0.10", ev["dns_addrs"])
		assert.Contains(t, hypotheses(rep), "dns.hosts_override")
		assert.Greater(t, a.queries.Load(), before, "DNS was asked what it says")
	})
}

func TestDNSFileUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-resolv-conf", filepath.Join(dir, "resolv.conf")},
		{"-hosts-file", filepath.Join(dir, "hosts")},
		{"-dns", "db.internal.", "-resolv-conf", filepath.Join(dir, "missing")},
		{"-dns", "db.internal.", "-hosts-file", dir},
	} {
		t.Run(args[len(args)-2]+" "+filepath.Base(args[len(args)-1]), func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, 2, run(context.Background(), args, &out, &errb))
			assert.NotEmpty(t, errb.String())
		})
	}
}
