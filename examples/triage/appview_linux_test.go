//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dnsmasq runs a real dnsmasq on port 53 of ip (resolv.conf cannot name
// a port) with the given records, until the test ends.
func dnsmasq(t *testing.T, ip string, args ...string) {
	t.Helper()
	const path = "/usr/sbin/dnsmasq"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("dnsmasq not installed (%s, package dnsmasq-base): %v", path, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to serve DNS on port 53")
	}
	cmd := exec.Command(path, append([]string{"--no-daemon", "--no-resolv", "--no-hosts", "--log-facility=-",
		"--port=53", "--listen-address=" + ip, "--bind-interfaces", "--user=root", "--pid-file="}, args...)...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("ready.test.", dns.TypeA)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, _, err := c.Exchange(m, net.JoinHostPort(ip, "53")); err == nil {
			return
		}
		require.True(t, time.Now().Before(deadline), "dnsmasq did not answer on %s", ip)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIntegrationRequestResolvesAsTheApplication: -resolv-conf and
// -hosts-file apply to the request itself. A container's resolver (real
// dnsmasq) still serves an old address for the service, which now listens
// elsewhere; this host's resolver does not know the name at all. The
// request goes where the container's would, is refused there, and the
// report says the service listens on another address: not that the name
// does not exist.
func TestIntegrationRequestResolvesAsTheApplication(t *testing.T) {
	ip := fmt.Sprintf("127.%d.%d.53", 50+rand.IntN(150), rand.IntN(250))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	dnsmasq(t, ip, "--address=/orders.corp.test/127.0.0.9")

	dir := t.TempDir()
	rc, hosts := filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(rc, []byte("nameserver "+ip+"\noptions timeout:1 attempts:1\n"), 0o644))
	require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644))

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "8s", "-url", "http://orders.corp.test:" + port + "/",
		"-resolv-conf", rc, "-hosts-file", hosts}, &out, &errb)
	require.NotEqual(t, exitUsage, code, errb.String())
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.Equal(t, "refused", rep.Symptom)
	require.NotEmpty(t, rep.Hypotheses, out.String())
	assert.Equal(t, "refused.wrong_address", rep.Hypotheses[0].ID, "ranking: %v", hypotheses(rep))
	assert.NotContains(t, hypotheses(rep), "dns.nxdomain")
	for _, r := range rep.Results {
		if r.Name != requestName {
			continue
		}
		for _, f := range r.Findings {
			assert.Equal(t, "127.0.0.9", f.Evidence["addr"], "the request went where the container's resolver said")
			assert.Contains(t, f.Command, "--resolve orders.corp.test:"+port+":127.0.0.9")
		}
	}
	assert.Equal(t, exitTrouble, code)

	// The same name through a hosts file that pins the new address: the
	// request works, and what is left to say is that the hosts file
	// overrides a record DNS still serves.
	require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost orders.corp.test\n"), 0o644))
	out.Reset()
	code = run(context.Background(), []string{"-json", "-timeout", "8s", "-url", "http://orders.corp.test:" + port + "/",
		"-resolv-conf", rc, "-hosts-file", hosts}, &out, &errb)
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.Equal(t, "none", rep.Symptom, out.String())
	require.NotEmpty(t, rep.Hypotheses, out.String())
	assert.Equal(t, "dns.hosts_override", rep.Hypotheses[0].ID)
	assert.Equal(t, exitTrouble, code)
}
