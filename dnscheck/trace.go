package dnscheck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/triagekit/triage"
)

// Bounds for the zero TraceOptions.
const (
	DefaultMaxReferrals = 16
	DefaultMaxCNAMEs    = 8
	// maxGlueDepth bounds nested lookups of nameserver addresses that
	// came without glue.
	maxGlueDepth = 4
	// maxNS bounds how many nameservers of one zone are tried.
	maxNS = 6
)

// rootHints are the IPv4 addresses of the root servers a. to m.
var rootHints = []string{
	"198.41.0.4", "170.247.170.2", "192.33.4.12", "199.7.91.13",
	"192.203.230.10", "192.5.5.241", "192.112.36.4", "198.97.190.53",
	"192.36.148.17", "192.58.128.30", "193.0.14.129", "199.7.83.42",
	"202.12.27.33",
}

// TraceOptions says what [Trace] resolves and where it starts.
type TraceOptions struct {
	// Name is the name to resolve; it is made fully qualified.
	Name string
	// Type is the query type. If empty, "A".
	Type string
	// RootHints are the servers asked first, as "addr" or "addr:port".
	// If empty, the root servers' IPv4 addresses on port 53, starting
	// from a random one. Private roots and tests set their own.
	RootHints []string
	// Port is the port of the nameservers learnt from referrals and glue.
	// If zero, 53.
	Port int
	// StepTimeout bounds each query. If zero, DefaultQueryTimeout; it is
	// shortened to fit the context's deadline.
	StepTimeout time.Duration
	// MaxReferrals bounds the referrals followed in all. If zero,
	// DefaultMaxReferrals.
	MaxReferrals int
	// MaxCNAMEs bounds the CNAME hops followed. If zero,
	// DefaultMaxCNAMEs.
	MaxCNAMEs int
}

// TraceResult is what [Trace] found. Its Check is [KindTrace]; its
// Target.Name is TraceOptions.Name as given.
type TraceResult struct {
	triage.Result
	// Type is the query type.
	Type string `json:"type"`
	// Steps are the queries in the order they were made.
	Steps []Step `json:"steps"`
	// Rcode is the final response code; empty when no server gave a
	// final answer.
	Rcode string `json:"rcode,omitempty"`
	// Answer holds the final records, CNAMEs included, in chain order.
	Answer []Record `json:"answer,omitempty"`
	// Addrs are the final addresses for A and AAAA.
	Addrs []netip.Addr `json:"addrs,omitempty"`
}

// StepKind says what one step of a trace got.
type StepKind string

// Step kinds.
const (
	StepReferral StepKind = "referral" // the server delegated to a deeper zone
	StepAnswer   StepKind = "answer"   // the server answered with data
	StepCNAME    StepKind = "cname"    // the answer is an alias to follow
	StepNXDomain StepKind = "nxdomain" // the name does not exist
	StepNoData   StepKind = "nodata"   // the name exists without the type
	StepLame     StepKind = "lame"     // the server does not serve the zone
	StepTimeout  StepKind = "timeout"  // no answer within the step timeout
	StepError    StepKind = "error"    // the server could not be asked
)

// Step is one query of a trace.
type Step struct {
	// Zone is the zone the server was asked as a server of.
	Zone string `json:"zone"`
	// Server is host:port; NS its name when a referral gave one.
	Server string `json:"server"`
	NS     string `json:"ns,omitempty"`
	// Name and Type are the question.
	Name string `json:"name"`
	Type string `json:"type"`
	// Depth is 0 for the name traced and grows for the lookups of
	// nameserver addresses that came without glue.
	Depth int `json:"depth"`
	// Kind is what the step got.
	Kind StepKind `json:"kind"`
	// Referral is the zone delegated to, for StepReferral.
	Referral string `json:"referral,omitempty"`
	// Rcode is the response code; empty when no response came.
	Rcode string `json:"rcode,omitempty"`
	// Records are the answer (StepAnswer, StepCNAME) or the NS records
	// (StepReferral); Glue the addresses that came with a referral.
	Records []Record `json:"records,omitempty"`
	Glue    []Record `json:"glue,omitempty"`
	// Reason says why a step is lame or failed.
	Reason string        `json:"reason,omitempty"`
	RTT    time.Duration `json:"rtt_ns"`
}

