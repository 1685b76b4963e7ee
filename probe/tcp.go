// TCP, HTTP and dependency probes: how far does a request get, and is a
// dependency the cause?
//
// [TCP] resolves a host and connects to every address it has, classifying
// each failure by errno (refused, timeout, reset, unreachable, ports
// exhausted, blocked by a local firewall, DNS). [HTTP] reproduces a request
// like curl -v, with phase timings that add up, TLS facts, proxy hints, a
// curl --resolve override and a W3C traceparent. [DB] pings a *sql.DB and
// reads its pool statistics twice to see whether requests wait for a
// connection.

package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triagekit/triage"
)

// Finding codes of [TCP]. The HTTP check emits the same codes for its
// dial and DNS failures. Every one carries the evidence keys host
// (triage.KeyHost), addr (triage.KeyAddr: the IP tried; absent for DNS
// failures), port (triage.KeyPort) and elapsed_ns.
const (
	// CodeTCPConnected (OK): the address accepted the connection.
	CodeTCPConnected triage.Code = "tcp.connected"
	// CodeTCPRefused (Fail): the address answered the SYN with a RST
	// (ECONNREFUSED). Warn when another address of the host connected.
	CodeTCPRefused triage.Code = "tcp.refused"
	// CodeTCPTimeout (Fail): no answer to the SYN before the deadline, or
	// ETIMEDOUT. Warn when another address of the host connected.
	CodeTCPTimeout triage.Code = "tcp.timeout"
	// CodeTCPReset (Fail): the peer reset the connection (ECONNRESET).
	CodeTCPReset triage.Code = "tcp.reset"
	// CodeTCPUnreachable (Fail): EHOSTUNREACH or ENETUNREACH.
	CodeTCPUnreachable triage.Code = "tcp.unreachable"
	// CodeTCPPortsExhausted (Fail): EADDRNOTAVAIL, no free local
	// ephemeral port towards the destination.
	CodeTCPPortsExhausted triage.Code = "tcp.ports_exhausted"
	// CodeTCPBlocked (Fail): EACCES or EPERM, local policy refused the
	// connection before a SYN left: a prohibit route, a cgroup BPF
	// connect hook (systemd IPAddressDeny), an LSM. An iptables OUTPUT
	// DROP shows as CodeTCPTimeout instead: TCP retransmits the dropped SYN.
	CodeTCPBlocked triage.Code = "tcp.blocked"
	// CodeTCPDNSNotFound (Fail): the host name does not exist or has no
	// address. Evidence: host, port, elapsed_ns.
	CodeTCPDNSNotFound triage.Code = "tcp.dns_not_found"
	// CodeTCPDNSTimeout (Fail): the resolver did not answer in time.
	// Evidence: host, port, elapsed_ns.
	CodeTCPDNSTimeout triage.Code = "tcp.dns_timeout"
	// CodeTCPDNSError (Fail): the resolver failed otherwise (SERVFAIL,
	// no nameserver reachable). Evidence: host, port, elapsed_ns, error.
	CodeTCPDNSError triage.Code = "tcp.dns_error"
	// CodeTCPError (Fail): a connection error no other code describes.
	// Evidence adds error.
	CodeTCPError triage.Code = "tcp.error"
)

// Dialer makes connections; *net.Dialer is one. A caller supplies its own
// to dial from another network namespace, through a proxy, or from a
// given source address.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// DefaultTCPTimeout bounds each connection attempt of [TCP] when
// TCPOptions.Timeout is zero.
const DefaultTCPTimeout = 5 * time.Second

// TCPOptions says what [TCP] connects to.
type TCPOptions struct {
	// Address is "host:port"; host is a name or an IP address ("[::1]:443"
	// for IPv6). Required.
	Address string
	// Network is "tcp" (every address, IPv4 and IPv6), "tcp4" or "tcp6".
	// If empty, "tcp".
	Network string
	// Timeout bounds each connection attempt; the attempts run at the
	// same time. If zero, DefaultTCPTimeout. The context's deadline
	// bounds everything as well.
	Timeout time.Duration
	// Dialer dials each address. If nil, a zero net.Dialer is used.
	Dialer Dialer
	// Resolver looks up the host (A and AAAA, /etc/hosts included). If
	// nil, net.DefaultResolver is used.
	Resolver *net.Resolver
	// Lookup, if not nil, looks up the host instead of Resolver: the
	// application's own view of names, such as a container's hosts file
	// and resolver ([github.com/triagekit/triage/dnscheck.AppLookup]).
	Lookup Lookup
}

// Lookup resolves a host name to its addresses the way an application
// would. An error for a name that does not exist should be a
// *net.DNSError with IsNotFound set, so that it is classified as such.
type Lookup interface {
	LookupHost(ctx context.Context, host string) ([]netip.Addr, error)
}

// LookupFunc is a function that is a [Lookup].
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// LookupHost calls f.
func (f LookupFunc) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	return f(ctx, host)
}

