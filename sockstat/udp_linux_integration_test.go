//go:build linux

package sockstat

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage/internal/testnet"
)

// listenUDP binds a UDP socket inside the namespace; it closes when the
// test ends.
func listenUDP(t *testing.T, ns *testnet.NS, addr string) netip.AddrPort {
	t.Helper()
	var c net.PacketConn
	require.NoError(t, ns.Do(func() (err error) {
		c, err = net.ListenPacket("udp", addr)
		return err
	}))
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TestIntegrationUDPListeners reads bound UDP sockets through sock_diag,
// not the /proc fixture: an IPv4 loopback one and a dual-stack wildcard
// one.
func TestIntegrationUDPListeners(t *testing.T) {
	ns := testnet.New(t)
	lo4 := listenUDP(t, ns, "127.0.0.1:0")
	any6 := listenUDP(t, ns, "[::]:0")
	// A TCP listener on the side, which a UDP question must not report.
	nsListen(t, ns, "127.0.0.1:0")
	want := []netip.AddrPort{
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), lo4.Port()),
		netip.AddrPortFrom(netip.IPv6Unspecified(), any6.Port()),
	}

	t.Run("check", func(t *testing.T) {
		r := Check(context.Background(), Options{NetNS: ns.Path, Protocols: UDP, Sample: -1})
		require.NoError(t, r.Err)
		assert.Equal(t, "netlink", r.Source.Name)
		var st unix.Stat_t
		require.NoError(t, unix.Stat(ns.Path, &st))
		assert.Equal(t, st.Ino, r.Source.NetNS, "the namespace read")
		assert.Equal(t, 2, r.UDP)
		assert.Zero(t, r.Total, "TCP was not asked")
		var got []netip.AddrPort
		for _, l := range r.Listeners {
			assert.Equal(t, UDP, l.Proto, "%+v", l)
			assert.NotZero(t, l.Inode)
			assert.Equal(t, l.Local.Addr().IsUnspecified(), l.DualStack, "%+v", l)
			got = append(got, l.Local)
		}
		assert.ElementsMatch(t, want, got)
	})

	t.Run("port asked", func(t *testing.T) {
		for _, ap := range want {
			r := Check(context.Background(), Options{NetNS: ns.Path, Protocols: UDP, Port: int(ap.Port()), Addr: netip.MustParseAddr("127.0.0.1"), Owners: true, Sample: -1})
			require.NoError(t, r.Err)
			f, ok := r.Find(CodeListening)
			require.True(t, ok, "%s: findings: %v", ap, r.Findings)
			assert.Equal(t, ap.Addr().String(), f.Evidence.String("addr"))
			require.Len(t, r.Listeners, 1)
			assert.Equal(t, UDP, r.Listeners[0].Proto)
			require.Len(t, r.Listeners[0].Processes, 1)
			assert.Equal(t, os.Getpid(), r.Listeners[0].Processes[0].PID)
		}
	})

	t.Run("sockets", func(t *testing.T) {
		l, err := Sockets(context.Background(), Options{NetNS: ns.Path, Protocols: UDP})
		require.NoError(t, err)
		assert.Equal(t, "netlink", l.Source.Name)
		assert.NotZero(t, l.Source.NetNS)
		var got []netip.AddrPort
		for _, s := range l.Sockets {
			assert.Equal(t, UDP, s.Proto, "%+v", s)
			assert.Equal(t, Close, s.State, "unconnected: %+v", s)
			got = append(got, netip.AddrPortFrom(s.Local.Addr().Unmap(), s.Local.Port()))
		}
		assert.ElementsMatch(t, want, got)
	})
}
