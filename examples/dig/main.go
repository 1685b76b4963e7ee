// Command dig asks DNS the way dig does, on the dnscheck package: one
// server's answer in dig's sections, the short form, or an iterative
// trace from the root.
//
//	dig [@server[:port]] name [type] [-short] [-trace] [-all] [-json]
//	    [-root addr[:port]]... [-port N] [-timeout D]
//
// Without @server it asks the first nameserver of /etc/resolv.conf, as dig
// does. -all runs the whole check instead: the application's view with
// /etc/hosts, every nameserver of resolv.conf plus @server, compared, and
// the search-list cost. -trace walks the delegation from the root servers,
// or from -root hints (private roots); servers learnt from referrals are
// asked on -port (default 53). Findings are printed as ";; dnscheck:"
// comments after the answer.
//
// Exit status: 0 when a server answered (whatever the rcode, as dig), 1 for
// a usage error, 9 when no server answered, 10 when the check could not
// tell.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/dnscheck"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	code := run(context.Background(), os.Args[1:], out, os.Stderr)
	if err := out.Flush(); err != nil && code == 0 {
		code = 10
	}
	os.Exit(code)
}

type options struct {
	server, name, qtype string
	short, trace, all   bool
	json                bool
	roots               []string
	port                int
	timeout             time.Duration
	resolvConf          string
}

const usage = `usage: dig [@server[:port]] name [type] [-short] [-trace] [-all] [-json]
           [-root addr[:port]]... [-port N] [-timeout D]
`

func parseArgs(args []string) (options, error) {
	o := options{timeout: 10 * time.Second, resolvConf: dnscheck.DefaultResolvConf}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		switch strings.TrimLeft(a, "-+") {
		case "short":
			o.short = true
			continue
		case "trace":
			o.trace = true
			continue
		case "all":
			o.all = true
			continue
		case "json":
			o.json = true
			continue
		case "root":
			v, err := next()
			if err != nil {
				return o, err
			}
			o.roots = append(o.roots, v)
			continue
		case "port":
			v, err := next()
			if err != nil {
				return o, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return o, fmt.Errorf("bad -port %q", v)
			}
			o.port = n
			continue
		case "timeout":
			v, err := next()
			if err != nil {
				return o, err
			}
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return o, fmt.Errorf("bad -timeout %q", v)
			}
			o.timeout = d
			continue
		case "resolv-conf":
			v, err := next()
			if err != nil {
				return o, err
			}
			o.resolvConf = v
			continue
		}
		switch {
		case strings.HasPrefix(a, "@"):
			o.server = a[1:]
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			return o, fmt.Errorf("unknown option %s", a)
		default:
			pos = append(pos, a)
		}
	}
	switch len(pos) {
	case 0:
		return o, errors.New("no name given")
	case 1:
		o.name, o.qtype = pos[0], "A"
	case 2:
		o.name, o.qtype = pos[0], strings.ToUpper(pos[1])
	default:
		return o, fmt.Errorf("unexpected argument %q", pos[2])
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "dig: %v\n%s", err, usage)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var p printed
	if o.trace {
		p = runTrace(ctx, o)
	} else if p, err = runQuery(ctx, o); err != nil {
		fmt.Fprintf(stderr, "dig: %v\n", err)
		return 10
	}
	return p.print(stdout, stderr, o)
}

// printed is a query's or a trace's result, ready for the output: the
// typed result for -json, how to write it with -short and in full, and
// whether any server answered.
type printed struct {
	result      triage.Outcome
	short, full func(io.Writer)
	answered    bool
}

// print writes p as o asks and returns the exit status.
func (p printed) print(stdout, stderr io.Writer, o options) int {
	r := p.result.Common()
	if errors.Is(r.Err, triage.ErrInvalid) {
		fmt.Fprintf(stderr, "dig: %v\n%s", r.Err, usage)
		return 1
	}
	switch {
	case o.json:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(p.result)
	case o.short:
		p.short(stdout)
	default:
		p.full(stdout)
		for _, f := range r.Findings {
			if f.Status != triage.OK {
				fmt.Fprintf(stdout, ";; dnscheck: %s %s: %s\n", f.Status, f.Code, f.Summary)
			}
		}
	}
	switch {
	case r.Err != nil:
		fmt.Fprintf(stderr, "dig: %v\n", r.Err)
		return 10
	case !p.answered:
		return 9
	}
	return 0
}

func runQuery(ctx context.Context, o options) (printed, error) {
	opts := dnscheck.Options{Name: o.name, Types: []string{o.qtype}, ResolvConf: o.resolvConf}
	if o.server != "" {
		opts.Servers = []string{o.server}
	}
	if !o.all {
		// Like dig: one server, @server or resolv.conf's first.
		opts.SkipSystem = true
		if o.server == "" {
			ns, err := firstNameserver(o.resolvConf)
			if err != nil {
				return printed{}, err
			}
			opts.Servers = []string{ns}
		}
	}
	r := dnscheck.Check(ctx, opts)
	return printed{
		result:   &r,
		short:    func(w io.Writer) { writeShort(w, r) },
		full:     func(w io.Writer) { writeFull(w, o, r) },
		answered: anyResponse(r),
	}, nil
}

func firstNameserver(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "127.0.0.1:53", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	rc, err := dnscheck.ParseResolvConf(f)
	if err != nil {
		return "", err
	}
	if len(rc.Nameservers) == 0 {
		return "127.0.0.1:53", nil
	}
	return rc.Nameservers[0], nil
}

func anyResponse(r dnscheck.Result) bool {
	for _, s := range r.Servers {
		for _, a := range s.Answers {
			if a.Rcode != "" {
				return true
			}
		}
	}
	return false
}

