package dnscheck

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/procfs"
)

// Defaults for the zero Options.
const (
	DefaultResolvConf   = "/etc/resolv.conf"
	DefaultHostsFile    = "/etc/hosts"
	DefaultQueryTimeout = 2 * time.Second
	DefaultDialTimeout  = 2 * time.Second
)

// Options says what [Check] resolves and whom it asks. Only Name is
// required.
type Options struct {
	// Name is the name to resolve. A trailing dot makes it fully
	// qualified, which skips the search list.
	Name string
	// Types are the query types. If empty, A and AAAA.
	Types []string
	// Servers are extra nameservers to ask and compare with the system
	// ones, as "addr" or "addr:port" (port 53 when absent).
	Servers []string
	// SkipSystem leaves out everything that comes from this host: the
	// application view, the hosts file, resolv.conf's nameservers and its
	// search list. Only Servers are asked.
	SkipSystem bool
	// ResolvConf is the resolv.conf to read. If empty, DefaultResolvConf;
	// a missing default file means the resolver's defaults apply.
	ResolvConf string
	// HostsFile is the hosts file to read. If empty, DefaultHostsFile.
	HostsFile string
	// Resolver is the application's resolver. If nil, one that behaves as
	// net.DefaultResolver does (same choice between the Go and the C
	// resolver, same files), except that its DNS connections close when
	// Check's context ends, so no lookup outlives Check; when ResolvConf
	// names another file than DefaultResolvConf (a container's), its
	// lookups go to that file's nameservers, in turn, with this host's
	// search list and ndots (Go's resolver reads no other file). A Resolver given
	// here is used as is; Go's resolver lets a lookup run on after its
	// context ends unless its Dial ties the connection to the context
	// (see the package tests). The application view looks the name
	// up in HostsFile first and asks Resolver only when the hosts file
	// does not have it, as "hosts: files dns" in nsswitch.conf does; a
	// test injects both to see the view of an application configured
	// that way.
	Resolver *net.Resolver
	// Dialer, when not nil, makes every connection the check opens: the
	// queries to each server, the application view's lookups (to the
	// servers of ResolvConf, whichever file it names) and the
	// reachability dials. A container.Container sends them from inside a
	// container's network namespace.
	Dialer Dialer
	// Port, when positive, is the TCP port on which the addresses found
	// are dialled, to tell "works on IPv4, hangs on IPv6". If zero,
	// nothing is dialled.
	Port int
	// QueryTimeout bounds each query. If zero, DefaultQueryTimeout. It is
	// shortened so that a silent server is reported as a timeout before
	// the context ends.
	QueryTimeout time.Duration
	// DialTimeout bounds each reachability dial. If zero,
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// Result is what [Check] found. Its Check is [KindCheck]; its
// Target.Name is Options.Name as given.
type Result struct {
	triage.Result
	// Queried is the fully qualified name asked directly: the name, or the
	// first search-list candidate that answered.
	Queried string `json:"queried"`
	// App is the application's view; nil with SkipSystem.
	App *AppView `json:"app,omitempty"`
	// Hosts are the hosts file's addresses for the name.
	Hosts []netip.Addr `json:"hosts,omitempty"`
	// ResolvConf is the parsed resolv.conf; nil with SkipSystem.
	ResolvConf *ResolvConf `json:"resolv_conf,omitempty"`
	// Servers are the nameservers asked, system ones first.
	Servers []Server `json:"servers"`
	// Search is the stub resolver's sequence of lookups for a name that
	// is not fully qualified, each asked to the first system nameserver
	// for the first type, up to the first that answered.
	Search []Answer `json:"search,omitempty"`
	// Reach are the reachability dials, when Options.Port is set.
	Reach []Reach `json:"reach,omitempty"`
}

// Server is one nameserver and its answers, one per type.
type Server struct {
	// Addr is host:port.
	Addr string `json:"addr"`
	// Source is "resolv.conf", "default" (resolv.conf names none) or
	// "option".
	Source  string   `json:"source"`
	Answers []Answer `json:"answers"`
}

// AppView is what the application's resolver returns for the name.
type AppView struct {
	// Source is "hosts" when the hosts file answered, else "resolver".
	Source   string        `json:"source"`
	Addrs    []netip.Addr  `json:"addrs,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// NotFound says the resolver reported no such host.
	NotFound bool   `json:"not_found,omitempty"`
	Err      error  `json:"-"`
	Error    string `json:"error,omitempty"`
}

// Reach is one reachability dial to an address found.
type Reach struct {
	Addr      netip.AddrPort `json:"addr"`
	Reachable bool           `json:"reachable"`
	Elapsed   time.Duration  `json:"elapsed_ns"`
	Err       error          `json:"-"`
	Error     string         `json:"error,omitempty"`
}

// Check resolves o.Name the way the application does and by asking each
// nameserver directly, and reports what disagrees, what fails and what it
// costs. It returns Unknown with an error wrapping triage.ErrInvalid for a
// bad name, type or server, and an error wrapping the context's when the
// context ended before every query finished.
func Check(ctx context.Context, o Options) Result {
	name := strings.TrimSpace(o.Name)
	r := Result{Result: triage.Begin(KindCheck, triage.Target{Name: name})}
	r.Finish(check(ctx, o, name, &r))
	return r
}

// ended is the context's error, wrapped, once it ended: a check cut short
// could tell only part.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dnscheck: %w", err)
	}
	return nil
}

// validName checks a name to resolve: what an application could look up.
func validName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", triage.ErrInvalid)
	}
	// DNS would carry a space or a control byte, but no resolver an
	// application uses looks such a name up: it is a caller's mistake,
	// not a record to go and ask for.
	ctl := strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f })
	if _, ok := dns.IsDomainName(name); !ok || ctl {
		return fmt.Errorf("%w: %q is not a domain name", triage.ErrInvalid, name)
	}
	return nil
}

func check(ctx context.Context, o Options, name string, r *Result) error {
	if err := validName(name); err != nil {
		return err
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("%w: %q is an address, not a name", triage.ErrInvalid, name)
	}
	if strings.HasPrefix(name, ".") {
		return fmt.Errorf("%w: %q is not a domain name", triage.ErrInvalid, name)
	}
	types, err := parseTypes(o.Types)
	if err != nil {
		return err
	}
	extra := make([]string, 0, len(o.Servers))
	for _, s := range o.Servers {
		a, err := serverAddr(s)
		if err != nil {
			return err
		}
		extra = append(extra, a)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("%w: port %d", triage.ErrInvalid, o.Port)
	}
	if o.QueryTimeout < 0 || o.DialTimeout < 0 {
		return fmt.Errorf("%w: negative timeout", triage.ErrInvalid)
	}
	if o.SkipSystem && len(extra) == 0 {
		return fmt.Errorf("%w: SkipSystem without Servers leaves nobody to ask", triage.ErrInvalid)
	}
	qt := cmp.Or(o.QueryTimeout, DefaultQueryTimeout)

	var errs []error
	var hosts hostsTable
	res := o.Resolver
	if !o.SkipSystem {
		rc, err := readResolvConf(o.ResolvConf)
		r.ResolvConf = &rc
		src := "resolv.conf"
		ns := rc.Nameservers
		switch {
		case err != nil:
			// Which servers the host uses is unknown; do not guess.
			errs = append(errs, err)
		case len(ns) == 0:
			ns, src = []string{"127.0.0.1:53", "[::1]:53"}, "default"
		}
		for _, a := range ns {
			r.Servers = append(r.Servers, Server{Addr: a, Source: src})
		}
		if res == nil && err == nil && (o.Dialer != nil || o.ResolvConf != "" && o.ResolvConf != DefaultResolvConf) {
			// Go's resolver reads only this host's resolv.conf and dials
			// from here: send the application's lookups to the named
			// file's servers, through the dialer.
			res = resolverTo(ns, o.Dialer)
		}
		hosts, err = readHosts(o.HostsFile)
		if err != nil {
			errs = append(errs, err)
		}
		r.Hosts = hosts[hostsKey(name)]
	}
	for _, a := range extra {
		r.Servers = append(r.Servers, Server{Addr: a, Source: "option"})
	}

	var wg sync.WaitGroup
	if !o.SkipSystem {
		wg.Go(func() { r.App = appView(ctx, res, name, r.Hosts, qt) })
	}

	r.Queried = dns.Fqdn(name)
	if len(r.Servers) > len(extra) && !strings.HasSuffix(name, ".") && len(r.ResolvConf.Search) > 0 {
		r.Search = searchRun(ctx, r.ResolvConf.Candidates(name), r.Servers[0].Addr, types[0], qt, o.Dialer)
		if n := len(r.Search); n > 0 && hasData(r.Search[n-1]) {
			r.Queried = r.Search[n-1].Name
		}
	}

	for i := range r.Servers {
		r.Servers[i].Answers = make([]Answer, len(types))
		for j, t := range types {
			wg.Go(func() {
				e := exchanger{timeout: budget(ctx, qt, exchangesPerQuery), recurse: true, dial: o.Dialer}
				r.Servers[i].Answers[j] = e.query(ctx, r.Servers[i].Addr, r.Queried, t)
			})
		}
	}
	wg.Wait()

	if o.Port > 0 {
		r.Reach = reachAll(ctx, r, o.Port, cmp.Or(o.DialTimeout, DefaultDialTimeout), o.Dialer)
	}
	judge(r, name, types, o)
	return errors.Join(append(errs, ended(ctx))...)
}

// exchangesPerQuery is how many exchanges one query may need in turn: the
// first, and a retry without EDNS0 or over TCP.
const exchangesPerQuery = 2

// budget is the timeout of each of n exchanges made one after another:
// want, shortened so that all n end before ctx's deadline with a little
// left (a tenth, at most 50ms) to judge and report. This is not a sample
// window (internal/window): it divides what is left among waits that are
// each cut short by an answer.
func budget(ctx context.Context, want time.Duration, n int) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return want
	}
	left := time.Until(dl)
	left -= min(left/10, 50*time.Millisecond)
	if per := left / time.Duration(n); per < want {
		return max(per, time.Millisecond)
	}
	return want
}

func parseTypes(in []string) ([]uint16, error) {
	if len(in) == 0 {
		return []uint16{dns.TypeA, dns.TypeAAAA}, nil
	}
	out := make([]uint16, 0, len(in))
	for _, s := range in {
		t, ok := dns.StringToType[strings.ToUpper(strings.TrimSpace(s))]
		if !ok || t == dns.TypeNone || t == dns.TypeANY || t == dns.TypeAXFR || t == dns.TypeIXFR {
			return nil, fmt.Errorf("%w: query type %q", triage.ErrInvalid, s)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// serverAddr turns "addr" or "addr:port" into host:port.
func serverAddr(s string) (string, error) {
	bare := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		bare = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(bare); err == nil {
		return net.JoinHostPort(a.String(), "53"), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return "", fmt.Errorf("%w: server %q is not addr or addr:port", triage.ErrInvalid, s)
	}
	return ap.String(), nil
}

// readResolvConf and readHosts read files that a container may control:
// without blocking on a FIFO, and no more than procfs.MaxSize of them.
func readResolvConf(path string) (ResolvConf, error) {
	def := ResolvConf{Ndots: defaultNdots, Timeout: defaultTimeout, Attempts: defaultAttempts}
	p := path
	if p == "" {
		p = DefaultResolvConf
	}
	b, err := procfs.ReadFile(p)
	if err != nil {
		if path == "" && errors.Is(err, os.ErrNotExist) {
			return def, nil
		}
		return def, fmt.Errorf("dnscheck: resolv.conf: %w", err)
	}
	rc, err := ParseResolvConf(bytes.NewReader(b))
	if err != nil {
		return rc, fmt.Errorf("dnscheck: reading %s: %w", p, err)
	}
	return rc, nil
}

func readHosts(path string) (hostsTable, error) {
	p := path
	if p == "" {
		p = DefaultHostsFile
	}
	b, err := procfs.ReadFile(p)
	if err != nil {
		if path == "" && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("dnscheck: hosts file: %w", err)
	}
	t, err := parseHosts(bytes.NewReader(b))
	if err != nil {
		return t, fmt.Errorf("dnscheck: reading %s: %w", p, err)
	}
	return t, nil
}

func appView(ctx context.Context, res *net.Resolver, name string, hosts []netip.Addr, timeout time.Duration) *AppView {
	if len(hosts) > 0 {
		return &AppView{Source: "hosts", Addrs: slices.Clone(hosts)}
	}
	if res == nil {
		res = &net.Resolver{Dial: dialUntilDone(nil)}
	}
	// A lookup is a query per server of resolv.conf, in turn: give it the
	// time of two.
	ctx, cancel := context.WithTimeout(ctx, budget(ctx, 2*timeout, 1))
	defer cancel()
	start := time.Now()
	addrs, err := res.LookupNetIP(ctx, "ip", name)
	v := &AppView{Source: "resolver", Duration: time.Since(start)}
	for _, a := range addrs {
		v.Addrs = append(v.Addrs, a.Unmap())
	}
	if err != nil {
		v.Err, v.Error = err, err.Error()
		var de *net.DNSError
		v.NotFound = errors.As(err, &de) && de.IsNotFound
	}
	return v
}

// resolverTo is Go's resolver asking servers (host:port) in turn instead
// of this host's nameservers.
func resolverTo(servers []string, dial Dialer) *net.Resolver {
	var next atomic.Uint32
	d := dialer(dial)
	return &net.Resolver{PreferGo: true, Dial: dialUntilDone(func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, servers[int(next.Add(1)-1)%len(servers)])
	})}
}

// Dialer makes connections: a *net.Dialer, or one that dials from
// elsewhere (container.Container, from a network namespace).
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// dialer is d, or a net.Dialer when d is nil.
func dialer(d Dialer) Dialer {
	if d == nil {
		return &net.Dialer{}
	}
	return d
}

// dialUntilDone wraps dial (nil: a net.Dialer) so that connections close
// when the dial's context ends. Go's resolver cancels that context when
// the lookup is abandoned but only honours its deadline while reading.
func dialUntilDone(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { c.Close() })
		return c, nil
	}
}

func hasData(a Answer) bool {
	if !a.ok() {
		return false
	}
	if len(a.Addrs) > 0 {
		return true
	}
	for _, rec := range a.Records {
		if rec.Type == a.Type {
			return true
		}
	}
	return false
}

// searchRun asks for each candidate in turn, as the stub resolver does,
// and stops at the first that answers with data or at a transport failure.
func searchRun(ctx context.Context, cands []string, server string, t uint16, qt time.Duration, dial Dialer) []Answer {
	// The candidates one after another, then the queries for the name
	// found, which run side by side: one more query's time.
	n := exchangesPerQuery * (len(cands) + 1)
	var out []Answer
	for _, c := range cands {
		if ctx.Err() != nil {
			break
		}
		e := exchanger{timeout: budget(ctx, qt, n), recurse: true, dial: dial}
		a := e.query(ctx, server, c, t)
		out = append(out, a)
		if hasData(a) || a.Rcode == "" {
			break
		}
	}
	return out
}

func reachAll(ctx context.Context, r *Result, port int, timeout time.Duration, dial Dialer) []Reach {
	var addrs []netip.Addr
	for _, s := range r.Servers {
		for _, a := range s.Answers {
			for _, x := range a.Addrs {
				if !containsAddr(addrs, x) && len(addrs) < 16 {
					addrs = append(addrs, x)
				}
			}
		}
	}
	out := make([]Reach, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() {
			ap := netip.AddrPortFrom(a, uint16(port))
			dctx, cancel := context.WithTimeout(ctx, budget(ctx, timeout, 1))
			defer cancel()
			start := time.Now()
			c, err := dialer(dial).DialContext(dctx, "tcp", ap.String())
			out[i] = Reach{Addr: ap, Elapsed: time.Since(start), Reachable: err == nil}
			if err != nil {
				out[i].Err, out[i].Error = err, err.Error()
			} else {
				c.Close()
			}
		})
	}
	wg.Wait()
	return out
}

// judge turns the measurements into findings.
func judge(r *Result, name string, types []uint16, o Options) {
	for j, t := range types {
		ts := typeString(t)
		byCode := map[triage.Code][]string{}
		var order []triage.Code
		note := func(c triage.Code, server string) {
			if _, ok := byCode[c]; !ok {
				order = append(order, c)
			}
			byCode[c] = append(byCode[c], server)
		}
		var withData, responded []Answer
		var noEDNS []string
		for _, s := range r.Servers {
			a := s.Answers[j]
			// A truncated answer whose TCP retry failed is partial: it
			// takes no side in the comparison.
			if a.Rcode != "" && (a.Err == nil || !a.Truncated) {
				responded = append(responded, a)
			}
			if hasData(a) {
				withData = append(withData, a)
			}
			var tcpErr *tcpRetryError
			switch {
			case errors.As(a.Err, &tcpErr):
				note(CodeTruncated, a.Server)
			case a.Timeout:
				note(CodeTimeout, a.Server)
			case a.Err != nil && a.Rcode == "":
				note(CodeUnreachable, a.Server)
			case a.Rcode == "NXDOMAIN":
				note(CodeNXDomain, a.Server)
			case a.Rcode == "REFUSED":
				note(CodeRefused, a.Server)
			case a.Rcode != "" && a.Rcode != "NOERROR":
				note(CodeServFail, a.Server)
			}
			if a.EDNSRetried {
				noEDNS = append(noEDNS, a.Server)
			}
		}
		fallback := len(withData) > 0
		fromHosts := r.App != nil && r.App.Source == "hosts"
		for _, c := range order {
			servers := byCode[c]
			st := triage.Fail
			var note string
			switch {
			case fromHosts && c == CodeNXDomain:
				// The application does not ask DNS for this name, and DNS
				// not knowing a hosts-file name (localhost, a pinned
				// host) is normal: a fact, not a fault.
				st, note = triage.OK, " (the application uses the hosts file; DNS not knowing the name is normal)"
			case fromHosts:
				// A server in trouble, but not for this application's
				// lookup of this name.
				st, note = triage.Warn, " (the application uses the hosts file)"
			case fallback && c != CodeNXDomain && c != CodeTruncated:
				// The stub moves on to the next server: slow, not broken.
				st, note = triage.Warn, " (another server answered)"
			}
			f := serverFinding(c, r.Queried, ts, servers, r.Servers, j, o)
			f.Status, f.Summary = st, f.Summary+note
			if c == CodeTimeout && r.ResolvConf != nil && fromResolvConf(r, servers) {
				// What a silent resolv.conf server costs every lookup
				// that starts with it.
				rc := r.ResolvConf
				f.Summary += fmt.Sprintf("; the stub waits %s per attempt (attempts:%d) before the next server", rc.Timeout, rc.Attempts)
				f.Evidence = append(f.Evidence, slog.Duration("stub_timeout_ns", rc.Timeout),
					slog.Int("attempts", rc.Attempts), slog.Bool("rotate", rc.Rotate))
			}
			r.Add(f)
		}
		if len(noEDNS) > 0 {
			r.Add(triage.Finding{
				Code: CodeNoEDNS, Status: triage.Warn,
				Summary:  fmt.Sprintf("%s answered %s %s only without EDNS0", strings.Join(noEDNS, ", "), r.Queried, ts),
				Evidence: triage.Evidence{slog.String(triage.KeyName, r.Queried), slog.String(KeyType, ts), slog.String("servers", strings.Join(noEDNS, ","))},
				Command:  digCmd(noEDNS[0], r.Queried, ts, "+edns=0"),
			})
		}
		// Who said what, when they do not agree.
		groups := map[string][]string{}
		var verdicts []string
		for _, a := range responded {
			v := a.verdict()
			if _, ok := groups[v]; !ok {
				verdicts = append(verdicts, v)
			}
			groups[v] = append(groups[v], a.Server)
		}
		if len(verdicts) > 1 {
			parts := make([]string, len(verdicts))
			for i, v := range verdicts {
				parts[i] = strings.Join(groups[v], ",") + " says " + v
			}
			said := strings.Join(parts, "; ")
			r.Add(triage.Finding{
				Code: CodeMismatch, Status: triage.Warn,
				Summary: fmt.Sprintf("resolvers disagree on %s %s: %s", r.Queried, ts, said),
				Evidence: triage.Evidence{slog.String(triage.KeyName, r.Queried), slog.String(KeyType, ts),
					slog.String(KeyView, ViewServers), slog.String("answers", said), slog.Int("servers", len(responded))},
				Command: digCmd(responded[0].Server, r.Queried, ts, "+short"),
			})
		}
		if len(withData) > 0 {
			var vals []string
			for _, a := range withData {
				for _, v := range strings.Split(a.verdict(), ",") {
					if !slices.Contains(vals, v) {
						vals = append(vals, v)
					}
				}
			}
			r.Add(triage.Finding{
				Code: CodeResolved, Status: triage.OK,
				Summary: fmt.Sprintf("%s %s resolves to %s (%d of %d servers)", r.Queried, ts, strings.Join(vals, ", "), len(withData), len(r.Servers)),
				Evidence: triage.Evidence{slog.String(triage.KeyName, r.Queried), slog.String(KeyType, ts),
					slog.String("addrs", strings.Join(vals, ",")), slog.Int("servers", len(withData))},
				Command: digCmd("", r.Queried, ts, "+short"),
			})
		}
	}
	judgeAAAA(r, types)
	judgeApp(r, name, types)
	judgeHosts(r, name, o)
	judgeSearch(r, name)
	judgeReach(r, o.Port)
}

func fromResolvConf(r *Result, servers []string) bool {
	for _, s := range r.Servers {
		if s.Source != "option" && slices.Contains(servers, s.Addr) {
			return true
		}
	}
	return false
}

func serverFinding(c triage.Code, name, ts string, servers []string, all []Server, j int, o Options) triage.Finding {
	list := strings.Join(servers, ", ")
	ev := triage.Evidence{slog.String(triage.KeyName, name), slog.String(KeyType, ts), slog.String("servers", strings.Join(servers, ","))}
	var sum string
	switch c {
	case CodeTimeout:
		sum = fmt.Sprintf("no answer for %s %s from %s within the query timeout", name, ts, list)
		for _, s := range all {
			if s.Addr == servers[0] {
				ev = append(ev, slog.Duration("rtt_ns", s.Answers[j].RTT))
			}
		}
		ev = append(ev, slog.Duration("timeout_ns", cmp.Or(o.QueryTimeout, DefaultQueryTimeout)))
	case CodeUnreachable:
		var why string
		for _, s := range all {
			if s.Addr == servers[0] {
				why = s.Answers[j].Error
			}
		}
		sum = fmt.Sprintf("cannot ask %s about %s %s: %s", list, name, ts, why)
		ev = append(ev, slog.String("error", why))
	case CodeTruncated:
		sum = fmt.Sprintf("%s %s from %s is truncated over UDP and the TCP retry failed", name, ts, list)
	default:
		rc := "NXDOMAIN"
		for _, s := range all {
			if s.Addr == servers[0] {
				rc = s.Answers[j].Rcode
			}
		}
		sum = fmt.Sprintf("%s answered %s for %s %s", list, rc, name, ts)
		ev = append(ev, slog.String(KeyRcode, rc))
	}
	return triage.Finding{Code: c, Summary: sum, Evidence: ev, Command: digCmd(servers[0], name, ts, "")}
}

func digCmd(server, name, ts, flag string) string {
	var b strings.Builder
	b.WriteString("dig")
	if server != "" {
		host, port, err := net.SplitHostPort(server)
		if err == nil {
			b.WriteString(" @" + host)
			if port != "53" {
				b.WriteString(" -p " + port)
			}
		}
	}
	b.WriteString(" " + name + " " + ts)
	if flag != "" {
		b.WriteString(" " + flag)
	}
	return b.String()
}

func answersOf(r *Result, t string) []Answer {
	var out []Answer
	for _, s := range r.Servers {
		for _, a := range s.Answers {
			if a.Type == t {
				out = append(out, a)
			}
		}
	}
	return out
}

func judgeAAAA(r *Result, types []uint16) {
	if !slices.Contains(types, dns.TypeA) || !slices.Contains(types, dns.TypeAAAA) {
		return
	}
	var v4 []string
	for _, a := range answersOf(r, "A") {
		for _, x := range a.Addrs {
			if !slices.Contains(v4, x.String()) {
				v4 = append(v4, x.String())
			}
		}
	}
	if len(v4) == 0 {
		return
	}
	answered := false
	for _, a := range answersOf(r, "AAAA") {
		if len(a.Addrs) > 0 {
			return
		}
		answered = answered || a.ok()
	}
	if !answered {
		return
	}
	r.Add(triage.Finding{
		Code: CodeNoAAAA, Status: triage.OK,
		Summary:  fmt.Sprintf("%s has no AAAA records (IPv4 only: %s)", r.Queried, strings.Join(v4, ", ")),
		Evidence: triage.Evidence{slog.String(triage.KeyName, r.Queried), slog.String("a_addrs", strings.Join(v4, ","))},
		Command:  digCmd("", r.Queried, "AAAA", "+short"),
	})
}

// judgeApp compares the application's resolver with the servers asked
// directly: an application that gets addresses no server gives, or none
// when they give some, resolves through something else (nsswitch, a
// cache, another search list).
func judgeApp(r *Result, name string, types []uint16) {
	if r.App == nil || r.App.Source != "resolver" || (r.App.Err != nil && !r.App.NotFound) {
		return
	}
	var appSaid, dnsSaid []netip.Addr
	disjoint := false
	for _, fam := range []struct {
		t  uint16
		is func(netip.Addr) bool
	}{{dns.TypeA, netip.Addr.Is4}, {dns.TypeAAAA, netip.Addr.Is6}} {
		if !slices.Contains(types, fam.t) {
			continue
		}
		var app, fromDNS []netip.Addr
		for _, a := range r.App.Addrs {
			if fam.is(a) {
				app = append(app, a)
			}
		}
		for _, a := range answersOf(r, typeString(fam.t)) {
			for _, x := range a.Addrs {
				if !containsAddr(fromDNS, x) {
					fromDNS = append(fromDNS, x)
				}
			}
		}
		appSaid, dnsSaid = append(appSaid, app...), append(dnsSaid, fromDNS...)
		if len(app) == 0 && len(fromDNS) == 0 {
			continue
		}
		shared := false
		for _, a := range app {
			shared = shared || containsAddr(fromDNS, a)
		}
		if !shared && (len(app) > 0 || r.App.NotFound) {
			disjoint = true
		}
	}
	if !disjoint {
		return
	}
	app := joinAddrs(appSaid)
	if r.App.NotFound {
		app = "no such host"
	}
	said := "application says " + app + "; DNS says " + orDash(joinAddrs(dnsSaid), "nothing")
	r.Add(triage.Finding{
		Code: CodeMismatch, Status: triage.Warn,
		Summary: fmt.Sprintf("the application's resolver and DNS disagree on %s: %s", name, said),
		Evidence: triage.Evidence{slog.String(triage.KeyName, name), slog.String(KeyType, "A/AAAA"),
			slog.String(KeyView, ViewApplication), slog.String("answers", said), slog.Int("servers", len(r.Servers))},
		Command: "getent ahosts " + strings.TrimSuffix(name, "."),
	})
}

func judgeHosts(r *Result, name string, o Options) {
	if len(r.Hosts) == 0 {
		return
	}
	path := o.HostsFile
	if path == "" {
		path = DefaultHostsFile
	}
	var dnsAddrs []netip.Addr
	var differs, asked bool
	for _, fam := range []struct {
		t  string
		is func(netip.Addr) bool
	}{{"A", netip.Addr.Is4}, {"AAAA", netip.Addr.Is6}} {
		var fromHosts, fromDNS []netip.Addr
		for _, h := range r.Hosts {
			if fam.is(h) {
				fromHosts = append(fromHosts, h)
			}
		}
		responded := false
		for _, a := range answersOf(r, fam.t) {
			if a.Rcode == "" {
				continue
			}
			responded = true
			for _, x := range a.Addrs {
				if !containsAddr(fromDNS, x) {
					fromDNS = append(fromDNS, x)
				}
			}
		}
		dnsAddrs = append(dnsAddrs, fromDNS...)
		if len(fromHosts) == 0 || !responded {
			continue
		}
		asked = true
		if !sameAddrs(fromHosts, fromDNS) {
			differs = true
		}
	}
	// DNS saying nothing about the name is no override: the hosts file
	// is then simply where the name lives (localhost, a pinned host).
	if !asked || !differs || len(dnsAddrs) == 0 {
		return
	}
	dnsSays := joinAddrs(dnsAddrs)
	r.Add(triage.Finding{
		Code: CodeHostsOverride, Status: triage.Warn,
		Summary: fmt.Sprintf("%s pins %s to %s; DNS says %s", path, name, joinAddrs(r.Hosts), dnsSays),
		Evidence: triage.Evidence{slog.String(triage.KeyName, name), slog.String(triage.KeyPath, path),
			slog.String("hosts_addrs", joinAddrs(r.Hosts)), slog.String("dns_addrs", joinAddrs(dnsAddrs))},
		Command: fmt.Sprintf("getent hosts %s; grep -w %s %s", name, strings.TrimSuffix(name, "."), path),
	})
}

func sameAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !containsAddr(b, x) {
			return false
		}
	}
	return true
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func judgeSearch(r *Result, name string) {
	n := len(r.Search)
	if n == 0 || r.ResolvConf == nil {
		return
	}
	last := r.Search[n-1]
	answered := hasData(last)
	wasted := n - 1
	if !answered {
		wasted = n
	}
	if wasted == 0 {
		return
	}
	types := 1
	if len(r.Servers) > 0 {
		types = len(r.Servers[0].Answers)
	}
	ndots := r.ResolvConf.Ndots
	dots := strings.Count(name, ".")
	var sum string
	if answered {
		sum = fmt.Sprintf("%s needs %d lookups per type under ndots:%d before %s answers (%d wasted; about %d queries for %d types)",
			name, n, ndots, last.Name, wasted, n*types, types)
	} else {
		sum = fmt.Sprintf("%s: none of %d search-list lookups under ndots:%d answered (last %s: %s)",
			name, n, ndots, last.Name, orDash(last.Rcode, last.Error))
	}
	var spent time.Duration
	for _, a := range r.Search[:wasted] {
		spent += a.RTT
	}
	r.Add(triage.Finding{
		Code: CodeSearchExpansion, Status: triage.Warn,
		Summary: sum,
		Evidence: triage.Evidence{slog.String(triage.KeyName, name), slog.Int("ndots", ndots), slog.Int("dots", dots),
			slog.Int("queries", n), slog.Int("wasted", wasted), slog.Duration("wasted_time_ns", spent),
			slog.String("answered_name", answeredName(last))},
		Command: "dig +search +showsearch " + name,
	})
}

func answeredName(a Answer) string {
	if hasData(a) {
		return a.Name
	}
	return ""
}

func orDash(s, alt string) string {
	if s != "" {
		return s
	}
	if alt != "" {
		return alt
	}
	return "-"
}

func judgeReach(r *Result, port int) {
	v4ok := false
	for _, x := range r.Reach {
		if x.Addr.Addr().Is4() && x.Reachable {
			v4ok = true
		}
	}
	for _, x := range r.Reach {
		if x.Reachable || !x.Addr.Addr().Is6() {
			continue
		}
		sum := fmt.Sprintf("%s (AAAA of %s) does not connect on port %d: %s", x.Addr.Addr(), r.Queried, port, x.Error)
		if v4ok {
			sum += "; IPv4 does"
		}
		r.Add(triage.Finding{
			Code: CodeIPv6Unreachable, Status: triage.Fail,
			Summary: sum,
			Evidence: triage.Evidence{slog.String(triage.KeyName, r.Queried), slog.String(triage.KeyAddr, x.Addr.Addr().String()),
				slog.Int(triage.KeyPort, port), slog.String("error", x.Error), slog.Duration("elapsed_ns", x.Elapsed),
				slog.Bool(KeyIPv4Reachable, v4ok)},
			Command: "curl -6 -v --connect-timeout 5 telnet://" + net.JoinHostPort(x.Addr.Addr().String(), strconv.Itoa(port)),
		})
	}
}

// AppLookup returns a lookup that resolves names as an application
// reading hostsFile and resolvConf would: the hosts file first, then the
// nameservers resolvConf names, in turn. Empty paths stand for this
// host's files (DefaultHostsFile, DefaultResolvConf). Give it, as a
// probe.LookupFunc, to probe.TCPOptions.Lookup or
// probe.HTTPOptions.Lookup, so that a request
// reproduced from outside a container goes where the container's would.
//
// The files are read once, now, like any file a container controls:
// without blocking, regular files only, at most 4 MiB; an error says
// which could not be read. The nameservers are asked in turn, as the C
// library does, each for the file's options timeout, for its options
// attempts rounds. The search list and other options are this host's
// (Go's resolver reads them from its own resolv.conf); give names as the
// application does. A name the hosts
// file does not hold and no server knows gives a *net.DNSError with
// IsNotFound set.
func AppLookup(hostsFile, resolvConf string) (func(ctx context.Context, host string) ([]netip.Addr, error), error) {
	return AppLookupVia(hostsFile, resolvConf, nil)
}

// AppLookupVia is AppLookup with its DNS queries sent through d, such as
// a container.Container, so that they leave from the container's network
// namespace: a resolver on the container's loopback (127.0.0.11) is
// reached, and one the container cannot reach fails as it does there. With
// a dialer the nameservers of resolvConf (DefaultResolvConf when empty)
// are asked even for this host's file. A nil d is AppLookup.
func AppLookupVia(hostsFile, resolvConf string, d Dialer) (func(ctx context.Context, host string) ([]netip.Addr, error), error) {
	hosts, err := readHosts(hostsFile)
	if err != nil {
		return nil, err
	}
	lookup := net.DefaultResolver.LookupNetIP
	if d != nil && resolvConf == "" {
		resolvConf = DefaultResolvConf
	}
	if d != nil || resolvConf != "" && resolvConf != DefaultResolvConf {
		rc, err := readResolvConf(resolvConf)
		if err != nil {
			return nil, err
		}
		ns := rc.Nameservers
		if len(ns) == 0 {
			ns = []string{"127.0.0.1:53", "[::1]:53"}
		}
		lookup = inTurn(ns, rc.Timeout, rc.Attempts, d)
	}
	return func(ctx context.Context, host string) ([]netip.Addr, error) {
		if a := hosts[hostsKey(host)]; len(a) > 0 {
			return slices.Clone(a), nil
		}
		addrs, err := lookup(ctx, "ip", host)
		for i := range addrs {
			addrs[i] = addrs[i].Unmap()
		}
		return addrs, err
	}, nil
}

// inTurn resolves as the C library's stub resolver does with servers:
// each in file order, for at most timeout, attempts rounds over them; a
// server that says the name does not exist ends the lookup, any other
// failure moves to the next server. So a first nameserver that never
// answers costs timeout before the second is asked, as it does the
// application.
func inTurn(servers []string, timeout time.Duration, attempts int, d Dialer) func(ctx context.Context, network, host string) ([]netip.Addr, error) {
	res := make([]*net.Resolver, len(servers))
	for i, s := range servers {
		res[i] = resolverTo([]string{s}, d)
	}
	attempts = max(attempts, 1)
	return func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		var last error
		for range attempts {
			for _, r := range res {
				tctx, cancel := context.WithTimeout(ctx, timeout)
				addrs, err := r.LookupNetIP(tctx, network, host)
				cancel()
				if err == nil {
					return addrs, nil
				}
				last = err
				var de *net.DNSError
				if errors.As(err, &de) && de.IsNotFound || ctx.Err() != nil {
					return nil, err
				}
			}
		}
		return nil, last
	}
}
