package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/probe"
)

// drillName is the service's name; .test is reserved for such use.
const drillName = "api.drill.test"

// staleAddr is where the service ran before it moved to 127.0.0.1; one
// resolver still hands it out.
var staleAddr = netip.MustParseAddr("127.0.0.99")

// setupDNS serves on 127.0.0.1 and starts two resolvers on loopback: the
// one the application uses still answers the name with the old address,
// the other with the right one. The request by name goes to the old
// address and is refused; the same request pinned to 127.0.0.1, as curl
// --resolve does, works. dnscheck asks both resolvers, like dig @each,
// and finds that they disagree: dns.mismatch. Had the stale address come
// from /etc/hosts, it would say dns.hosts_override instead.
func setupDNS(ctx context.Context, l *lab) (*fault, error) {
	srv, err := l.startServer(serverOptions{})
	if err != nil {
		return nil, err
	}
	right := srv.addr.Addr()
	stale, err := l.dnsServer(staleAddr)
	if err != nil {
		return nil, err
	}
	good, err := l.dnsServer(right)
	if err != nil {
		return nil, err
	}
	byName := fmt.Sprintf("http://%s:%d/", drillName, srv.addr.Port())
	pin := fmt.Sprintf("%s:%d:%s", drillName, srv.addr.Port(), right)
	// The application's resolver: Go's own, sending its queries to the
	// stale server as a resolv.conf naming it would. Its connections close
	// with the lookup's context so that no query outlives the drill.
	app := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, stale)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { c.Close() })
		return c, nil
	}}
	before, err := works(ctx, probe.HTTPOptions{URL: byName, Resolve: []string{pin}})
	if err != nil {
		return nil, err
	}
	return &fault{
		before: before + ", the name pinned to " + right.String(),
		broke: fmt.Sprintf("the application's resolver %s answers %s A %s (the old address); resolver %s answers %s",
			stale, drillName, staleAddr, good, right),
		targets: []string{"probe.http by name"},
		checks: []triage.Check{
			httpCheck("probe.http by name", probe.HTTPOptions{URL: byName, Resolver: app}),
			httpCheck("probe.http --resolve "+pin, probe.HTTPOptions{URL: byName, Resolve: []string{pin}}),
			triage.Func("dnscheck", func(ctx context.Context) dnscheck.Result {
				return dnscheck.Check(ctx, dnscheck.Options{Name: drillName, Types: []string{"A"},
					Servers: []string{stale, good}, SkipSystem: true})
			}),
		},
		notes: []string{fmt.Sprintf("curl --resolve %s %s works: the server is fine, the name is not", pin, byName)},
	}, nil
}

// dnsServer answers A questions for any name with addr, on a fresh UDP
// port of 127.0.0.1, until the step ends. It returns the server's
// address.
func (l *lab) dnsServer(addr netip.Addr) (string, error) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		if len(req.Question) == 1 && req.Question[0].Qtype == dns.TypeA {
			q := req.Question[0]
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   addr.AsSlice(),
			})
		}
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	select {
	case <-started:
	case <-done:
		pc.Close()
		return "", fmt.Errorf("the DNS server on %s did not start", pc.LocalAddr())
	}
	l.atEnd(func() {
		_ = srv.Shutdown()
		<-done
	})
	return pc.LocalAddr().String(), nil
}
