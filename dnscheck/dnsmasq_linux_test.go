package dnscheck

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
)

const dnsmasqPath = "/usr/sbin/dnsmasq"

// startDnsmasq runs dnsmasq in the foreground on ip with the given extra
// arguments and stops it when the test ends. It returns host:port.
func startDnsmasq(t *testing.T, ip string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(dnsmasqPath); err != nil {
		t.Skipf("dnsmasq not installed (%s, package dnsmasq-base): %v", dnsmasqPath, err)
	}
	// A free port: bind, note it, release it, hand it to dnsmasq.
	pc, err := net.ListenPacket("udp", ip+":0")
	require.NoError(t, err)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	cmd := exec.Command(dnsmasqPath, append([]string{
		"--no-daemon", "--no-resolv", "--no-hosts", "--log-facility=-",
		"--port=" + itoa(port), "--listen-address=" + ip, "--bind-interfaces",
		"--user=root", "--pid-file=",
	}, args...)...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		for range lines {
		}
	})
	addr := net.JoinHostPort(ip, itoa(port))
	// Ready when it answers.
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("ready.x.test.", dns.TypeA)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, err := c.Exchange(m, addr); err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			var log []string
			for len(lines) > 0 {
				log = append(log, <-lines)
			}
			t.Fatalf("dnsmasq on %s did not answer: %s", addr, strings.Join(log, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIntegrationDnsmasq(t *testing.T) {
	ip := loopbackNet() + "1"
	dm := startDnsmasq(t, ip, "--address=/x.test/127.0.0.9")
	// A second opinion that disagrees, served by miekg/dns.
	other := newZone(t, "x.test.", "api A 127.0.0.10")
	other.recursive = true
	theirs := startDNS(t, loopbackNet()+"2", 0, other)

	t.Run("answers", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "api.x.test", Types: []string{"A"}, Servers: []string{dm}, SkipSystem: true, QueryTimeout: time.Second})
		a := answer(t, r, 0, "A")
		assert.Equal(t, "NOERROR", a.Rcode)
		assert.Equal(t, []netip.Addr{netip.MustParseAddr("127.0.0.9")}, a.Addrs)
		assert.True(t, a.EDNS)
		assert.Equal(t, triage.OK, r.Status)
	})
	t.Run("no upstream", func(t *testing.T) {
		// --no-resolv leaves dnsmasq without upstreams for other names.
		r := Check(context.Background(), Options{Name: "www.elsewhere.test", Types: []string{"A"}, Servers: []string{dm}, SkipSystem: true, QueryTimeout: time.Second})
		assert.NotEqual(t, triage.OK, r.Status, "findings: %v", r.Findings)
		a := answer(t, r, 0, "A")
		assert.NotEqual(t, "NOERROR", a.Rcode)
	})
	t.Run("disagrees with another resolver", func(t *testing.T) {
		r := Check(context.Background(), Options{Name: "api.x.test", Types: []string{"A"}, Servers: []string{dm, theirs}, SkipSystem: true, QueryTimeout: time.Second})
		f, ok := r.Find(CodeMismatch)
		require.True(t, ok, "findings: %v", r.Findings)
		assert.Contains(t, f.Evidence.String("answers"), dm+" says 127.0.0.9")
		assert.Contains(t, f.Evidence.String("answers"), theirs+" says 127.0.0.10")
	})
}