// errors that end a trace; each also leaves a finding.
var (
	errLoop    = errors.New("loop")
	errTooDeep = errors.New("too deep")
	errDeadEnd = errors.New("no server answered")
	errNXDom   = errors.New("nxdomain")
)

type nsAddr struct {
	name string // empty for root hints
	addr string // host:port; empty until resolved
}

type tracer struct {
	ctx       context.Context
	o         TraceOptions
	r         *TraceResult
	name      string // fully qualified
	qtype     uint16
	port      string
	referrals int
	visiting  map[string]bool // name/type lookups in progress
	timeout   time.Duration
}

// Trace resolves o.Name iteratively from the root, like `dig +trace`:
// it follows referrals with glue, looks up nameserver addresses that came
// without glue, and follows CNAMEs, within bounds on referrals, CNAME hops
// and time. Each query is a [Step]. Lame delegations, loops and bounds
// hit are findings. Bad input gives Unknown with an error wrapping
// triage.ErrInvalid.
func Trace(ctx context.Context, o TraceOptions) TraceResult {
	name := strings.TrimSpace(o.Name)
	r := TraceResult{Result: triage.Begin(KindTrace, triage.Target{Name: name})}
	r.Finish(trace(ctx, o, name, &r))
	return r
}

func trace(ctx context.Context, o TraceOptions, name string, r *TraceResult) error {
	if err := validName(name); err != nil {
		return err
	}
	if o.Type == "" {
		o.Type = "A"
	}
	types, err := parseTypes([]string{o.Type})
	if err != nil {
		return err
	}
	if o.Port < 0 || o.Port > 65535 || o.MaxReferrals < 0 || o.MaxCNAMEs < 0 || o.StepTimeout < 0 {
		return fmt.Errorf("%w: negative or out-of-range bound", triage.ErrInvalid)
	}
	var roots []nsAddr
	for _, h := range o.RootHints {
		a, err := serverAddr(h)
		if err != nil {
			return err
		}
		roots = append(roots, nsAddr{addr: a})
	}
	if len(roots) == 0 {
		off := rand.IntN(len(rootHints))
		for i := range rootHints {
			h := rootHints[(off+i)%len(rootHints)]
			roots = append(roots, nsAddr{addr: net.JoinHostPort(h, "53")})
		}
	}
	t := &tracer{
		ctx: ctx, o: o, r: r, name: dns.Fqdn(name), qtype: types[0],
		port:     strconv.Itoa(cmp.Or(o.Port, 53)),
		visiting: map[string]bool{},
		timeout:  cmp.Or(o.StepTimeout, DefaultQueryTimeout),
	}
	r.Type = typeString(t.qtype)
	rrs, rcode, err := t.resolve(t.name, t.qtype, 0, roots)
	r.Rcode = rcode
	for _, rr := range rrs {
		r.Answer = append(r.Answer, newRecord(rr))
		switch v := rr.(type) {
		case *dns.A:
			if x, ok := netip.AddrFromSlice(v.A); ok {
				r.Addrs = append(r.Addrs, x.Unmap())
			}
		case *dns.AAAA:
			if x, ok := netip.AddrFromSlice(v.AAAA); ok {
				r.Addrs = append(r.Addrs, x)
			}
		}
	}
	t.judge(err)
	return ended(ctx)
}

// resolve follows CNAMEs across zones; iterate does one name.
func (t *tracer) resolve(name string, qtype uint16, depth int, roots []nsAddr) ([]dns.RR, string, error) {
	key := strings.ToLower(name) + "/" + typeString(qtype)
	if t.visiting[key] {
		return nil, "", t.loop(name, qtype, "nameserver lookup needs itself", name)
	}
	t.visiting[key] = true
	defer delete(t.visiting, key)

	var all []dns.RR
	seen := map[string]bool{strings.ToLower(name): true}
	chain := []string{name}
	for hops := 0; ; hops++ {
		rrs, rcode, next, err := t.iterate(name, qtype, depth, roots)
		all = append(all, rrs...)
		if err != nil || next == "" {
			return all, rcode, err
		}
		chain = append(chain, next)
		if seen[strings.ToLower(next)] {
			return all, rcode, t.loop(name, qtype, "CNAME chain", strings.Join(chain, " -> "))
		}
		if limit := cmp.Or(t.o.MaxCNAMEs, DefaultMaxCNAMEs); hops+1 > limit {
			return all, rcode, t.tooDeep(name, qtype, "CNAME hops", limit)
		}
		seen[strings.ToLower(next)] = true
		name = next
	}
}

