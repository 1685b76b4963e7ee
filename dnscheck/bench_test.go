package dnscheck

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// benchQuery bounds the benchmarks' queries: generously, as a stall of a
// busy machine that outlasts a test's short timeout would fail the run.
const benchQuery = 5 * time.Second

func benchServer(b *testing.B) string {
	z := exampleZone(b)
	z.recursive = true
	return startDNS(b, loopbackNet()+"1", 0, z)
}

// BenchmarkQuery is one direct A query to a loopback server with EDNS0,
// the hot path of Check.
func BenchmarkQuery(b *testing.B) {
	addr := benchServer(b)
	e := exchanger{timeout: benchQuery, recurse: true}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		a := e.query(ctx, addr, "www.example.test.", dns.TypeA)
		if len(a.Addrs) != 1 {
			b.Fatalf("answer: %+v", a)
		}
	}
}

// BenchmarkQueryBare is the same exchange with miekg/dns alone (no
// fallbacks, no result building), the floor BenchmarkQuery is held to.
func BenchmarkQueryBare(b *testing.B) {
	addr := benchServer(b)
	c := &dns.Client{Timeout: benchQuery}
	b.ReportAllocs()
	for b.Loop() {
		m := new(dns.Msg)
		m.SetQuestion("www.example.test.", dns.TypeA)
		m.SetEdns0(ednsSize, false)
		r, _, err := c.Exchange(m, addr)
		if err != nil || len(r.Answer) != 1 {
			b.Fatalf("%v %v", r, err)
		}
	}
}

// BenchmarkCheck is a whole Check (A and AAAA, compared) against one
// loopback server.
func BenchmarkCheck(b *testing.B) {
	addr := benchServer(b)
	o := Options{Name: "www.example.test", Servers: []string{addr}, SkipSystem: true, QueryTimeout: benchQuery}
	b.ReportAllocs()
	for b.Loop() {
		r := Check(context.Background(), o)
		if len(r.Findings) != 2 {
			b.Fatalf("findings: %v", r.Findings)
		}
	}
}

func BenchmarkParseResolvConf(b *testing.B) {
	data, err := os.ReadFile("testdata/resolv-full.conf")
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseResolvConf(strings.NewReader(string(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommand times whole programs against the same loopback server
// in the same run: dig(1) (package dnsutils) and examples/dig, both with
// +short. Each iteration is one process.
func BenchmarkCommand(b *testing.B) {
	addr := benchServer(b)
	host, port, _ := net.SplitHostPort(addr)
	run := func(b *testing.B, name string, args ...string) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := exec.Command(name, args...).Output()
			if err != nil || strings.TrimSpace(string(out)) != "192.0.2.1" {
				b.Fatalf("%s: %v: %q", name, err, out)
			}
		}
	}
	b.Run("dig", func(b *testing.B) {
		dig, err := exec.LookPath("dig")
		if err != nil {
			b.Skip("dig not installed (package dnsutils)")
		}
		run(b, dig, "@"+host, "-p", port, "www.example.test", "A", "+short", "+tries=1")
	})
	b.Run("examples-dig", func(b *testing.B) {
		gobin, err := exec.LookPath("go")
		if err != nil {
			b.Skip("go not on PATH")
		}
		bin := filepath.Join(b.TempDir(), "dig")
		if out, err := exec.Command(gobin, "build", "-o", bin, "../examples/dig").CombinedOutput(); err != nil {
			b.Skipf("cannot build examples/dig: %v: %s", err, out)
		}
		run(b, bin, "@"+addr, "www.example.test", "A", "+short")
	})
}

// TestBenchServers serves bench/compare.sh's DNS rig until it is killed: a
// resolver, and a root, a TLD and a zone for www.example.test, on loopback
// addresses that share one port (referrals and glue carry no port). It
// runs only when TRIAGE_BENCH_DNS names a directory, where it writes
// "servers", shell assignments of RESOLVER, ROOT (host:port) and PORT,
// and "hosts", the /etc/hosts lines dig +trace needs: it looks every
// nameserver up by name, glue or not.
func TestBenchServers(t *testing.T) {
	dir := os.Getenv("TRIAGE_BENCH_DNS")
	if dir == "" {
		t.Skip("serves bench/compare.sh's DNS rig; set TRIAGE_BENCH_DNS to a directory")
	}
	base := loopbackNet()
	ip := func(n int) string { return base + itoa(n) }
	resolver := exampleZone(t)
	resolver.recursive = true
	addr := startDNS(t, ip(4), 0, resolver)
	_, p, _ := net.SplitHostPort(addr)
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	root := startDNS(t, ip(1), port, newZone(t, ".",
		"@ NS a.root.test.",
		"test. NS ns.test.",
		"ns.test. A "+ip(2),
	))
	startDNS(t, ip(2), port, newZone(t, "test.",
		"example.test. NS ns1.example.test.",
		"ns1.example.test. A "+ip(3),
	))
	startDNS(t, ip(3), port, exampleZone(t))
	servers := fmt.Sprintf("RESOLVER=%s\nROOT=%s\nPORT=%d\n", addr, root, port)
	hosts := fmt.Sprintf("%s a.root.test\n%s ns.test\n%s ns1.example.test\n", ip(1), ip(2), ip(3))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "servers"), []byte(servers), 0o644))
	fmt.Println("ready")
	select {}
}
