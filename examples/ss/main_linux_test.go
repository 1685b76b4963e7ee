//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testnet"
	"github.com/triagekit/triage/sockstat"
)

func TestIntegrationSS(t *testing.T) {
	ns := testnet.New(t)
	var ln net.Listener
	require.NoError(t, ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}))
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// Bound UDP sockets, read through sock_diag like the TCP ones.
	var udp4, udp6 net.PacketConn
	require.NoError(t, ns.Do(func() (err error) {
		if udp4, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return err
		}
		udp6, err = net.ListenPacket("udp", "[::]:0")
		return err
	}))
	defer udp4.Close()
	defer udp6.Close()
	u4 := fmt.Sprintf("127.0.0.1:%d", udp4.LocalAddr().(*net.UDPAddr).Port)
	u6 := fmt.Sprintf("[::]:%d", udp6.LocalAddr().(*net.UDPAddr).Port)
	tcp4 := fmt.Sprintf("127.0.0.1:%d", port)

	tests := []struct {
		name string
		args []string
		code int
		want []string
		not  []string
	}{
		{"listeners with owners", []string{"-l", "-p"}, 0, []string{"LISTEN", tcp4, "Process", "pid="}, []string{"udp"}},
		{"bundled like ss -lntp", []string{"-lntp"}, 0, []string{"LISTEN", tcp4, "pid="}, []string{"udp"}},
		{"bundle with a non-switch", []string{"-lx"}, 2, nil, nil},
		{"summary", []string{"-s"}, 0, []string{"TCP: 1 (source netlink)", "LISTEN"}, nil},
		{"by port and state", []string{"-t", "-port", fmt.Sprint(port), "-state", "listen"}, 0, []string{"LISTEN"}, nil},
		{"udp only", []string{"-u"}, 0, []string{"Netid", u4, u6}, []string{"tcp"}},
		{"udp listeners", []string{"-u", "-l"}, 0, []string{"udp", "UNCONN", u4, u6}, []string{"tcp", "LISTEN"}},
		{"udp listeners with owners", []string{"-lunp"}, 0, []string{u4, u6, "pid="}, []string{"tcp"}},
		{"bad state", []string{"-state", "nope"}, 2, nil, nil},
		{"unknown flag", []string{"-x"}, 2, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append(tt.args, "-netns", ns.Path), &out, &errb)
			assert.Equal(t, tt.code, code, errb.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
			// Whole columns: a port number may well be in use by
			// both protocols.
			cols := strings.Fields(out.String())
			for _, w := range tt.not {
				assert.NotContains(t, cols, w)
			}
		})
	}

	var out, errb bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-json", "-l", "-netns", ns.Path}, &out, &errb), errb.String())
	var l sockstat.Listing
	require.NoError(t, json.Unmarshal(out.Bytes(), &l))
	require.Len(t, l.Sockets, 1)
	assert.Equal(t, port, int(l.Sockets[0].Local.Port()))

	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"-json", "-u", "-l", "-netns", ns.Path}, &out, &errb), errb.String())
	l = sockstat.Listing{}
	require.NoError(t, json.Unmarshal(out.Bytes(), &l))
	assert.Equal(t, "netlink", l.Source.Name)
	var got []string
	for _, s := range l.Sockets {
		assert.Equal(t, sockstat.UDP, s.Proto)
		got = append(got, s.Local.String())
	}
	assert.ElementsMatch(t, []string{u4, u6}, got)
}