// TCPResult is what [TCP] found. Its Check is [KindTCP]. Its Target holds
// the Host and Port of TCPOptions.Address, and Addr: the address that
// connected, or when none did the last one tried; no Addr when the name
// did not resolve.
type TCPResult struct {
	triage.Result
	// Addrs are the addresses the host resolved to (the host itself when
	// it is an IP address), in the resolver's order.
	Addrs []netip.Addr `json:"addrs"`
	// DNS is how long resolving took; zero for an IP address.
	DNS time.Duration `json:"dns_ns"`
	// DNSClass is why resolving failed; ClassNone when it did not.
	DNSClass ErrorClass `json:"dns_class,omitempty"`
	// DNSError is the resolver's error text, for people.
	DNSError string `json:"dns_error,omitempty"`
	// Attempts has one entry per address, in the order of Addrs.
	Attempts []TCPAttempt `json:"attempts"`
}

// TCPAttempt is one connection attempt to one address.
type TCPAttempt struct {
	// Addr is the IP address and port tried.
	Addr netip.AddrPort `json:"addr"`
	// Connected is true when the handshake completed.
	Connected bool `json:"connected"`
	// Class is why the attempt failed; ClassNone when it connected.
	Class ErrorClass `json:"class,omitempty"`
	// Err is the dial error, kept for errors.Is (syscall.ECONNREFUSED,
	// context.DeadlineExceeded ...).
	Err error `json:"-"`
	// Error is Err's text, for people and JSON.
	Error string `json:"error,omitempty"`
	// Local is the local address of the connection, when it connected.
	Local netip.AddrPort `json:"local,omitzero"`
	// Elapsed is how long the attempt took.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// TCP resolves the host of opts.Address and connects to each of its
// addresses at once, reporting per address whether it connected or why
// not, and how long it took. Each connection is closed as soon as it is
// made; nothing is sent.
//
// Findings: one per address, CodeTCPConnected or the class's code (see
// [ErrorClass.Code]); a failing address is Fail, or Warn when another
// address of the same host connected (a client that falls back still
// gets through). A DNS failure is one finding with a tcp.dns_* code.
//
// Err is set (status Unknown) for bad input (wrapping triage.ErrInvalid)
// and when ctx was canceled before anything was learned.
func TCP(ctx context.Context, opts TCPOptions) TCPResult {
	r := TCPResult{Result: triage.Begin(KindTCP, triage.Target{})}
	r.Finish(tcpRun(ctx, opts, &r))
	return r
}

func tcpRun(ctx context.Context, opts TCPOptions, r *TCPResult) error {
	host, port, err := tcpSplit(opts.Address)
	if err != nil {
		return err
	}
	r.Target.Host, r.Target.Port = host, port
	network := opts.Network
	switch network {
	case "":
		network = "tcp"
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %q is not tcp, tcp4 or tcp6", triage.ErrInvalid, network)
	}
	if opts.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout %s", triage.ErrInvalid, opts.Timeout)
	}

	addrs, dnsTook, err := tcpResolve(ctx, opts.Resolver, opts.Lookup, network, host)
	r.DNS = dnsTook
	if errors.Is(err, triage.ErrInvalid) {
		return err
	}
	if err != nil {
		class := classifyDialErr(err)
		if class == ClassCanceled {
			return fmt.Errorf("resolving %s: %w", host, err)
		}
		r.DNSClass, r.DNSError = class, err.Error()
		r.Add(dnsFinding(host, port, class, dnsTook, err))
		return nil
	}
	r.Addrs = addrs

	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTCPTimeout
	}
	r.Attempts = make([]TCPAttempt, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() {
			r.Attempts[i] = tcpAttempt(ctx, opts.Dialer, timeout, netip.AddrPortFrom(a, uint16(port)))
		})
	}
	wg.Wait()

	connected := false
	for _, a := range r.Attempts {
		if a.Connected && !connected {
			connected, r.Target.Addr = true, a.Addr
		}
	}
	for i := len(r.Attempts) - 1; !connected && i >= 0; i-- {
		if r.Attempts[i].Class != ClassCanceled {
			r.Target.Addr = r.Attempts[i].Addr
			break
		}
	}
	var canceled error
	for _, a := range r.Attempts {
		if a.Class == ClassCanceled {
			canceled = a.Err
			continue
		}
		r.Add(tcpFinding(host, a, connected))
	}
	if canceled != nil {
		return fmt.Errorf("connecting to %s: %w", opts.Address, canceled)
	}
	return nil
}

// tcpSplit checks a "host:port" target.
func tcpSplit(address string) (host string, port int, err error) {
	if address == "" {
		return "", 0, fmt.Errorf("%w: empty address", triage.ErrInvalid)
	}
	h, p, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, fmt.Errorf("%w: address %q: %w", triage.ErrInvalid, address, err)
	}
	if h == "" {
		return "", 0, fmt.Errorf("%w: address %q has no host", triage.ErrInvalid, address)
	}
	if !validHost(h) {
		// The resolver would answer "no such host" for it, which reads as
		// a DNS failure of the target rather than a mistake of the caller.
		return "", 0, fmt.Errorf("%w: address %q: host is neither an IP address nor a DNS name", triage.ErrInvalid, address)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		// Service names ("https") would need a lookup of their own; a
		// port number is what every caller here has.
		return "", 0, fmt.Errorf("%w: address %q: port must be 1-65535", triage.ErrInvalid, address)
	}
	return h, int(n), nil
}

