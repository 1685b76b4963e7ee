//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
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

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"listeners with owners", []string{"-l", "-p"}, 0, []string{"LISTEN", fmt.Sprintf("127.0.0.1:%d", port), "Process", "pid="}},
		{"bundled like ss -lntp", []string{"-lntp"}, 0, []string{"LISTEN", fmt.Sprintf("127.0.0.1:%d", port), "pid="}},
		{"bundle with a non-switch", []string{"-lx"}, 2, nil},
		{"summary", []string{"-s"}, 0, []string{"TCP: 1 (source netlink)", "LISTEN"}},
		{"by port and state", []string{"-t", "-port", fmt.Sprint(port), "-state", "listen"}, 0, []string{"LISTEN"}},
		{"udp only", []string{"-u"}, 0, []string{"Netid"}},
		{"bad state", []string{"-state", "nope"}, 2, nil},
		{"unknown flag", []string{"-x"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append(tt.args, "-netns", ns.Path), &out, &errb)
			assert.Equal(t, tt.code, code, errb.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}

	var out, errb bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-json", "-l", "-netns", ns.Path}, &out, &errb), errb.String())
	var l sockstat.Listing
	require.NoError(t, json.Unmarshal(out.Bytes(), &l))
	require.Len(t, l.Sockets, 1)
	assert.Equal(t, port, int(l.Sockets[0].Local.Port()))
}
