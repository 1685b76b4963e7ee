// Command triage runs the backend incident routine against this host and
// the targets it is given, and prints what it found, step by step.
//
//	go run ./examples/triage                      # this host
//	go run ./examples/triage -process nginx -json # plus a process, as JSON
//
// Exit status:
//
//	0  healthy: nothing is wrong with the target, and every check could
//	   tell (trouble elsewhere on the host is listed, not blamed)
//	1  trouble: a cause was found; the first hypothesis has enough support
//	2  usage error
//	3  could not tell: a symptom was seen or given, or something about the
//	   target failed, but no hypothesis has enough support; or a check
//	   could not tell (no permission, the deadline, an unsupported
//	   platform)
//
// With -json it prints one object described by schema/report.schema.json
// at the root of the module; its "verdict" says the same as the exit
// status. -replay FILE reads such an object back and classifies its
// results again, without running a check: a recorded incident becomes a
// case to test the rules against.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/container"
)

// Exit statuses.
const (
	exitHealthy      = 0
	exitTrouble      = 1
	exitUsage        = 2
	exitCouldNotTell = 3
)

// verdicts, as the JSON document names the exit statuses.
var verdicts = map[int]string{exitHealthy: "healthy", exitTrouble: "trouble", exitCouldNotTell: "could not tell"}

// schemaVersion is the version of the -json document.
const schemaVersion = 2

// version is the command's version; the build can set it with
// -ldflags "-X main.version=v0.2.0". If empty, the module's version from
// the build information is printed.
var version = ""

// config holds the command line. Each check's file reads the flags it
// needs in its planner.
type config struct {
	url        string
	head       bool
	addr       string
	resolve    listFlag
	process    listFlag
	pid        intListFlag
	log        listFlag
	unit       listFlag
	journalDir string
	since      time.Duration
	dns        string
	dnsServer  listFlag
	resolvConf string
	hostsFile  string
	path       listFlag
	dep        listFlag
	symptom    string
	timeout    time.Duration
	json       bool
	verbose    bool
	replay     string
	redact     bool
	readOnly   bool
	slow       time.Duration
	noProxy    bool
	container  int
	netnsFlag  string

	// ctr holds -container's namespaces (or -netns's network namespace)
	// for the run, and held the files read inside it.
	ctr  *container.Container
	held []*os.File
	// netOnly says ctr is -netns's network namespace alone: files,
	// processes, disks and cgroups stay this host's.
	netOnly bool

	// trace follows the -url request into the logs: its traceparent is
	// sent with the request, and the log check waits for the request to
	// end, then looks for lines carrying the same trace id.
	trace *traceLink
}

// Routine steps, in the order the report follows.
const (
	stepSymptom = iota
	stepProcess
	stepLogs
	stepPorts
	stepDNSHTTP
	stepDisk
	stepDependencies
)

var stepTitles = [...]string{
	stepSymptom:      "0 symptom",
	stepProcess:      "1 process and resources",
	stepLogs:         "2 logs",
	stepPorts:        "3 ports and connections",
	stepDNSHTTP:      "4 DNS and HTTP",
	stepDisk:         "5 disk",
	stepDependencies: "6 dependencies",
}

// planned is a check and the routine step it belongs to. The findings of
// target checks (the probe of -url or -addr) decide the symptom; those of
// dependency probes do not.
type planned struct {
	step   int
	check  triage.Check
	target bool
}

// A planner turns the command line into checks. It returns a usage error
// for flags it cannot accept.
type planner func(c *config) ([]planned, error)

