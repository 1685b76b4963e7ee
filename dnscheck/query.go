package dnscheck

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ednsSize is the EDNS0 buffer size DNS flag day 2020 settled on: big
// enough for most answers, small enough not to fragment.
const ednsSize = 1232

// maxChain bounds a CNAME chain read from one answer.
const maxChain = 16

// Record is one resource record of an answer, referral or glue.
type Record struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	// Data is the record's data in zone-file form ("192.0.2.1",
	// "www.example.com.").
	Data string `json:"data"`
}

func newRecord(rr dns.RR) Record {
	h := rr.Header()
	return Record{
		Name: h.Name,
		Type: dns.TypeToString[h.Rrtype],
		TTL:  h.Ttl,
		Data: strings.TrimPrefix(rr.String(), h.String()),
	}
}

// String formats the record as dig and zone files do:
// "name<TAB>ttl<TAB>IN<TAB>type<TAB>data".
func (r Record) String() string {
	return r.Name + "\t" + itoa(int(r.TTL)) + "\tIN\t" + r.Type + "\t" + r.Data
}

// Answer is what one server said about one name and type.
type Answer struct {
	// Server is the server asked, host:port.
	Server string `json:"server"`
	// Name is the fully qualified name asked.
	Name string `json:"name"`
	// Type is the query type ("A", "AAAA").
	Type string `json:"type"`
	// Rcode is the response code ("NOERROR", "NXDOMAIN", "SERVFAIL",
	// "REFUSED" ...); empty when no response came.
	Rcode string `json:"rcode,omitempty"`
	// Addrs are the addresses the answer gives for the name, after
	// following CNAMEs, for A and AAAA queries.
	Addrs []netip.Addr `json:"addrs,omitempty"`
	// CNAMEs is the alias chain from Name, in order.
	CNAMEs []string `json:"cnames,omitempty"`
	// Records is the answer section; Authority the authority section
	// (the SOA of a negative answer, the NS of a referral).
	Records   []Record `json:"records,omitempty"`
	Authority []Record `json:"authority,omitempty"`
	// RTT is the round-trip time of the exchange that gave the answer.
	RTT time.Duration `json:"rtt_ns"`
	// Transport is "udp" or "tcp": how the answer came.
	Transport string `json:"transport,omitempty"`
	// Truncated says the UDP answer had the TC bit set; the answer then
	// came over TCP unless Err is set, in which case the partial answer's
	// records are not kept (its Rcode is).
	Truncated bool `json:"truncated,omitempty"`
	// EDNS says the answer came to a query with EDNS0. False with
	// EDNSRetried means the server only answered without it.
	EDNS        bool `json:"edns"`
	EDNSRetried bool `json:"edns_retried,omitempty"`
	// Authoritative is the AA bit; Recursion the RA bit.
	Authoritative bool `json:"authoritative,omitempty"`
	Recursion     bool `json:"recursion_available,omitempty"`
	// Timeout says no response came within the query timeout.
	Timeout bool `json:"timeout,omitempty"`
	// Err is why no usable response came (timeout, refused connection,
	// TCP retry failure); nil when Rcode is set and the exchange worked.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`

	msg *dns.Msg // the response, for Trace and the dig example
}

// ok reports a NOERROR response.
func (a Answer) ok() bool { return a.Rcode == "NOERROR" }

// verdict is what the answer says, to compare servers: the rcode and the
// sorted data of the final records.
func (a Answer) verdict() string {
	if a.Rcode == "" {
		return ""
	}
	if !a.ok() {
		return a.Rcode
	}
	var vals []string
	if len(a.Addrs) > 0 || a.Type == "A" || a.Type == "AAAA" {
		for _, x := range a.Addrs {
			vals = append(vals, x.String())
		}
	} else {
		for _, r := range a.Records {
			if r.Type == a.Type {
				vals = append(vals, r.Data)
			}
		}
	}
	if len(vals) == 0 {
		return "no " + a.Type + " records"
	}
	slices.Sort(vals)
	return strings.Join(vals, ",")
}

// exchanger asks one server one question with the transport fallbacks.
type exchanger struct {
	timeout time.Duration
	// recurse sets RD; Trace clears it.
	recurse bool
	// dial makes the connection when not nil.
	dial Dialer
}

