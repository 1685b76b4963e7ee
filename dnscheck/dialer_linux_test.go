//go:build linux

package dnscheck

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testnet"
)

// TestDialerFromNamespace runs a resolver on a network namespace's own
// loopback, as a container's stub resolver runs: through the namespace's
// dialer the check and the application view reach it; from the host the
// same address is another resolver, or none.
func TestDialerFromNamespace(t *testing.T) {
	ns := testnet.New(t)
	c := ns // a Dialer from inside the namespace, as container.Container is
	var pc net.PacketConn
	var ln net.Listener
	require.NoError(t, ns.Do(func() error {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:53"); err != nil {
			return err
		}
		ln, err = net.Listen("tcp", "127.0.0.1:53")
		return err
	}))
	serveDNS(t, pc, ln, newZone(t, "internal.", "api A 10.1.2.3"))
	dir := t.TempDir()
	rc, hosts := filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(rc, []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644))
	require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644))
	want := netip.MustParseAddr("10.1.2.3")

	r := Check(context.Background(), Options{Name: "api.internal.", Types: []string{"A"}, ResolvConf: rc, HostsFile: hosts,
		Dialer: c, QueryTimeout: time.Second})
	require.NoError(t, r.Err)
	require.Len(t, r.Servers, 1)
	assert.Equal(t, []netip.Addr{want}, r.Servers[0].Answers[0].Addrs)
	require.NotNil(t, r.App)
	assert.Equal(t, []netip.Addr{want}, r.App.Addrs)

	lookup, err := AppLookupVia(hosts, rc, c)
	require.NoError(t, err)
	addrs, err := lookup(context.Background(), "api.internal")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{want}, addrs)

	// From the host, 127.0.0.1:53 is not that resolver.
	r = Check(context.Background(), Options{Name: "api.internal.", Types: []string{"A"}, ResolvConf: rc, HostsFile: hosts,
		QueryTimeout: 500 * time.Millisecond})
	assert.NotContains(t, r.Servers[0].Answers[0].Addrs, want)
}
