package probe

import (
	"context"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnet"
)

// nsListen listens inside the namespace.
func nsListen(t *testing.T, ns *testnet.NS, address string) net.Listener {
	t.Helper()
	return ns.Listen(t, "tcp", address)
}

func TestIntegrationTCPNamespace(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, ns *testnet.NS) string // returns the target
		code  triage.Code
		class ErrorClass
		errno error
	}{
		{
			// The listener is there; the namespace's firewall drops SYNs to
			// it, so the client retransmits until the deadline.
			name: "syn dropped",
			setup: func(t *testing.T, ns *testnet.NS) string {
				testnet.RequireIPTables(t)
				ln := nsListen(t, ns, "127.0.0.1:0")
				_, port, _ := net.SplitHostPort(ln.Addr().String())
				ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", port, "-j", "DROP")
				return ln.Addr().String()
			},
			code: CodeTCPTimeout, class: ClassTimeout,
		},
		{
			// A prohibit route refuses locally with EACCES, as an LSM or a
			// cgroup connect hook does. (An iptables OUTPUT DROP does not:
			// TCP ignores the EPERM on the SYN and retransmits, so it looks
			// like a timeout.)
			name: "blocked by local policy",
			setup: func(t *testing.T, ns *testnet.NS) string {
				ns.Exec(t, "ip", "route", "add", "prohibit", "10.97.0.0/24")
				return "10.97.0.1:80"
			},
			code: CodeTCPBlocked, class: ClassBlocked, errno: syscall.EACCES,
		},
		{
			name: "rejected",
			setup: func(t *testing.T, ns *testnet.NS) string {
				testnet.RequireIPTables(t)
				ln := nsListen(t, ns, "127.0.0.1:0")
				_, port, _ := net.SplitHostPort(ln.Addr().String())
				ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", port, "-j", "REJECT", "--reject-with", "tcp-reset")
				return ln.Addr().String()
			},
			code: CodeTCPRefused, class: ClassRefused, errno: syscall.ECONNREFUSED,
		},
		{
			// Only lo is up: there is no route to anywhere else.
			name:  "network unreachable",
			setup: func(*testing.T, *testnet.NS) string { return "10.99.0.1:80" },
			code:  CodeTCPUnreachable, class: ClassUnreachable, errno: syscall.ENETUNREACH,
		},
		{
			name: "host unreachable",
			setup: func(t *testing.T, ns *testnet.NS) string {
				ns.Exec(t, "ip", "route", "add", "unreachable", "10.98.0.0/24")
				return "10.98.0.1:80"
			},
			code: CodeTCPUnreachable, class: ClassUnreachable, errno: syscall.EHOSTUNREACH,
		},
		{
			// One ephemeral port and it is taken by a connection to the
			// same destination: the next connect has no local port left.
			name: "ports exhausted",
			setup: func(t *testing.T, ns *testnet.NS) string {
				ln := nsListen(t, ns, "127.0.0.1:8080")
				ns.Exec(t, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=40000 40000")
				c, err := ns.DialContext(context.Background(), "tcp", ln.Addr().String())
				require.NoError(t, err)
				t.Cleanup(func() { _ = c.Close() })
				return ln.Addr().String()
			},
			code: CodeTCPPortsExhausted, class: ClassPortsExhausted, errno: syscall.EADDRNOTAVAIL,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := testnet.New(t)
			target := tt.setup(t, ns)
			within(t, 2*time.Second, func(ctx context.Context) {
				r := TCP(ctx, TCPOptions{Address: target, Timeout: 700 * time.Millisecond, Dialer: ns})
				require.NoError(t, r.Err)
				require.Len(t, r.Attempts, 1)
				a := r.Attempts[0]
				assert.Equal(t, tt.class, a.Class, "error: %v", a.Err)
				if tt.errno != nil {
					assert.ErrorIs(t, a.Err, tt.errno)
				}
				assert.True(t, r.Has(tt.code), "findings: %v", r.Findings)
				assert.Equal(t, triage.Fail, r.Status)
				f, _ := r.Find(tt.code)
				host, port, _ := net.SplitHostPort(target)
				assert.Equal(t, host, f.Evidence.String("addr"))
				assert.Equal(t, port, strconv.Itoa(int(a.Addr.Port())))
			})
		})
	}
}