func (e exchanger) query(ctx context.Context, server, name string, qtype uint16) Answer {
	a := Answer{Server: server, Name: dns.Fqdn(name), Type: typeString(qtype)}
	m := new(dns.Msg)
	m.SetQuestion(a.Name, qtype)
	m.RecursionDesired = e.recurse
	m.SetEdns0(ednsSize, false)

	resp, rtt, err := e.exchange(ctx, "udp", m, server)
	a.EDNS = true
	if ctx.Err() == nil && (isTimeout(err) || (err == nil && (resp.Rcode == dns.RcodeFormatError || resp.Rcode == dns.RcodeNotImplemented))) {
		// Some servers and middleboxes drop or reject EDNS queries.
		plain := m.Copy()
		plain.Extra = nil
		plain.Id = dns.Id()
		r2, rtt2, err2 := e.exchange(ctx, "udp", plain, server)
		if err2 == nil {
			resp, rtt, err, m = r2, rtt2, nil, plain
			a.EDNS, a.EDNSRetried = false, true
		}
	}
	a.Transport = "udp"
	if err == nil && resp.Truncated {
		a.Truncated = true
		r2, rtt2, err2 := e.exchange(ctx, "tcp", m, server)
		switch {
		case err2 != nil:
			err = &tcpRetryError{err2}
		case r2.Truncated:
			// TCP carries 64 KiB: a truncated answer over it is broken.
			err = &tcpRetryError{errTruncatedTCP}
		default:
			resp, rtt, a.Transport = r2, rtt2, "tcp"
		}
	}
	a.RTT = rtt
	var partial *tcpRetryError
	if errors.As(err, &partial) && resp != nil {
		// A truncated answer is partial: its rcode is kept, its records
		// are not, so that nobody reads them as the answer.
		a.Rcode = dns.RcodeToString[resp.Rcode]
	} else if resp != nil {
		a.fill(resp, qtype)
	}
	if err != nil {
		a.Err = err
		a.Error = err.Error()
		a.Timeout = isTimeout(err) && !a.Truncated
	}
	return a
}

// errTruncatedTCP is a TCP answer with the TC bit set.
var errTruncatedTCP = errors.New("answer truncated over TCP too")

// tcpRetryError is a failed TCP retry after a truncated UDP answer.
type tcpRetryError struct{ err error }

func (e *tcpRetryError) Error() string { return "tcp retry after truncated answer: " + e.err.Error() }
func (e *tcpRetryError) Unwrap() error { return e.err }

func (e exchanger) exchange(ctx context.Context, network string, m *dns.Msg, server string) (*dns.Msg, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	c := &dns.Client{Net: network, Timeout: e.timeout, UDPSize: ednsSize}
	var conn *dns.Conn
	var err error
	if e.dial != nil {
		var nc net.Conn
		if nc, err = e.dial.DialContext(ctx, network, server); err == nil {
			conn = &dns.Conn{Conn: nc, UDPSize: ednsSize}
		}
	} else {
		conn, err = c.DialContext(ctx, server)
	}
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	// ExchangeWithConnContext obeys the deadline; cancellation without a
	// deadline is honoured by expiring the connection.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r, rtt, err := c.ExchangeWithConnContext(ctx, m, conn)
	if err != nil && ctx.Err() != nil && !isTimeout(err) {
		err = ctx.Err()
	}
	return r, rtt, err
}

// fill copies the response into a, following the CNAME chain from the
// question name.
func (a *Answer) fill(resp *dns.Msg, qtype uint16) {
	a.msg = resp
	a.Rcode = rcodeString(resp.Rcode)
	a.Authoritative = resp.Authoritative
	a.Recursion = resp.RecursionAvailable
	a.Records = records(resp.Answer)
	a.Authority = records(resp.Ns)
	owner := a.Name
	seen := map[string]bool{}
	for range maxChain {
		key := strings.ToLower(owner)
		if seen[key] {
			break
		}
		seen[key] = true
		next := ""
		for _, rr := range resp.Answer {
			if !strings.EqualFold(rr.Header().Name, owner) {
				continue
			}
			switch v := rr.(type) {
			case *dns.A:
				if qtype == dns.TypeA {
					a.addAddr(v.A)
				}
			case *dns.AAAA:
				if qtype == dns.TypeAAAA {
					a.addAddr(v.AAAA)
				}
			case *dns.CNAME:
				if qtype != dns.TypeCNAME {
					next = v.Target
				}
			}
		}
		if next == "" || len(a.Addrs) > 0 {
			break
		}
		a.CNAMEs = append(a.CNAMEs, next)
		owner = next
	}
}

func (a *Answer) addAddr(ip net.IP) {
	if x, ok := netip.AddrFromSlice(ip); ok {
		x = x.Unmap()
		if !containsAddr(a.Addrs, x) {
			a.Addrs = append(a.Addrs, x)
		}
	}
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func rcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + itoa(rc)
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + itoa(int(t))
}

func itoa(n int) string { return strconv.Itoa(n) }
