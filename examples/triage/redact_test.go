package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestRedactorIsConsistent(t *testing.T) {
	c := &config{url: "https://api.corp.example:8443/orders", dep: listFlag{"db.corp.example:5432", "http://admin:pw@cache.corp.example/"}}
	r := newRedactor(c, []triage.Outcome{&triage.Result{Check: "dnscheck", Target: triage.Target{Name: "corp.example"}}})
	in := "GET https://api.corp.example:8443/orders (10.1.2.3:8443) refused; db.corp.example. at 10.1.2.4, " +
		"api.corp.example again at 10.1.2.3; corp.example; myapi.corp.example.org stays; localhost 127.0.0.1 [::1] kept; " +
		"2001:db8:1::7 and fe80::1; at 18:22:28 nothing; cache.corp.example"
	out := string(r.redact([]byte(in)))
	for _, secret := range []string{"corp.example:", "10.1.2.3", "10.1.2.4", "2001:db8:1::7", "cache.corp"} {
		assert.NotContains(t, out, secret)
	}
	assert.Equal(t, 2, strings.Count(out, r.names["api.corp.example"]), out)
	assert.Equal(t, 2, strings.Count(out, r.addrs[mustAddr("10.1.2.3")]), "the same address, the same stand-in: %s", out)
	assert.NotEqual(t, r.addrs[mustAddr("10.1.2.3")], r.addrs[mustAddr("10.1.2.4")])
	for _, kept := range []string{"localhost 127.0.0.1 [::1]", "fe80::1", "18:22:28", "myapi.corp.example.org"} {
		assert.Contains(t, out, kept)
	}
}

// TestRedactedReportIsStillJSON: -redact -json names no host of the run
// and is still a report a program can read.
func TestRedactedReportIsStillJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-redact", "-timeout", "3s", "-addr", "orders.invalid:8080"}, &out, &errb)
	require.NotEqual(t, exitUsage, code, errb.String())
	assert.NotContains(t, out.String(), "orders.invalid")
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.NotEmpty(t, rep.Results)
}
