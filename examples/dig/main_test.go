package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func serve(t *testing.T, addr string, h dns.HandlerFunc) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	require.NoError(t, err)
	started := make(chan struct{})
	s := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = s.Shutdown(); <-done })
	return pc.LocalAddr().String()
}

func mustRR(t *testing.T, s string) dns.RR {
	r, err := dns.NewRR(s)
	require.NoError(t, err)
	return r
}

func TestDig(t *testing.T) {
	base := fmt.Sprintf("127.%d.%d.", 50+rand.IntN(150), rand.IntN(250))
	resolver := serve(t, base+"1:0", func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.RecursionAvailable = true
		switch {
		case req.Question[0].Name != "www.example.test.":
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{mustRR(t, "example.test. 60 IN SOA ns.example.test. admin.example.test. 1 60 60 60 60")}
		case req.Question[0].Qtype == dns.TypeA:
			m.Answer = []dns.RR{mustRR(t, "www.example.test. 300 IN A 192.0.2.1")}
		}
		_ = w.WriteMsg(m)
	})

	// A private root and a zone server on the same port.
	pc, err := net.ListenPacket("udp", base+"2:0")
	require.NoError(t, err)
	root := pc.LocalAddr().String()
	_, port, _ := net.SplitHostPort(root)
	pc.Close()
	serve(t, root, func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Ns = []dns.RR{mustRR(t, "example.test. 300 IN NS ns.example.test.")}
		m.Extra = []dns.RR{mustRR(t, "ns.example.test. 300 IN A "+base+"3")}
		_ = w.WriteMsg(m)
	})
	serve(t, base+"3:"+port, func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Answer = []dns.RR{mustRR(t, "www.example.test. 300 IN A 192.0.2.1")}
		_ = w.WriteMsg(m)
	})

	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		equal    string
	}{
		{name: "sections", args: []string{"@" + resolver, "www.example.test"}, contains: []string{
			";; ->>HEADER<<- opcode: QUERY, status: NOERROR",
			";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0",
			";; QUESTION SECTION:\n;www.example.test.\t\tIN\tA",
			";; ANSWER SECTION:\nwww.example.test.\t300\tIN\tA\t192.0.2.1",
			";; SERVER: " + base + "1#",
		}},
		{name: "short", args: []string{"@" + resolver, "www.example.test", "A", "+short"}, equal: "192.0.2.1\n"},
		{name: "nxdomain is an answer", args: []string{"@" + resolver, "nope.example.test", "AAAA"}, contains: []string{
			"status: NXDOMAIN", ";; AUTHORITY SECTION:", ";; dnscheck: fail dns.nxdomain",
		}},
		{name: "trace", args: []string{"www.example.test", "-trace", "-root", root, "-port", port}, contains: []string{
			"example.test.\t300\tIN\tNS\tns.example.test.",
			";; Received referral for www.example.test. A from " + base + "2#" + port,
			";; Received answer for www.example.test. A from " + base + "3#" + port + "(ns.example.test.)",
		}},
		{name: "usage", args: []string{"-bogus"}, code: 1},
		{name: "bad type", args: []string{"@" + resolver, "www.example.test", "NOPE"}, code: 1},
		{name: "no name", args: nil, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			t.Logf("dig %s\n%s", strings.Join(tt.args, " "), out.String())
			assert.Equal(t, tt.code, code, "stderr: %s", errb.String())
			for _, c := range tt.contains {
				assert.Contains(t, out.String(), c)
			}
			if tt.equal != "" {
				assert.Equal(t, tt.equal, out.String())
			}
		})
	}
	t.Run("no reply", func(t *testing.T) {
		silent := serve(t, base+"4:0", func(w dns.ResponseWriter, req *dns.Msg) {})
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"@" + silent, "www.example.test", "-timeout", "500ms"}, &out, &errb)
		assert.Equal(t, 9, code)
		assert.Contains(t, out.String(), ";; communications error to "+base+"4#")
	})
}
