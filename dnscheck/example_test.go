package dnscheck_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/triagekit/triage/dnscheck"
)

// serve answers queries with h on addr (UDP) until stop is called.
func serve(addr string, h dns.HandlerFunc) (string, func()) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		panic(err)
	}
	started := make(chan struct{})
	s := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go s.ActivateAndServe()
	<-started
	return pc.LocalAddr().String(), func() { s.Shutdown() }
}

// rr builds a record from zone-file text.
func rr(s string) dns.RR {
	r, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return r
}

func ExampleCheck() {
	// A resolver that knows www.example.test has an IPv4 address only.
	addr, stop := serve("127.0.0.1:0", func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.RecursionAvailable = true
		if req.Question[0].Qtype == dns.TypeA {
			m.Answer = append(m.Answer, rr("www.example.test. 300 IN A 192.0.2.1"))
		}
		w.WriteMsg(m)
	})
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := dnscheck.Check(ctx, dnscheck.Options{
		Name:       "www.example.test",
		Servers:    []string{addr},
		SkipSystem: true, // only the server above; leave this host's resolv.conf alone
	})
	fmt.Println("status:", r.Status)
	for _, f := range r.Findings {
		fmt.Println(f.Code, f.Summary)
	}
	for _, a := range r.Servers[0].Answers {
		fmt.Println(a.Type, a.Rcode, a.Addrs)
	}
	// Output:
	// status: ok
	// dns.resolved www.example.test. A resolves to 192.0.2.1 (1 of 1 servers)
	// dns.no_aaaa www.example.test. has no AAAA records (IPv4 only: 192.0.2.1)
	// A NOERROR [192.0.2.1]
	// AAAA NOERROR []
}

func ExampleTrace() {
	// A private root on 127.0.0.1 delegates example.test to a server on
	// 127.0.0.2; both listen on the same port, as servers learnt from
	// glue are asked on TraceOptions.Port.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	root := pc.LocalAddr().String()
	_, port, _ := net.SplitHostPort(root)
	pc.Close()
	root, stopRoot := serve(root, func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Ns = []dns.RR{rr("example.test. 300 IN NS ns.example.test.")}
		m.Extra = []dns.RR{rr("ns.example.test. 300 IN A 127.0.0.2")}
		w.WriteMsg(m)
	})
	defer stopRoot()
	_, stopZone := serve("127.0.0.2:"+port, func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Answer = []dns.RR{rr("www.example.test. 300 IN A 192.0.2.1")}
		w.WriteMsg(m)
	})
	defer stopZone()

	p, _ := strconv.Atoi(port)
	r := dnscheck.Trace(context.Background(), dnscheck.TraceOptions{
		Name:      "www.example.test",
		RootHints: []string{root},
		Port:      p,
	})
	for _, s := range r.Steps {
		fmt.Println(strings.TrimSpace(s.Zone + " " + string(s.Kind) + " " + s.Referral))
	}
	fmt.Println(r.Status, r.Addrs)
	// Output:
	// . referral example.test.
	// example.test. answer
	// ok [192.0.2.1]
}

func ExampleParseResolvConf() {
	rc, err := dnscheck.ParseResolvConf(strings.NewReader(`
nameserver 10.96.0.10
nameserver ::1
search default.svc.cluster.local svc.cluster.local cluster.local
options ndots:5
`))
	if err != nil {
		panic(err)
	}
	fmt.Println(rc.Nameservers, rc.Ndots)
	for _, name := range rc.Candidates("api.example.com") {
		fmt.Println(name)
	}
	// Output:
	// [10.96.0.10:53 [::1]:53] 5
	// api.example.com.default.svc.cluster.local.
	// api.example.com.svc.cluster.local.
	// api.example.com.cluster.local.
	// api.example.com.
}