// planners make the checks, in the routine's order: resources and
// processes, logs, ports, the request and its dependencies, DNS, disk.
var planners = []planner{planHost, planLogs, planSockstat, planNet, planDNS, planCompare, planDisk}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("triage", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &config{}
	var showVersion bool
	fs.StringVar(&c.url, "url", "", "reproduce a request to `URL` like curl -v")
	fs.BoolVar(&c.head, "head", false, "send HEAD instead of GET, like curl -I")
	fs.StringVar(&c.addr, "addr", "", "connect to `HOST:PORT` over TCP (when there is no -url)")
	fs.Var(&c.resolve, "resolve", "pin `HOST:PORT:ADDR` like curl --resolve (repeatable)")
	fs.Var(&c.process, "process", "check processes called `NAME` (repeatable)")
	fs.Var(&c.pid, "pid", "check the process with `PID` (repeatable; the first one's cgroup limits judge the host step)")
	fs.Var(&c.log, "log", "scan the log file at `PATH` (repeatable)")
	fs.Var(&c.unit, "unit", "scan the journal of systemd `UNIT` (repeatable)")
	fs.StringVar(&c.journalDir, "journal-dir", "", "read the journal in `DIR` instead of this host's (under -container, a directory of the container's; -unit alone there reads its /var/log/journal and /run/log/journal)")
	fs.DurationVar(&c.since, "since", 10*time.Minute, "how far back logs are read")
	fs.StringVar(&c.dns, "dns", "", "resolve `NAME` (default: the -url host when it is a name)")
	fs.Var(&c.dnsServer, "dns-server", "also ask the DNS server at `ADDR:PORT` (repeatable)")
	fs.StringVar(&c.resolvConf, "resolv-conf", "", "resolve as an application using `FILE` would, such as /proc/PID/root/etc/resolv.conf: the DNS check, the request and -dep probes ask its nameservers (default /etc/resolv.conf)")
	fs.StringVar(&c.hostsFile, "hosts-file", "", "resolve as an application using the hosts file `FILE` would, such as /proc/PID/root/etc/hosts: the DNS check, the request and -dep probes read it first (default /etc/hosts)")
	fs.Var(&c.path, "path", "check the filesystem holding `DIR` (repeatable; default: all real filesystems)")
	fs.Var(&c.dep, "dep", "probe the dependency at `HOST:PORT`, an http(s) URL, or grpc://HOST:PORT[/SERVICE] for its gRPC health service (repeatable)")
	fs.StringVar(&c.symptom, "symptom", "", "the symptom already known: refused, timeout, 5xx, slow, tls or 4xx")
	fs.DurationVar(&c.slow, "slow", time.Second, "an answer that takes longer than `DURATION` is slow: the symptom slow, with the phase that took the time")
	fs.IntVar(&c.container, "container", 0, "run the routine inside the namespaces of the process `PID` (a container's): the request, -dep and DNS queries leave from its network namespace (127.0.0.1 is its loopback), its sockets are checked, its resolv.conf and hosts file (or -resolv-conf and -hosts-file, read inside it) are the application's view, -log, -path and -unit name its files, filesystems and units (read from its journal), and the host step judges its cgroup")
	fs.StringVar(&c.netnsFlag, "netns", "", "run the network steps inside the network namespace `NAME` (of ip netns, or a file such as /var/run/netns/cni-1234 or /proc/PID/ns/net): the request, -dep and DNS queries leave from it and its sockets are checked, while files, processes and disks stay this host's; /etc/netns/NAME/resolv.conf and hosts are the application's view where they exist, as in ip netns exec")
	fs.BoolVar(&c.noProxy, "no-proxy", false, "send the request and -dep probes direct, not through the HTTP_PROXY, HTTPS_PROXY and NO_PROXY of the first -pid's environment (or, without -pid, of this one's) as its HTTP clients would")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "bound the whole run")
	fs.BoolVar(&c.json, "json", false, "print one JSON object (schema/report.schema.json) instead of the report")
	fs.BoolVar(&c.verbose, "v", false, "also show what passed, with the numbers behind it")
	fs.BoolVar(&c.readOnly, "read-only", false, "run only the checks without side effects: no request, dependency or DNS probes, no writability probe, sockets from /proc/net instead of netlink (which may load a kernel module)")
	fs.BoolVar(&c.redact, "redact", false, "replace host names and addresses with stand-ins (hostN.example, 192.0.2.N), the same for the same one, for a report to paste into a ticket")
	fs.StringVar(&c.replay, "replay", "", "classify the results saved in `FILE` by -json again, running no check")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return exitHealthy
		}
		fmt.Fprintf(stderr, "triage: %v\nRun 'triage -h' for the flags.\n", err)
		return exitUsage
	}
	if showVersion {
		fmt.Fprintln(stdout, versionLine())
		return exitHealthy
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "triage: unexpected argument %q\nRun 'triage -h' for the flags.\n", fs.Arg(0))
		return exitUsage
	}
	if c.timeout <= 0 {
		fmt.Fprintln(stderr, "triage: -timeout must be positive")
		return exitUsage
	}
	if c.slow <= 0 {
		fmt.Fprintln(stderr, "triage: -slow must be positive")
		return exitUsage
	}
	symptom, err := classify.ParseSymptom(c.symptom)
	if err != nil {
		fmt.Fprintln(stderr, "triage: -symptom must be refused, timeout, 5xx, slow, tls or 4xx")
		return exitUsage
	}
	if c.replay != "" {
		return replay(c, symptom, fs, stdout, stderr)
	}

	if c.url != "" {
		c.trace = newTraceLink()
	}
	var plan []planned
	failed, err := c.openContainer()
	defer c.closeContainer()
	if err != nil {
		fmt.Fprintf(stderr, "triage: %v\n", err)
		return exitUsage
	}
	for _, p := range planners {
		if failed != nil {
			plan = append(plan, *failed)
			break
		}
		ps, err := p(c)
		if err != nil {
			fmt.Fprintf(stderr, "triage: %v\n", err)
			return exitUsage
		}
		plan = append(plan, ps...)
	}
	// A planner may add checks to more than one step (the request and
	// its dependencies); the report follows the routine's order.
	slices.SortStableFunc(plan, func(a, b planned) int { return a.step - b.step })
	checks := make([]triage.Check, len(plan))
	var targets []string
	for i, p := range plan {
		checks[i] = p.check
		if p.target {
			targets = append(targets, p.check.Name)
		}
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	stop := showProgress(stderr, checks)
	// The target's own dependencies, found from its connections while
	// the request runs, are probed beside the named ones.
	found := discover(ctx, c)
	results := triage.Runner{}.Run(ctx, checks...)
	foundPlan, foundResults := found.wait()
	plan, results = append(plan, foundPlan...), append(results, foundResults...)
	stop()
	elapsed := time.Since(start)
	// A check that refuses what the command line gave it (a name that is
	// no domain name, say) is a usage error like a bad flag, whichever
	// check found it.
	for _, o := range results {
		if r := o.Common(); errors.Is(r.Err, triage.ErrInvalid) {
			fmt.Fprintf(stderr, "triage: %s: %v\nRun 'triage -h' for the flags.\n", r.Label(), r.Err)
			return exitUsage
		}
	}
	in := input{Symptom: symptom, SymptomFrom: targets, Target: c.target(), ReadOnly: c.readOnly}
	if c.ctr != nil {
		in.Container = &inputContainer{PID: c.ctr.PID(), NetNS: c.ctr.NetNS()}
		if c.netOnly {
			in.Container.NetNSName = c.netnsFlag
		}
	}
	verdict := classify.Classify(results, in.options())
	insideCommands(in, &verdict, results)
	code := exitStatus(verdict, results)

	out, flush := redacting(c, stdout, results)
	defer flush()
	if c.json {
		if err := writeJSON(out, code, in, verdict, results, elapsed); err != nil {
			fmt.Fprintf(stderr, "triage: %v\n", err)
			return exitUsage
		}
	} else {
		writeReport(out, reportOptions{color: colorful(stdout), verbose: c.verbose, code: code, readOnly: c.readOnly, inside: in.inside()},
			plan, results, verdict, elapsed)
	}
	return code
}