// iterate walks referrals for one name. It returns the final records, the
// rcode, and a CNAME target to follow when the answer ends in an alias.
func (t *tracer) iterate(name string, qtype uint16, depth int, roots []nsAddr) ([]dns.RR, string, string, error) {
	zone := "."
	servers := roots
	for {
		var (
			referral []nsAddr
			newZone  string
		)
		done := false
		for i := 0; i < len(servers) && i < maxNS && !done; i++ {
			if t.ctx.Err() != nil {
				return nil, "", "", t.ctx.Err()
			}
			s := servers[i]
			if s.addr == "" {
				addr, err := t.glue(s.name, depth, roots)
				if errors.Is(err, errLoop) || errors.Is(err, errTooDeep) {
					return nil, "", "", err
				}
				if addr == "" {
					t.step(Step{Zone: zone, NS: s.name, Name: dns.Fqdn(name), Type: typeString(qtype), Depth: depth,
						Kind: StepLame, Reason: "its address cannot be resolved"})
					continue
				}
				s.addr = addr
			}
			e := exchanger{timeout: budget(t.ctx, t.timeout, exchangesPerQuery), recurse: false}
			a := e.query(t.ctx, s.addr, name, qtype)
			st := Step{Zone: zone, Server: s.addr, NS: s.name, Name: a.Name, Type: a.Type, Depth: depth,
				Rcode: a.Rcode, RTT: a.RTT}
			resp := a.msg
			switch {
			case a.Rcode == "" || (a.Err != nil && a.Truncated):
				st.Kind, st.Reason = StepError, a.Error
				if a.Timeout {
					st.Kind = StepTimeout
				}
				t.step(st)
				continue
			case resp.Rcode == dns.RcodeNameError && resp.Authoritative:
				st.Kind = StepNXDomain
				st.Records = records(resp.Ns)
				t.step(st)
				return nil, a.Rcode, "", errNXDom
			case resp.Rcode != dns.RcodeSuccess:
				st.Kind, st.Reason = StepLame, "answered "+a.Rcode
				t.step(st)
				continue
			}
			if final, next, ok := answerChain(resp, name, qtype); ok {
				st.Records = records(resp.Answer)
				st.Kind = StepAnswer
				if next != "" {
					st.Kind = StepCNAME
				}
				t.step(st)
				return final, a.Rcode, next, nil
			}
			if resp.Authoritative {
				// An authoritative answer is never a referral, whatever
				// NS records a non-minimal response carries.
				st.Kind = StepNoData
				st.Records = records(resp.Ns)
				t.step(st)
				return nil, a.Rcode, "", nil
			}
			if z, ns, glue := delegation(resp, name); z != "" {
				st.Records, st.Glue = records(ns), records(glue)
				if dns.CountLabel(z) <= dns.CountLabel(zone) || !dns.IsSubDomain(zone, z) {
					// Up (a zone already passed) or sideways: followed,
					// it would loop.
					st.Kind, st.Referral = StepLame, z
					st.Reason = "it refers to " + z + ", not below " + zone
					t.step(st)
					continue
				}
				st.Kind, st.Referral = StepReferral, z
				t.step(st)
				newZone, referral = z, t.servers(ns, glue)
				done = true
				continue
			}
			st.Kind, st.Reason = StepLame, "not authoritative and no referral"
			t.step(st)
		}
		if !done {
			return nil, "", "", errDeadEnd
		}
		t.referrals++
		if limit := cmp.Or(t.o.MaxReferrals, DefaultMaxReferrals); t.referrals > limit {
			return nil, "", "", t.tooDeep(name, qtype, "referrals", limit)
		}
		zone, servers = newZone, referral
	}
}

// glue looks up a nameserver's address from the root, one level deeper.
func (t *tracer) glue(ns string, depth int, roots []nsAddr) (string, error) {
	if depth+1 > maxGlueDepth {
		return "", t.tooDeep(ns, dns.TypeA, "nameserver lookups without glue", maxGlueDepth)
	}
	rrs, _, err := t.resolve(ns, dns.TypeA, depth+1, roots)
	if err != nil && (errors.Is(err, errLoop) || errors.Is(err, errTooDeep)) {
		return "", err
	}
	for _, rr := range rrs {
		if a, ok := rr.(*dns.A); ok {
			return net.JoinHostPort(a.A.String(), t.port), nil
		}
	}
	return "", nil
}