// validHost reports whether host is an IP address or a name DNS could
// hold: labels of 1 to 63 letters, digits, hyphens or underscores, not
// starting or ending with a hyphen, 253 bytes at most without the final dot.
// Non-ASCII bytes pass, for internationalised names that net/http encodes.
func validHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// tcpResolve returns the addresses of host for network, or host itself
// when it is an IP address.
func tcpResolve(ctx context.Context, res *net.Resolver, lookup Lookup, network, host string) ([]netip.Addr, time.Duration, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if (network == "tcp4" && !a.Is4()) || (network == "tcp6" && !a.Is6()) {
			return nil, 0, fmt.Errorf("%w: %s is not an address of %s", triage.ErrInvalid, host, network)
		}
		return []netip.Addr{a}, 0, nil
	}
	if lookup != nil {
		start := time.Now()
		addrs, err := lookup.LookupHost(ctx, host)
		took := time.Since(start)
		if err != nil {
			return nil, took, err
		}
		var out []netip.Addr
		for _, a := range addrs {
			a = a.Unmap()
			if (network == "tcp4" && !a.Is4()) || (network == "tcp6" && !a.Is6()) {
				continue
			}
			out = append(out, a)
		}
		if len(out) == 0 {
			return nil, took, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
		}
		return out, took, nil
	}
	if res == nil {
		res = net.DefaultResolver
	}
	ipnet := map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}[network]
	start := time.Now()
	addrs, err := res.LookupNetIP(ctx, ipnet, host)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	if len(addrs) == 0 {
		return nil, took, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, took, nil
}

func tcpAttempt(ctx context.Context, d Dialer, timeout time.Duration, ap netip.AddrPort) TCPAttempt {
	if d == nil {
		d = &net.Dialer{}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", ap.String())
	a := TCPAttempt{Addr: ap, Elapsed: time.Since(start)}
	if err != nil {
		a.Err, a.Error, a.Class = err, err.Error(), classifyDialErr(err)
		return a
	}
	a.Connected = true
	if tcp, ok := c.LocalAddr().(*net.TCPAddr); ok {
		a.Local = tcp.AddrPort()
	}
	_ = c.Close()
	return a
}

func tcpFinding(host string, a TCPAttempt, anyConnected bool) triage.Finding {
	ev := triage.Evidence{
		slog.String(triage.KeyHost, host),
		slog.String(triage.KeyAddr, a.Addr.Addr().String()),
		slog.Int(triage.KeyPort, int(a.Addr.Port())),
		slog.Duration("elapsed_ns", a.Elapsed),
	}
	if a.Connected {
		return triage.Finding{
			Code:     CodeTCPConnected,
			Status:   triage.OK,
			Summary:  fmt.Sprintf("connected to %s (%s) in %s", a.Addr, host, roundDur(a.Elapsed)),
			Evidence: ev,
			Command:  ncCommand(a.Addr),
		}
	}
	status := triage.Fail
	if anyConnected {
		status = triage.Warn
	}
	if a.Class == ClassOther {
		ev = append(ev, slog.String("error", a.Error))
	}
	summary := fmt.Sprintf("%s: %s after %s", a.Addr, a.Class.describe(), roundDur(a.Elapsed))
	if host != a.Addr.Addr().String() {
		summary = fmt.Sprintf("%s (%s): %s after %s", a.Addr, host, a.Class.describe(), roundDur(a.Elapsed))
	}
	if anyConnected {
		summary += " (another address of the host connected)"
	}
	return triage.Finding{
		Code:     a.Class.Code(),
		Status:   status,
		Summary:  summary,
		Evidence: ev,
		Command:  ncCommand(a.Addr),
	}
}

func dnsFinding(host string, port int, class ErrorClass, took time.Duration, err error) triage.Finding {
	ev := triage.Evidence{
		slog.String(triage.KeyHost, host),
		slog.Int(triage.KeyPort, port),
		slog.Duration("elapsed_ns", took),
	}
	if class == ClassDNSError || class == ClassOther {
		ev = append(ev, slog.String("error", err.Error()))
	}
	code := class.Code()
	if class == ClassOther {
		code = CodeTCPDNSError
	}
	return triage.Finding{
		Code:     code,
		Status:   triage.Fail,
		Summary:  fmt.Sprintf("resolving %s: %s after %s", host, class.describe(), roundDur(took)),
		Evidence: ev,
		Command:  fmt.Sprintf("getent ahosts %s", host),
	}
}

func ncCommand(ap netip.AddrPort) string {
	return fmt.Sprintf("nc -vz -w 5 %s %d", ap.Addr(), ap.Port())
}

// roundDur rounds a duration for a summary line.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
