//go:build linux

package dnscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnet"
)

const (
	helperEnv = "DNSCHECK_TEST_IPV6_HELPER"
	// hungPort is free in the fresh namespace the helper runs in.
	hungPort = 8443
)

// TestIntegrationIPv6Hangs is "works on IPv4, hangs on IPv6": the service
// listens on both families but ip6tables drops SYNs to it, so dialling the
// AAAA address times out while the A address connects. The check runs in
// a child process inside a throwaway namespace, because Check's goroutines
// would not run inside it.
func TestIntegrationIPv6Hangs(t *testing.T) {
	ns := testnet.New(t)
	testnet.RequireIPTables(t)
	if _, err := exec.LookPath("ip6tables"); err != nil {
		t.Skip("needs ip6tables")
	}
	ns.Exec(t, "ip6tables", "-A", "INPUT", "-p", "tcp", "--dport", itoa(hungPort), "-j", "DROP")

	cmd := ns.Command(os.Args[0], "-test.run=^TestIPv6Helper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.Output()
	require.NoError(t, err, "helper: %s", out)
	var got helperReport
	require.NoError(t, json.Unmarshal(lastLine(out), &got), "%s", out)
	if got.Skip != "" {
		t.Skip(got.Skip)
	}
	assert.Contains(t, got.Codes, CodeIPv6Unreachable)
	assert.Equal(t, triage.Fail, got.Status)
	assert.True(t, got.IPv4Reachable)
	assert.True(t, got.Timeout, "a dropped SYN is a timeout: %s", got.Error)
	assert.Less(t, got.Duration, 3*time.Second+time.Second)
}

type helperReport struct {
	Skip          string        `json:"skip,omitempty"`
	Codes         []triage.Code `json:"codes"`
	Status        triage.Status `json:"status"`
	IPv4Reachable bool          `json:"ipv4_reachable"`
	Timeout       bool          `json:"timeout"`
	Error         string        `json:"error"`
	Duration      time.Duration `json:"duration"`
}

// lastLine returns the helper's JSON line; the test framework prints its
// own lines around it.
func lastLine(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if bytes.HasPrefix(lines[i], []byte("{")) {
			return lines[i]
		}
	}
	return nil
}

// TestIPv6Helper runs inside the namespace for TestIntegrationIPv6Hangs.
func TestIPv6Helper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("runs only as TestIntegrationIPv6Hangs's child")
	}
	report := func(r helperReport) {
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
	}
	for _, a := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(a, itoa(hungPort)))
		if err != nil {
			report(helperReport{Skip: "cannot listen on " + a + ": " + err.Error()})
			return
		}
		defer ln.Close()
	}
	z := newZone(t, "example.test.", "dual A 127.0.0.1", "dual AAAA ::1")
	z.recursive = true
	addr := startDNS(t, "127.0.0.1", 0, z)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r := Check(ctx, Options{Name: "dual.example.test.", Servers: []string{addr}, SkipSystem: true,
		Port: hungPort, DialTimeout: 500 * time.Millisecond})
	out := helperReport{Codes: codes(r.Result), Status: r.Status, Duration: r.Duration}
	if f, ok := r.Find(CodeIPv6Unreachable); ok {
		v, _ := f.Evidence.Lookup("ipv4_reachable")
		out.IPv4Reachable = v.Bool()
		out.Error = f.Evidence.String("error")
	}
	for _, x := range r.Reach {
		if x.Addr.Addr().Is6() {
			out.Timeout = isTimeout(x.Err)
		}
	}
	report(out)
}