func (t *tracer) servers(ns []dns.RR, glue []dns.RR) []nsAddr {
	var out []nsAddr
	for _, rr := range ns {
		n, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		s := nsAddr{name: n.Ns}
		for _, g := range glue {
			if !strings.EqualFold(g.Header().Name, n.Ns) {
				continue
			}
			switch v := g.(type) {
			case *dns.A:
				s.addr = net.JoinHostPort(v.A.String(), t.port)
			case *dns.AAAA:
				if s.addr == "" {
					s.addr = net.JoinHostPort(v.AAAA.String(), t.port)
				}
			}
		}
		out = append(out, s)
	}
	// Servers with glue first: they cost no extra lookups.
	var sorted []nsAddr
	for _, s := range out {
		if s.addr != "" {
			sorted = append(sorted, s)
		}
	}
	for _, s := range out {
		if s.addr == "" {
			sorted = append(sorted, s)
		}
	}
	return sorted
}

// answerChain reads the answer section for name: the records of qtype at
// the end of the in-answer CNAME chain, or the chain and its last target
// when the data is elsewhere. ok is false when the answer section says
// nothing about name.
func answerChain(resp *dns.Msg, name string, qtype uint16) (final []dns.RR, next string, ok bool) {
	owner := name
	seen := map[string]bool{}
	for range maxChain {
		if seen[strings.ToLower(owner)] {
			// The answer itself loops; hand the repeat back so the
			// caller's seen set reports it.
			return final, owner, true
		}
		seen[strings.ToLower(owner)] = true
		var cname string
		var data []dns.RR
		for _, rr := range resp.Answer {
			if !strings.EqualFold(rr.Header().Name, owner) {
				continue
			}
			if rr.Header().Rrtype == qtype {
				data = append(data, rr)
			} else if c, isC := rr.(*dns.CNAME); isC {
				cname = c.Target
				data = append(data, rr)
			}
		}
		if len(data) == 0 {
			if owner == name {
				return nil, "", false
			}
			return final, owner, true
		}
		final = append(final, data...)
		if cname == "" || qtype == dns.TypeCNAME {
			return final, "", true
		}
		owner = cname
	}
	return final, owner, true
}

// delegation returns the zone, NS records and glue of a referral for name.
func delegation(resp *dns.Msg, name string) (string, []dns.RR, []dns.RR) {
	var zone string
	var ns []dns.RR
	for _, rr := range resp.Ns {
		n, ok := rr.(*dns.NS)
		if !ok || !dns.IsSubDomain(n.Hdr.Name, name) {
			continue
		}
		if zone == "" {
			zone = strings.ToLower(n.Hdr.Name)
		}
		if strings.EqualFold(n.Hdr.Name, zone) {
			ns = append(ns, rr)
		}
	}
	var glue []dns.RR
	for _, rr := range resp.Extra {
		switch rr.(type) {
		case *dns.A, *dns.AAAA:
			glue = append(glue, rr)
		}
	}
	return zone, ns, glue
}

func records(rrs []dns.RR) []Record {
	var out []Record
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, newRecord(rr))
	}
	return out
}

func (t *tracer) step(s Step) { t.r.Steps = append(t.r.Steps, s) }

func (t *tracer) loop(name string, qtype uint16, what, chain string) error {
	t.r.Add(triage.Finding{
		Code: CodeLoop, Status: triage.Fail,
		Summary: fmt.Sprintf("resolving %s %s loops (%s): %s", name, typeString(qtype), what, chain),
		Evidence: triage.Evidence{slog.String(triage.KeyName, name), slog.String(KeyType, typeString(qtype)),
			slog.String("kind", what), slog.String("chain", chain)},
		Command: "dig +trace " + name + " " + typeString(qtype),
	})
	return errLoop
}

func (t *tracer) tooDeep(name string, qtype uint16, what string, limit int) error {
	t.r.Add(triage.Finding{
		Code: CodeTooDeep, Status: triage.Fail,
		Summary:  fmt.Sprintf("resolving %s %s needs more than %d %s", name, typeString(qtype), limit, what),
		Evidence: triage.Evidence{slog.String(triage.KeyName, name), slog.String(KeyType, typeString(qtype)), slog.String("bound", what), slog.Int("limit", limit)},
		Command:  "dig +trace " + name + " " + typeString(qtype),
	})
	return errTooDeep
}

