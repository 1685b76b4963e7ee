package probe

import (
	"crypto/tls"
	"net"
	"net/http/httptrace"
	"net/netip"
	"sync"
	"time"
)

// phase is a stage of one HTTP exchange, in the order they happen.
type phase int

const (
	phaseDNS phase = iota
	phaseConnect
	phaseTLS
	phaseWait
	phaseTransfer
	phaseCount
)

var phaseNames = [phaseCount]string{"dns", "connect", "tls", "wait", "transfer"}

func (p phase) String() string {
	if p >= 0 && p < phaseCount {
		return phaseNames[p]
	}
	return "unknown"
}

// HTTPTimings are the phases of one request, as curl -w reports them but
// as durations of each phase rather than points in time. They add up:
// DNS + Connect + TLS + Wait + Transfer == Total, always. A phase that did
// not happen (no DNS for an IP address or a pinned name, no connect or
// TLS on a reused connection) is zero; the phase a failure happened in
// runs until the failure. With HTTPOptions.EachAddress the one lookup
// made before the attempts is the DNS phase of each attempt's first hop.
type HTTPTimings struct {
	// DNS is resolving the name.
	DNS time.Duration `json:"dns_ns"`
	// Connect is the TCP handshake, failed attempts on other addresses
	// included.
	Connect time.Duration `json:"connect_ns"`
	// TLS is the TLS handshake.
	TLS time.Duration `json:"tls_ns"`
	// Wait is from having a connection to the first byte of the answer:
	// writing the request and the server's think time.
	Wait time.Duration `json:"wait_ns"`
	// Transfer is reading the rest of the answer, up to the body cap.
	Transfer time.Duration `json:"transfer_ns"`
	// Total is the whole request.
	Total time.Duration `json:"total_ns"`
}

// httpHopTrace records the httptrace events of one request. Hooks may run
// on the transport's dialing goroutine, so everything is under mu; once
// finished, late events are ignored.
type httpHopTrace struct {
	mu       sync.Mutex
	start    time.Time
	cur      phase
	ends     [phaseCount]time.Time
	finished bool

	reused      bool
	remote      netip.AddrPort
	tried       netip.AddrPort
	local       netip.AddrPort
	tlsState    *tls.ConnectionState
	tlsErr      error
	connectErrs int
}

// inDNS reports whether the hop is looking its name up.
func (h *httpHopTrace) inDNS() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur == phaseDNS && !h.finished
}

func newHopTrace(start time.Time) *httpHopTrace {
	// Until DNS starts or a connection comes from the pool, a failure is
	// a dialing one.
	return &httpHopTrace{start: start, cur: phaseConnect}
}

func (h *httpHopTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) {
			// The lookup comes before any dial: it moves the phase back
			// from the connect a trace starts in, so that a resolver
			// that does not answer is a DNS timeout.
			h.mu.Lock()
			defer h.mu.Unlock()
			if !h.finished && h.cur <= phaseConnect {
				h.cur = phaseDNS
			}
		},
		DNSDone: func(i httptrace.DNSDoneInfo) {
			if i.Err == nil {
				h.leave(phaseDNS)
				h.enter(phaseConnect)
			}
		},
		ConnectStart: func(_, addr string) {
			// A resolver's own connections (to its nameservers, under the
			// same context) are the lookup, not the request's connect.
			if h.inDNS() {
				return
			}
			h.enter(phaseConnect)
			if ap, err := netip.ParseAddrPort(addr); err == nil {
				h.mu.Lock()
				if !h.finished {
					h.tried = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
				}
				h.mu.Unlock()
			}
		},
		ConnectDone: func(_, _ string, err error) {
			if h.inDNS() {
				return
			}
			if err == nil {
				h.leave(phaseConnect)
				return
			}
			h.mu.Lock()
			h.connectErrs++
			h.mu.Unlock()
		},
		TLSHandshakeStart: func() { h.enter(phaseTLS) },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.finished {
				return
			}
			// The Transport reports the handshake our TLS dialer already
			// reported once more, with less in it; keep the first.
			if h.tlsState == nil || len(h.tlsState.PeerCertificates) == 0 {
				h.tlsState, h.tlsErr = &cs, err
			}
			if err == nil {
				h.ends[phaseTLS] = time.Now()
			}
		},
		GotConn: func(i httptrace.GotConnInfo) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.finished {
				return
			}
			h.reused = i.Reused
			h.remote = addrPortOf(i.Conn.RemoteAddr())
			h.local = addrPortOf(i.Conn.LocalAddr())
			h.cur = phaseWait
		},
		GotFirstResponseByte: func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.finished {
				return
			}
			h.ends[phaseWait] = time.Now()
			h.cur = phaseTransfer
		},
	}
}

func (h *httpHopTrace) enter(p phase) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.finished && p >= h.cur {
		h.cur = p
	}
}

func (h *httpHopTrace) leave(p phase) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.finished {
		h.ends[p] = time.Now()
	}
}

// phase returns the phase in progress.
func (h *httpHopTrace) phase() phase {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// finish closes the trace at end and returns the timings. The phase in
// progress runs until end; phases are clamped so that each starts where
// the previous one ended, which makes them add up to the total.
func (h *httpHopTrace) finish(end time.Time) HTTPTimings {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.finished = true
	ends := h.ends
	if ends[h.cur].IsZero() {
		ends[h.cur] = end
	}
	var d [phaseCount]time.Duration
	prev, last := h.start, phase(-1)
	for p := phaseDNS; p < phaseCount; p++ {
		e := ends[p]
		if e.IsZero() {
			continue
		}
		if e.Before(prev) {
			e = prev
		}
		if e.After(end) {
			e = end
		}
		d[p] = e.Sub(prev)
		prev, last = e, p
	}
	// What is left after the last recorded boundary (closing the body)
	// belongs to the last phase that ran.
	if rest := end.Sub(prev); rest > 0 {
		if last < 0 {
			last = h.cur
		}
		d[last] += rest
	}
	return HTTPTimings{
		DNS: d[phaseDNS], Connect: d[phaseConnect], TLS: d[phaseTLS],
		Wait: d[phaseWait], Transfer: d[phaseTransfer],
		Total: end.Sub(h.start),
	}
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