// redacting returns where to write the report: stdout, or with -redact a
// buffer that flush writes to stdout with the names and addresses
// replaced.
func redacting(c *config, stdout io.Writer, results []triage.Outcome) (io.Writer, func()) {
	if !c.redact {
		return stdout, func() {}
	}
	var buf bytes.Buffer
	return &buf, func() { _, _ = stdout.Write(newRedactor(c, results).redact(buf.Bytes())) }
}

// exitStatus is trouble when the report names a cause; could not tell
// when it is inconclusive, or when short of that a check could not tell;
// healthy otherwise. A failure elsewhere on the host, which the report
// lists as background, does not make the target's verdict.
func exitStatus(verdict classify.Report, results []triage.Outcome) int {
	if _, ok := verdict.Cause(); ok {
		return exitTrouble
	}
	if verdict.Inconclusive || verdict.Symptom != classify.None {
		return exitCouldNotTell
	}
	for _, o := range results {
		if o.Common().Status == triage.Unknown {
			return exitCouldNotTell
		}
	}
	return exitHealthy
}

// input is what the command line asked the classifier: kept in the JSON
// report, so that -replay asks the same.
type input struct {
	// Symptom is the -symptom given; none if not given.
	Symptom classify.Symptom `json:"symptom"`
	// SymptomFrom names the checks that reproduce the request.
	SymptomFrom []string `json:"symptom_from"`
	// Target is what the flags name: the request, processes, paths and
	// logs, the name.
	Target triage.Target `json:"target"`
	// ReadOnly says that -read-only left out the checks with side
	// effects.
	ReadOnly bool `json:"read_only,omitempty"`
	// Container names the namespaces the checks ran in (-container).
	Container *inputContainer `json:"container,omitempty"`
}