// judge adds the findings the steps support once the trace ended.
func (t *tracer) judge(err error) {
	r := t.r
	// A zone is healthy when one of its servers gave a usable response.
	good := map[string]bool{}
	for _, s := range r.Steps {
		switch s.Kind {
		case StepReferral, StepAnswer, StepCNAME, StepNXDomain, StepNoData:
			good[s.Zone] = true
		}
	}
	timeouts := map[string][]string{}
	var zones []string
	for _, s := range r.Steps {
		switch s.Kind {
		case StepLame, StepError:
			st := triage.Warn
			if !good[s.Zone] {
				st = triage.Fail
			}
			r.Add(triage.Finding{
				Code: CodeLameDelegation, Status: st,
				Summary: fmt.Sprintf("%s is delegated %s but %s", serverName(s), s.Zone, s.Reason),
				Evidence: triage.Evidence{slog.String("zone", s.Zone), slog.String("server", s.Server),
					slog.String("ns", s.NS), slog.String("reason", s.Reason)},
				Command: digCmd(s.Server, s.Name, s.Type, "+norecurse"),
			})
			if s.Referral != "" && !good[s.Zone] {
				chain := s.Zone + " -> " + s.Referral
				r.Add(triage.Finding{
					Code: CodeLoop, Status: triage.Fail,
					Summary: fmt.Sprintf("resolving %s %s loops (referral loop): %s refers %s to %s", s.Name, s.Type, serverName(s), s.Zone, s.Referral),
					Evidence: triage.Evidence{slog.String(triage.KeyName, s.Name), slog.String(KeyType, s.Type),
						slog.String("kind", "referral loop"), slog.String("chain", chain)},
					Command: "dig +trace " + s.Name + " " + s.Type,
				})
			}
		case StepTimeout:
			if _, ok := timeouts[s.Zone]; !ok {
				zones = append(zones, s.Zone)
			}
			timeouts[s.Zone] = append(timeouts[s.Zone], s.Server)
		}
	}
	for _, z := range zones {
		st := triage.Warn
		if !good[z] {
			st = triage.Fail
		}
		servers := timeouts[z]
		r.Add(triage.Finding{
			Code: CodeTimeout, Status: st,
			Summary: fmt.Sprintf("%d server(s) of %s did not answer within the step timeout: %s", len(servers), z, strings.Join(servers, ", ")),
			Evidence: triage.Evidence{slog.String("zone", z), slog.String("servers", strings.Join(servers, ",")),
				slog.Duration("timeout_ns", t.timeout)},
			Command: digCmd(servers[0], t.name, r.Type, "+norecurse"),
		})
	}
	switch {
	case errors.Is(err, errNXDom):
		last := r.Steps[len(r.Steps)-1]
		r.Add(triage.Finding{
			Code: CodeNXDomain, Status: triage.Fail,
			Summary: fmt.Sprintf("%s does not exist: %s, authoritative for %s, answered NXDOMAIN for %s", t.name, last.Server, last.Zone, last.Name),
			Evidence: triage.Evidence{slog.String(triage.KeyName, last.Name), slog.String(KeyType, r.Type),
				slog.String("server", last.Server), slog.String("zone", last.Zone), slog.String(KeyRcode, "NXDOMAIN")},
			Command: "dig +trace " + t.name + " " + r.Type,
		})
	case err == nil && len(r.Answer) > 0:
		var vals []string
		for _, rec := range r.Answer {
			if rec.Type == r.Type {
				vals = append(vals, rec.Data)
			}
		}
		if len(vals) > 0 {
			r.Add(triage.Finding{
				Code: CodeResolved, Status: triage.OK,
				Summary: fmt.Sprintf("%s %s resolves to %s from the root in %d steps", t.name, r.Type, strings.Join(vals, ", "), len(r.Steps)),
				Evidence: triage.Evidence{slog.String(triage.KeyName, t.name), slog.String(KeyType, r.Type),
					slog.String("addrs", strings.Join(vals, ",")), slog.Int("steps", len(r.Steps))},
				Command: "dig +trace " + t.name + " " + r.Type,
			})
		}
	}
}

func serverName(s Step) string {
	switch {
	case s.Server == "":
		return s.NS
	case s.NS == "":
		return s.Server + " (root hint)"
	}
	return s.Server + " (" + s.NS + ")"
}
