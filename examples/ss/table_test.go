package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/sockstat"
)

// tabwritten lays the sockets out the way text/tabwriter does with a
// padding of two, as the command did before it wrote its table itself.
func tabwritten(socks []sockstat.Socket, procs bool) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	head := "Netid\tState\tRecv-Q\tSend-Q\tLocal Address:Port\tPeer Address:Port"
	if procs {
		head += "\tProcess"
	}
	fmt.Fprintln(tw, head)
	for _, s := range socks {
		peer := "*:*"
		if s.Peer.IsValid() && (s.Peer.Port() != 0 || !s.Peer.Addr().IsUnspecified()) {
			peer = s.Peer.String()
		}
		line := fmt.Sprintf("%s\t%s\t%d\t%d\t%s\t%s", s.Proto, s.State, s.RecvQ, s.SendQ, s.Local, peer)
		if procs {
			var ps []string
			for _, p := range s.Processes {
				ps = append(ps, fmt.Sprintf("(%q,pid=%d)", p.Name, p.PID))
			}
			line += "\t" + strings.Join(ps, ",")
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	return b.String()
}

func TestWriteTableLaysOutLikeTabwriter(t *testing.T) {
	ap := netip.MustParseAddrPort
	socks := []sockstat.Socket{
		{Proto: sockstat.TCP, State: sockstat.Listen, Local: ap("0.0.0.0:22"), Peer: ap("0.0.0.0:0"), SendQ: 4096,
			Processes: []sockstat.Process{{PID: 1, Name: "sshd"}}},
		{Proto: sockstat.TCP, State: sockstat.Established, Local: ap("10.0.0.5:22"), Peer: ap("192.168.100.200:61234"), RecvQ: 1234567,
			Processes: []sockstat.Process{{PID: 4242, Name: `odd "name"`}, {PID: 4243, Name: "w"}}},
		{Proto: sockstat.TCP, State: sockstat.FinWait1, Local: ap("[2001:db8::1]:443"), Peer: ap("[2001:db8:ffff::abcd]:50000")},
		{Proto: sockstat.TCP, State: sockstat.NewSynRecv, Local: ap("[::ffff:10.1.2.3]:80"), Peer: ap("[::ffff:10.9.8.7]:1")},
		{Proto: sockstat.UDP, State: sockstat.Close, Local: ap("127.0.0.1:53")},
		{Proto: sockstat.UDP, State: sockstat.Established, Local: ap("[fe80::1%eth0]:546"), Peer: ap("[fe80::2%eth0]:547")},
	}
	for _, procs := range []bool{false, true} {
		t.Run(fmt.Sprintf("procs=%v", procs), func(t *testing.T) {
			var b bytes.Buffer
			w := bufio.NewWriterSize(&b, 4096)
			require.NoError(t, writeTable(w, socks, procs))
			require.NoError(t, w.Flush())
			assert.Equal(t, tabwritten(socks, procs), b.String())
		})
	}
	t.Run("lines longer than the buffer", func(t *testing.T) {
		many := make([]sockstat.Process, 100)
		for i := range many {
			many[i] = sockstat.Process{PID: 100000 + i, Name: "worker"}
		}
		long := []sockstat.Socket{{Proto: sockstat.TCP, State: sockstat.Listen, Local: ap("0.0.0.0:80"), Processes: many}}
		var b bytes.Buffer
		w := bufio.NewWriterSize(&b, 512)
		require.NoError(t, writeTable(w, long, true))
		require.NoError(t, w.Flush())
		assert.Equal(t, tabwritten(long, true), b.String())
	})
}

func TestAddrPortLen(t *testing.T) {
	for _, s := range []string{"0.0.0.0:0", "1.2.3.4:5", "255.255.255.255:65535", "10.0.0.10:8080", "[::1]:1", "[::ffff:1.2.3.4]:9", "[fe80::1%eth0]:22"} {
		p := netip.MustParseAddrPort(s)
		assert.Equal(t, len(p.String()), addrPortLen(p), s)
	}
	assert.Equal(t, 3, addrPortLen(netip.AddrPort{}))
}
