package dnscheck

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// countingServer answers REFUSED and counts the queries, so a test can tell
// that a rejected input asked nobody.
func countingServer(t *testing.T) (addr string, queries *atomic.Int32) {
	queries = new(atomic.Int32)
	addr = startDNS(t, loopbackNet()+"1", 0, dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		queries.Add(1)
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeRefused)
		_ = w.WriteMsg(m)
	}))
	return addr, queries
}

// TestCheckBadInputMore adds to TestCheckBadInput.
func TestCheckBadInputMore(t *testing.T) {
	addr, queries := countingServer(t)
	srv := []string{addr}
	tests := []struct {
		name string
		o    Options
	}{
		{"blank name", Options{Name: "  ", SkipSystem: true, Servers: srv}},
		{"space in name", Options{Name: "www example.test", SkipSystem: true, Servers: srv}},
		{"name too long", Options{Name: strings.Repeat("abcdefg.", 40) + "test", SkipSystem: true, Servers: srv}},
		{"empty type", Options{Name: "x.test", Types: []string{""}, SkipSystem: true, Servers: srv}},
		{"empty server", Options{Name: "x.test", SkipSystem: true, Servers: []string{""}}},
		{"server with unclosed bracket", Options{Name: "x.test", SkipSystem: true, Servers: []string{"[::1"}}},
		{"server with negative port", Options{Name: "x.test", SkipSystem: true, Servers: []string{"127.0.0.1:-53"}}},
		{"negative port", Options{Name: "x.test", SkipSystem: true, Servers: srv, Port: -1}},
		{"negative query timeout", Options{Name: "x.test", SkipSystem: true, Servers: srv, QueryTimeout: -time.Second}},
		{"negative dial timeout", Options{Name: "x.test", SkipSystem: true, Servers: srv, DialTimeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Result
			require.NotPanics(t, func() { r = Check(context.Background(), tt.o) })
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
		})
	}
	assert.Zero(t, queries.Load(), "no bad input reached the server")
}

// TestTraceBadInputMore adds to TestTraceBadInput.
func TestTraceBadInputMore(t *testing.T) {
	addr, queries := countingServer(t)
	hints := []string{addr}
	tests := []struct {
		name string
		o    TraceOptions
	}{
		{"blank name", TraceOptions{Name: " ", RootHints: hints}},
		{"space in name", TraceOptions{Name: "a b.test", RootHints: hints}},
		{"empty hint", TraceOptions{Name: "a.test", RootHints: []string{""}}},
		{"hint with a port out of range", TraceOptions{Name: "a.test", RootHints: []string{"127.0.0.1:70000"}}},
		{"negative port", TraceOptions{Name: "a.test", RootHints: hints, Port: -53}},
		{"port out of range", TraceOptions{Name: "a.test", RootHints: hints, Port: 1 << 16}},
		{"negative step timeout", TraceOptions{Name: "a.test", RootHints: hints, StepTimeout: -time.Second}},
		{"negative cname bound", TraceOptions{Name: "a.test", RootHints: hints, MaxCNAMEs: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r TraceResult
			require.NotPanics(t, func() { r = Trace(context.Background(), tt.o) })
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
			assert.Empty(t, r.Steps, "nothing asked")
		})
	}
	assert.Zero(t, queries.Load(), "no bad input reached the server")
}

// ParseResolvConf is lenient by contract: garbage is ignored, and only
// the reader's own error comes back.
func TestParseResolvConfBadInput(t *testing.T) {
	for _, in := range []string{
		"", "\x00\xff\xfe", "nameserver\n", "nameserver 999.1.1.1\n", "options ndots:-1 timeout:x attempts:\n",
		"search " + strings.Repeat("a.", 5000) + "\n", strings.Repeat("nameserver 127.0.0.1\n", 1000),
	} {
		require.NotPanics(t, func() {
			rc, err := ParseResolvConf(strings.NewReader(in))
			assert.NoError(t, err)
			for _, ns := range rc.Nameservers {
				_, err := netip.ParseAddrPort(ns)
				assert.NoError(t, err, "%q", in)
			}
			assert.True(t, rc.Ndots >= 0 && rc.Ndots <= 15, "ndots %d", rc.Ndots)
			assert.Positive(t, rc.Timeout)
			assert.Positive(t, rc.Attempts)
		})
	}
	cause := errors.New("disk gone")
	_, err := ParseResolvConf(iotest.ErrReader(cause))
	assert.ErrorIs(t, err, cause)
}