// inside says which namespaces the checks ran in, for the report; empty
// for this host's.
func (in input) inside() string {
	switch {
	case in.Container == nil:
		return ""
	case in.Container.PID == 0:
		return fmt.Sprintf("inside the network namespace %s (net:[%d]): requests, DNS queries and sockets from it; files, processes and disks of this host",
			in.Container.NetNSName, in.Container.NetNS)
	}
	return fmt.Sprintf("inside the namespaces of pid %d (net:[%d]): requests, DNS queries and sockets from its network namespace, files from its root, limits from its cgroup",
		in.Container.PID, in.Container.NetNS)
}

// inputContainer is -container's process and its network namespace, or
// -netns's network namespace alone.
type inputContainer struct {
	PID   int    `json:"pid,omitempty"`
	NetNS uint64 `json:"netns"`
	// NetNSName is -netns as given.
	NetNSName string `json:"netns_name,omitempty"`
}

func (in input) options() classify.Options {
	return classify.Options{Symptom: in.Symptom, SymptomFrom: in.SymptomFrom, Target: in.Target}
}

// target is what the flags ask about: the -url or -addr service, the
// first -process, -pid and -unit, the -dns name, and the -path
// directories and -log files as its paths.
func (c *config) target() triage.Target {
	var t triage.Target
	for _, s := range []string{c.url, c.addr} {
		if s == "" {
			continue
		}
		if pt, err := triage.ParseTarget(s); err == nil {
			t = t.Merge(pt)
			break
		}
	}
	if len(c.process) > 0 {
		t.Process = c.process[0]
	}
	if len(c.pid) > 0 {
		t.PID = c.pid[0]
	}
	if len(c.unit) > 0 {
		t.Unit = c.unit[0]
	}
	if c.dns != "" {
		t.Name = strings.TrimSpace(c.dns)
	}
	for _, p := range append(append([]string(nil), c.path...), c.log...) {
		if !slices.Contains(t.Paths, p) {
			t.Paths = append(t.Paths, p)
		}
	}
	return t
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `usage: triage [flags]

Runs the incident routine: process and resources, logs, ports and
connections, DNS and HTTP, disk, dependencies. With no flags it checks
this host.

examples:
  triage
  triage -process nginx -pid 1234
  triage -url https://api.example.com/health -json
  triage -url https://api.example.com/ -resolve api.example.com:443:10.0.0.7
  triage -dns db.internal. -resolv-conf /proc/1234/root/etc/resolv.conf

exit status: 0 healthy, 1 trouble, 2 usage error, 3 could not tell

flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func versionLine() string {
	v := version
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		goVersion = bi.GoVersion
	}
	if v == "" {
		v = "(devel)"
	}
	return strings.TrimSpace("triage " + v + " " + goVersion)
}

// report is the JSON the command prints, as schema/report.schema.json
// describes it. Fields are added, never renamed; a change of meaning
// raises schemaVersion.
type report struct {
	SchemaVersion  int                   `json:"schema_version"`
	Verdict        string                `json:"verdict"`
	Symptom        classify.Symptom      `json:"symptom"`
	SymptomDerived bool                  `json:"symptom_derived"`
	SymptomGiven   classify.Symptom      `json:"symptom_given,omitempty"`
	Contradicted   bool                  `json:"symptom_contradicted,omitempty"`
	Hypotheses     []classify.Hypothesis `json:"hypotheses"`
	Inconclusive   bool                  `json:"inconclusive"`
	Close          *classify.Distinction `json:"close,omitempty"`
	Background     []classify.Hypothesis `json:"background"`
	RuledOut       []classify.Ref        `json:"ruled_out"`
	Input          input                 `json:"input"`
	Results        []triage.Outcome      `json:"results"`
	Elapsed        time.Duration         `json:"elapsed_ns"`
}

func writeJSON(w io.Writer, code int, in input, verdict classify.Report, results []triage.Outcome, elapsed time.Duration) error {
	r := report{
		SchemaVersion: schemaVersion, Verdict: verdicts[code],
		Symptom: verdict.Symptom, SymptomDerived: verdict.Derived,
		SymptomGiven: verdict.Given, Contradicted: verdict.Contradicted,
		Hypotheses: verdict.Hypotheses, Inconclusive: verdict.Inconclusive, Close: verdict.Close,
		Background: verdict.Background, RuledOut: verdict.RuledOut,
		Input: in, Results: results, Elapsed: elapsed,
	}
	if r.Input.SymptomFrom == nil {
		r.Input.SymptomFrom = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
