package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

// step is one exercise: setup breaks something and says which checks a
// person would run; want is the hypothesis that names what was broken.
type step struct {
	name  string
	title string
	want  classify.ID
	setup func(ctx context.Context, l *lab) (*fault, error)
}

var steps = []step{
	{name: "refused", title: "the server moves to another port", want: classify.RefusedNotListening, setup: setupRefused},
	{name: "dns", title: "a resolver hands out a stale address", want: classify.DNSMismatch, setup: setupDNS},
	{name: "disk", title: "the server's logs fill a small disk", want: classify.DiskFullWrites, setup: setupDisk},
}

// fault is what a step broke and how to look at it.
type fault struct {
	// broke says what was done, for people.
	broke string
	// before is the request that worked before the fault.
	before string
	checks []triage.Check
	// targets are the checks that reproduce the client's request: they
	// decide the symptom.
	targets []string
	// notes are further facts a person would look up by hand.
	notes []string
}

// skipError is a step that cannot run here, and why.
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

// outcome is one step's report. Fields are added, never renamed.
type outcome struct {
	Step       int                   `json:"step"`
	Name       string                `json:"name"`
	Title      string                `json:"title"`
	Want       classify.ID           `json:"want"`
	Skipped    string                `json:"skipped,omitempty"`
	Error      string                `json:"error,omitempty"`
	Broke      string                `json:"broke,omitempty"`
	Before     string                `json:"before,omitempty"`
	Notes      []string              `json:"notes,omitempty"`
	Symptom    classify.Symptom      `json:"symptom"`
	Top        classify.ID           `json:"top"`
	Match      bool                  `json:"match"`
	Hypotheses []classify.Hypothesis `json:"hypotheses"`
	Results    []triage.Record       `json:"results,omitempty"`
	Elapsed    time.Duration         `json:"elapsed_ns"`
}

// brokenHook, when set, runs after a step broke its server and before the
// checks run, with the step's directory. Tests use it to interrupt a step
// at its worst moment.
var brokenHook func(ctx context.Context, step int, dir string)

func main() {
	if os.Getenv(envServe) == "1" {
		os.Exit(serve())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.Int("step", 0, "run only step `N` (1 refused, 2 dns, 3 disk)")
	asJSON := fs.Bool("json", false, "print one JSON array instead of the report")
	timeout := fs.Duration("timeout", 30*time.Second, "bound each step, setup and checks included")
	top := fs.Int("top", 3, "show the best `N` hypotheses of each step")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: drill [flags]

Starts a small server on loopback, breaks it in the ways the routine's
exercises describe, and runs the checks and the classifier on each fault:
  1 refused  the server moves to another port
  2 dns      a resolver hands out a stale address
  3 disk     the server's logs fill a 1 MiB tmpfs (needs root)

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "drill: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *only < 0 || *only > len(steps):
		fmt.Fprintf(stderr, "drill: -step must be between 1 and %d\n", len(steps))
		return 2
	case *timeout <= 0:
		fmt.Fprintln(stderr, "drill: -timeout must be positive")
		return 2
	case *top < 1:
		fmt.Fprintln(stderr, "drill: -top must be at least 1")
		return 2
	}

	for _, d := range sweep("") {
		fmt.Fprintf(stderr, "drill: removed %s, left by a drill that did not clean up\n", d)
	}
	var outs []outcome
	code := 0
	for i, st := range steps {
		n := i + 1
		if *only != 0 && n != *only {
			continue
		}
		o := runStep(ctx, n, st, *timeout)
		if len(o.Hypotheses) > *top {
			o.Hypotheses = o.Hypotheses[:*top]
		}
		if o.Skipped == "" && !o.Match {
			code = 1
		}
		if !*asJSON {
			writeOutcome(stdout, o)
		}
		outs = append(outs, o)
		if ctx.Err() != nil {
			break
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(outs); err != nil {
			fmt.Fprintf(stderr, "drill: %v\n", err)
			return 1
		}
	} else {
		writeSummary(stdout, outs)
	}
	return code
}

// runStep sets up one fault in a lab of its own, runs its checks through
// the runner, classifies them and tears the lab down.
func runStep(parent context.Context, n int, st step, timeout time.Duration) (o outcome) {
	start := time.Now()
	o = outcome{Step: n, Name: st.name, Title: st.title, Want: st.want, Hypotheses: []classify.Hypothesis{}}
	defer func() { o.Elapsed = time.Since(start) }()
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	l, err := newLab("")
	if err != nil {
		o.Error = fmt.Sprintf("no temporary directory: %v", err)
		return o
	}
	defer func() {
		if err := l.close(); err != nil && o.Error == "" {
			o.Error = fmt.Sprintf("cleaning up: %v", err)
			o.Match = false
		}
	}()

	f, err := st.setup(ctx, l)
	var skip skipError
	switch {
	case errors.As(err, &skip):
		o.Skipped = skip.reason
		return o
	case err != nil:
		o.Error = "setting up: " + interrupted(parent, ctx, err).Error()
		return o
	}
	o.Broke, o.Before, o.Notes = f.broke, f.before, f.notes
	if brokenHook != nil {
		brokenHook(ctx, n, l.dir)
	}

	results := triage.Runner{}.Run(ctx, f.checks...)
	rep := classify.Classify(results, classify.Options{SymptomFrom: f.targets})
	o.Symptom, o.Hypotheses = rep.Symptom, rep.Hypotheses
	if o.Hypotheses == nil {
		o.Hypotheses = []classify.Hypothesis{}
	}
	for _, r := range results {
		o.Results = append(o.Results, triage.Record{Result: *r.Common()})
	}
	if h, ok := rep.Top(); ok {
		o.Top = h.ID
	}
	if err := ctx.Err(); err != nil {
		o.Error = interrupted(parent, ctx, err).Error()
		return o
	}
	o.Match = o.Top == st.want
	return o
}

// interrupted names why ctx ended: Ctrl-C, or the step's -timeout.
func interrupted(parent, ctx context.Context, err error) error {
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("interrupted: %w", err)
	case ctx.Err() != nil:
		return fmt.Errorf("the step ran out of time (-timeout): %w", err)
	}
	return err
}

