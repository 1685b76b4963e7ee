//go:build linux

package logscan

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testnet"
)

// TestIntegrationKernelSYNFlood makes the kernel warn of SYN floods for
// real: listeners with a backlog of one, in a namespace of their own, get
// more half-open handshakes than their SYN queues hold, because the
// clients' last ACK is dropped. The kernel warns once per listener, so
// the listeners (and their ports) are new on every run. Two of them make
// two records, which must keep their own texts.
func TestIntegrationKernelSYNFlood(t *testing.T) {
	f, err := os.Open("/dev/kmsg")
	if err != nil {
		t.Skipf("cannot read /dev/kmsg: %v", err)
	}
	f.Close()
	ns := testnet.New(t)
	testnet.RequireIPTables(t)
	ns.Exec(t, "sysctl", "-qw", "net.ipv4.tcp_syncookies=1")
	var ports []string
	for range 2 {
		_, ln := ns.ListenBacklog(t, "127.0.0.1:0", 1, -1)
		port := fmt.Sprint(ln.Port())
		ports = append(ports, port)
		// Only the bare ACK that ends a handshake is dropped: SYNs get
		// their SYN-ACK and the requests stay in the SYN queue.
		ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", port,
			"--tcp-flags", "SYN,ACK,FIN,RST", "ACK", "-j", "DROP")
		for range 4 {
			ns.Connect(t, ln)
		}
	}

	// A warning is a listener's when it names its port, on its own or
	// after the address (Linux 5.x and later print 127.0.0.1:PORT).
	find := func(r Result, port string) (Signal, bool) {
		for _, s := range r.Signals {
			if s.Code == CodeKernelSYNFlood && (s.Target == port || strings.HasSuffix(s.Target, ":"+port)) {
				return s, true
			}
		}
		return Signal{}, false
	}
	var r Result
	require.Eventually(t, func() bool {
		r = Check(context.Background(), Options{Kernel: true, Since: time.Minute})
		for _, p := range ports {
			if _, ok := find(r, p); !ok {
				return false
			}
		}
		return true
	}, 5*time.Second, 100*time.Millisecond, "no SYN flood warnings for ports %v in %+v", ports, r.Signals)
	require.NoError(t, r.Err)
	for _, p := range ports {
		s, _ := find(r, p)
		assert.Equal(t, 1, s.Count, "the kernel warns once per listener: %+v", s)
		assert.Contains(t, s.Example, "Possible SYN flooding on port ")
		assert.Contains(t, s.Example, ":"+p+".")
		assert.WithinDuration(t, time.Now(), s.Last, time.Minute)
	}
	f2, ok := r.Find(CodeKernelSYNFlood)
	require.True(t, ok, "findings: %v", codes(r))
	assert.Equal(t, "dmesg -T | grep -F 'SYN flooding'", f2.Command)
}
