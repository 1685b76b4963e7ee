package dnscheck

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// startDNS serves h on ip over UDP and TCP on one port (port 0 picks a free
// one) and shuts both down when the test ends. It returns host:port.
func startDNS(t testing.TB, ip string, port int, h dns.Handler) string {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	var err error
	for try := 0; try < 20; try++ {
		pc, err = net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			if port != 0 {
				break
			}
			continue
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if port != 0 {
			break
		}
	}
	require.NoError(t, err, "listen on %s:%d", ip, port)
	serveDNS(t, pc, ln, h)
	return pc.LocalAddr().String()
}

// serveDNS answers with h on pc (UDP) and ln (TCP) until the test ends.
func serveDNS(t testing.TB, pc net.PacketConn, ln net.Listener, h dns.Handler) {
	t.Helper()
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			_ = s.Shutdown()
			<-done
		})
	}
}

// loopbackNet returns a /24 inside 127.0.0.0/8 for one test's servers, so
// parallel test runs on the same host rarely share addresses.
func loopbackNet() string {
	return fmt.Sprintf("127.%d.%d.", 50+rand.IntN(150), rand.IntN(250))
}

// zone is a small authoritative server (or, with recursive set, a resolver
// that answers from the same data). Records are zone-file lines.
type zone struct {
	origin    string
	rrs       []dns.RR
	recursive bool
	queries   atomic.Int64
}

func newZone(t testing.TB, origin string, lines ...string) *zone {
	t.Helper()
	z := &zone{origin: dns.Fqdn(origin)}
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN " + z.origin + "\n$TTL 300\n" + l)
		require.NoError(t, err, l)
		z.rrs = append(z.rrs, rr)
	}
	return z
}

func (z *zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	z.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	m.Authoritative = !z.recursive
	m.RecursionAvailable = z.recursive
	if o := req.IsEdns0(); o != nil {
		m.SetEdns0(o.UDPSize(), false)
	}
	if !z.recursive && !dns.IsSubDomain(z.origin, q.Name) {
		// Not our zone: what a real authoritative server says.
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	z.answer(m, q.Name, q.Qtype)
	_ = w.WriteMsg(m)
}

func (z *zone) answer(m *dns.Msg, name string, qtype uint16) {
	if !z.recursive {
		// Delegations below the origin cut the answer short.
		for _, rr := range z.rrs {
			h := rr.Header()
			if h.Rrtype == dns.TypeNS && !strings.EqualFold(h.Name, z.origin) && dns.IsSubDomain(h.Name, name) {
				m.Authoritative = false
				for _, ns := range z.rrs {
					if ns.Header().Rrtype == dns.TypeNS && strings.EqualFold(ns.Header().Name, h.Name) {
						m.Ns = append(m.Ns, ns)
						for _, g := range z.rrs {
							if strings.EqualFold(g.Header().Name, ns.(*dns.NS).Ns) && (g.Header().Rrtype == dns.TypeA || g.Header().Rrtype == dns.TypeAAAA) {
								m.Extra = append(m.Extra, g)
							}
						}
					}
				}
				return
			}
		}
	}
	seen := map[string]bool{}
	owner := name
	for len(seen) < 10 && !seen[strings.ToLower(owner)] {
		seen[strings.ToLower(owner)] = true
		exists, next := false, ""
		for _, rr := range z.rrs {
			h := rr.Header()
			if !strings.EqualFold(h.Name, owner) {
				continue
			}
			exists = true
			if h.Rrtype == qtype {
				m.Answer = append(m.Answer, rr)
			} else if c, ok := rr.(*dns.CNAME); ok {
				m.Answer = append(m.Answer, rr)
				next = c.Target
			}
		}
		if !exists && owner == name {
			m.Rcode = dns.RcodeNameError
			return
		}
		if next == "" || !dns.IsSubDomain(z.origin, next) {
			return
		}
		owner = next
	}
}

// rcodeServer answers every query with rcode.
func rcodeServer(rcode int) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		_ = w.WriteMsg(m)
	}
}

// silentServer reads queries and never answers.
func silentServer() dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {}
}

// truncatingServer sets TC on every UDP answer and answers over TCP with
// h, unless tcp is false, in which case TCP connections are dropped.
func truncatingServer(h dns.Handler, tcp bool) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		if _, isUDP := w.RemoteAddr().(*net.UDPAddr); isUDP {
			m := new(dns.Msg)
			m.SetReply(req)
			m.Truncated = true
			_ = w.WriteMsg(m)
			return
		}
		if !tcp {
			_ = w.Close()
			return
		}
		h.ServeDNS(w, req)
	}
}

// partialServer answers with a partial answer (one A record) and the TC
// bit over UDP, and over TCP the same (tcpTruncated) or nothing.
func partialServer(tcpTruncated bool) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		_, isUDP := w.RemoteAddr().(*net.UDPAddr)
		if !isUDP && !tcpTruncated {
			_ = w.Close()
			return
		}
		m := new(dns.Msg)
		m.SetReply(req)
		m.Truncated = true
		if q := req.Question[0]; q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A: net.ParseIP("192.0.2.7")})
		}
		_ = w.WriteMsg(m)
	}
}

// noEDNSServer ignores queries that carry EDNS0 and answers the rest
// with h.
func noEDNSServer(h dns.Handler) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		if req.IsEdns0() != nil {
			return
		}
		h.ServeDNS(w, req)
	}
}