// writeOutcome prints one step for people: what was broken, what the
// checks concluded and the commands that confirm it.
func writeOutcome(w io.Writer, o outcome) {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d %s: %s\n", o.Step, o.Name, o.Title)
	if o.Skipped != "" {
		fmt.Fprintf(&b, "  skipped: %s\n\n", o.Skipped)
		_, _ = io.WriteString(w, b.String())
		return
	}
	if o.Before != "" {
		fmt.Fprintf(&b, "  before: %s\n", o.Before)
	}
	if o.Broke != "" {
		fmt.Fprintf(&b, "  broke:  %s\n", o.Broke)
	}
	cited := map[string]bool{}
	for _, h := range o.Hypotheses {
		for _, e := range h.Evidence {
			cited[e.Check+"\x00"+e.Summary] = true
		}
	}
	for _, r := range o.Results {
		fmt.Fprintf(&b, "  check:  %-4s %s (%s)\n", r.Status, r.Check, r.Duration.Round(time.Millisecond))
		for _, f := range r.Findings {
			// What the hypotheses below do not already say.
			if f.Status != triage.OK && !cited[r.Check+"\x00"+f.Summary] {
				fmt.Fprintf(&b, "          %s %s\n", f.Status, f.Summary)
			}
		}
	}
	if o.Results != nil {
		rep := classify.Report{Symptom: o.Symptom, Derived: true, Hypotheses: o.Hypotheses}
		var text strings.Builder
		_ = rep.WriteText(&text)
		for _, line := range strings.Split(strings.TrimRight(text.String(), "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	for _, n := range o.Notes {
		fmt.Fprintf(&b, "  also:   %s\n", n)
	}
	switch {
	case o.Error != "":
		fmt.Fprintf(&b, "  FAILED: %s\n", o.Error)
	case o.Match:
		fmt.Fprintf(&b, "  verdict: diagnosed: %s is what was broken (%s)\n", o.Top, o.Elapsed.Round(time.Millisecond))
	default:
		fmt.Fprintf(&b, "  verdict: MISSED: wanted %s, the top hypothesis is %s\n", o.Want, orNone(string(o.Top)))
	}
	b.WriteString("\n")
	_, _ = io.WriteString(w, b.String())
}

func writeSummary(w io.Writer, outs []outcome) {
	var ran, ok, skipped int
	for _, o := range outs {
		switch {
		case o.Skipped != "":
			skipped++
		case o.Match:
			ran++
			ok++
		default:
			ran++
		}
	}
	fmt.Fprintf(w, "%d of %d steps diagnosed", ok, ran)
	if skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", skipped)
	}
	fmt.Fprintln(w)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
