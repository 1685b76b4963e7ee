package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// The bad-input tables below add to TestTCPInvalid, TestHTTPInvalid and
// TestDBInvalid: every case is rejected before anything is dialled or
// pinged, with an error that matches triage.ErrInvalid and an Unknown
// result.

// countingListener accepts on loopback and counts the connections, so a
// test can tell that a rejected input never reached the network.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted = new(atomic.Int32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String(), accepted
}

func assertInvalid(t *testing.T, r triage.Result) {
	t.Helper()
	assert.ErrorIs(t, r.Err, triage.ErrInvalid)
	assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
}

func TestTCPBadInput(t *testing.T) {
	addr, accepted := countingListener(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		opts TCPOptions
	}{
		{"blank", TCPOptions{Address: "   "}},
		{"negative port", TCPOptions{Address: "127.0.0.1:-1"}},
		{"unclosed bracket", TCPOptions{Address: "[::1:" + port}},
		{"too many colons", TCPOptions{Address: "127.0.0.1:" + port + ":1"}},
		{"space in host", TCPOptions{Address: "a b:" + port}},
		{"control byte in host", TCPOptions{Address: "a\x00b:" + port}},
		{"host too long", TCPOptions{Address: strings.Repeat("a", 300) + ":" + port}},
		{"v4 over tcp6", TCPOptions{Address: addr, Network: "tcp6"}},
		{"unknown network", TCPOptions{Address: addr, Network: "tcp5"}},
		{"negative timeout", TCPOptions{Address: addr, Timeout: -time.Nanosecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := TCP(context.Background(), tc.opts)
			assertInvalid(t, r.Result)
			assert.Empty(t, r.Attempts)
		})
	}
	assert.Zero(t, accepted.Load(), "no bad input reached the listener")
}

func TestHTTPBadInput(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	u := srv.URL + "/"
	for _, tc := range []struct {
		name string
		opts HTTPOptions
	}{
		{"blank", HTTPOptions{URL: "  "}},
		{"relative", HTTPOptions{URL: "/healthz"}},
		{"no scheme", HTTPOptions{URL: strings.TrimPrefix(u, "http://")}},
		{"bad escape", HTTPOptions{URL: u + "%zz"}},
		{"unclosed bracket", HTTPOptions{URL: "http://[::1/"}},
		{"negative port", HTTPOptions{URL: "http://127.0.0.1:-1/"}},
		{"user info only", HTTPOptions{URL: "http://user@/"}},
		{"control byte", HTTPOptions{URL: u + "\x7f"}},
		{"space in method", HTTPOptions{URL: u, Method: "GE T"}},
		{"bad header name", HTTPOptions{URL: u, Header: http.Header{"Bad Name": {"v"}}}},
		{"newline in header value", HTTPOptions{URL: u, Header: http.Header{"X-A": {"v\r\nX-Injected: 1"}}}},
		{"negative redirects", HTTPOptions{URL: u, FollowRedirects: true, MaxRedirects: -1}},
		{"negative timeout", HTTPOptions{URL: u, Timeout: -time.Second}},
		{"empty resolve entry", HTTPOptions{URL: u, Resolve: []string{""}}},
		{"resolve without address", HTTPOptions{URL: u, Resolve: []string{"x:80:"}}},
		{"resolve port out of range", HTTPOptions{URL: u, Resolve: []string{"x:70000:127.0.0.1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := HTTP(context.Background(), tc.opts)
			assertInvalid(t, r.Result)
			assert.Empty(t, r.Attempts)
		})
	}
	assert.Zero(t, hits.Load(), "no bad input reached the server")
}

func TestDBBadInput(t *testing.T) {
	db := openSQLite(t)
	for _, tc := range []struct {
		name string
		opts DBOptions
	}{
		{"negative interval", DBOptions{Interval: -time.Millisecond}},
		{"negative ping timeout", DBOptions{PingTimeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := DB(context.Background(), db, tc.opts)
			assertInvalid(t, r.Result)
			assert.Zero(t, r.Ping, "nothing pinged")
		})
	}
}

func TestValidHost(t *testing.T) {
	for _, h := range []string{"localhost", "a.example.", "_dmarc.example.com", "x-1.y", "127.0.0.1", "::1", "fe80::1%lo", "bücher.example"} {
		assert.True(t, validHost(h), h)
	}
	for _, h := range []string{"", ".", "a..b", "-a.b", "a-.b", "a b", "a\x00b", "a/b", "a:b", strings.Repeat("a", 64) + ".b", strings.Repeat("a.", 127) + "ab"} {
		assert.False(t, validHost(h), "%q", h)
	}
}