func writeShort(w io.Writer, r dnscheck.Result) {
	for _, s := range r.Servers {
		for _, a := range s.Answers {
			if a.Rcode == "" {
				continue
			}
			for _, rec := range a.Records {
				fmt.Fprintln(w, rec.Data)
			}
			return
		}
	}
}

func writeFull(w io.Writer, o options, r dnscheck.Result) {
	fmt.Fprintf(w, "\n; <<>> dig (triage dnscheck) <<>> %s\n", strings.Join(commandLine(o), " "))
	if r.App != nil {
		fmt.Fprintf(w, ";; APPLICATION VIEW (%s): %s", r.App.Source, joinAddrs(r.App))
		if r.App.Error != "" {
			fmt.Fprintf(w, " (%s)", r.App.Error)
		}
		fmt.Fprintln(w)
	}
	if len(r.Search) > 0 {
		fmt.Fprintf(w, ";; SEARCH (ndots:%d):", r.ResolvConf.Ndots)
		for _, a := range r.Search {
			fmt.Fprintf(w, " %s %s;", a.Name, orDefault(a.Rcode, "no answer"))
		}
		fmt.Fprintln(w)
	}
	for _, s := range r.Servers {
		for _, a := range s.Answers {
			writeAnswer(w, a)
		}
	}
}

func commandLine(o options) []string {
	var out []string
	if o.server != "" {
		out = append(out, "@"+o.server)
	}
	return append(out, o.name, o.qtype)
}

func writeAnswer(w io.Writer, a dnscheck.Answer) {
	host, port := splitServer(a.Server)
	if a.Rcode == "" {
		fmt.Fprintf(w, ";; communications error to %s#%s: %s\n", host, port, a.Error)
		fmt.Fprintf(w, ";; no servers could be reached\n\n")
		return
	}
	flags := []string{"qr", "rd"}
	if a.Recursion {
		flags = append(flags, "ra")
	}
	if a.Authoritative {
		flags = append(flags, "aa")
	}
	fmt.Fprintf(w, ";; ->>HEADER<<- opcode: QUERY, status: %s\n", a.Rcode)
	fmt.Fprintf(w, ";; flags: %s; QUERY: 1, ANSWER: %d, AUTHORITY: %d\n\n",
		strings.Join(flags, " "), len(a.Records), len(a.Authority))
	if a.EDNS {
		fmt.Fprintf(w, ";; OPT PSEUDOSECTION:\n; EDNS: version: 0, udp: 1232\n\n")
	}
	fmt.Fprintf(w, ";; QUESTION SECTION:\n;%s\t\tIN\t%s\n\n", a.Name, a.Type)
	section(w, "ANSWER", a.Records)
	section(w, "AUTHORITY", a.Authority)
	if a.Truncated {
		fmt.Fprintf(w, ";; Truncated, retrying in TCP mode.\n")
	}
	if a.EDNSRetried {
		fmt.Fprintf(w, ";; no answer with EDNS, retried without\n")
	}
	fmt.Fprintf(w, ";; Query time: %d msec\n", a.RTT.Milliseconds())
	fmt.Fprintf(w, ";; SERVER: %s#%s(%s) (%s)\n", host, port, host, strings.ToUpper(a.Transport))
	if a.Error != "" {
		fmt.Fprintf(w, ";; ERROR: %s\n", a.Error)
	}
	fmt.Fprintln(w)
}

func section(w io.Writer, title string, recs []dnscheck.Record) {
	if len(recs) == 0 {
		return
	}
	fmt.Fprintf(w, ";; %s SECTION:\n", title)
	for _, r := range recs {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintln(w)
}

func splitServer(s string) (string, string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "53"
	}
	return strings.Trim(s[:i], "[]"), s[i+1:]
}

func joinAddrs(v *dnscheck.AppView) string {
	s := make([]string, len(v.Addrs))
	for i, a := range v.Addrs {
		s[i] = a.String()
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, " ")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func runTrace(ctx context.Context, o options) printed {
	roots := o.roots
	if o.server != "" && len(roots) == 0 {
		// dig +trace @server asks server for the root NS; here it is the
		// root hint itself.
		roots = []string{o.server}
	}
	r := dnscheck.Trace(ctx, dnscheck.TraceOptions{Name: o.name, Type: o.qtype, RootHints: roots, Port: o.port})
	return printed{
		result: &r,
		short: func(w io.Writer) {
			for _, rec := range r.Answer {
				fmt.Fprintf(w, "%s %s\n", rec.Type, rec.Data)
			}
		},
		full: func(w io.Writer) {
			fmt.Fprintf(w, "\n; <<>> dig (triage dnscheck) <<>> +trace %s %s\n\n", r.Target.Name, r.Type)
			for _, s := range r.Steps {
				writeStep(w, s)
			}
		},
		answered: r.Rcode != "",
	}
}

func writeStep(w io.Writer, s dnscheck.Step) {
	indent := strings.Repeat("  ", s.Depth)
	for _, r := range s.Records {
		fmt.Fprintln(w, indent+r.String())
	}
	host, port := splitServer(s.Server)
	from := fmt.Sprintf("%s#%s(%s)", host, port, orDefault(s.NS, host))
	switch s.Kind {
	case dnscheck.StepReferral, dnscheck.StepAnswer, dnscheck.StepCNAME, dnscheck.StepNoData, dnscheck.StepNXDomain:
		fmt.Fprintf(w, "%s;; Received %s for %s %s from %s in %d ms\n\n", indent, s.Kind, s.Name, s.Type, from, s.RTT.Milliseconds())
	default:
		fmt.Fprintf(w, "%s;; %s from %s for zone %s: %s\n\n", indent, s.Kind, from, s.Zone, s.Reason)
	}
}
