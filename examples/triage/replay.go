package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/host"
	"github.com/triagekit/triage/internal/procfs"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/process"
	"github.com/triagekit/triage/sockstat"
)

// maxReplay bounds the report -replay reads: a run's report is a few
// hundred kilobytes at most.
const maxReplay = 64 << 20

// recorded is the part of a -json report that -replay reads back.
type recorded struct {
	SchemaVersion int             `json:"schema_version"`
	Input         *input          `json:"input"`
	Symptom       string          `json:"symptom"`
	Derived       bool            `json:"symptom_derived"`
	Results       []triage.Record `json:"results"`
	Elapsed       time.Duration   `json:"elapsed_ns"`
}

// replay classifies the results of a saved report again, with what the
// command line asked then; -symptom, when given now, replaces the symptom
// given then. No check runs.
func replay(c *config, symptom classify.Symptom, fs *flag.FlagSet, stdout, stderr io.Writer) int {
	var other []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "replay", "json", "v", "symptom", "timeout", "redact", "read-only":
		default:
			other = append(other, "-"+f.Name)
		}
	})
	if len(other) > 0 {
		fmt.Fprintf(stderr, "triage: -replay runs no check: %s cannot apply\n", strings.Join(other, ", "))
		return exitUsage
	}
	rec, err := readRecorded(c.replay)
	if err != nil {
		fmt.Fprintf(stderr, "triage: -replay: %v\n", err)
		return exitUsage
	}
	in := *rec.Input
	if symptom != classify.None {
		in.Symptom = symptom
	}
	results := make([]triage.Outcome, len(rec.Results))
	plan := make([]planned, len(rec.Results))
	for i := range rec.Results {
		results[i] = &rec.Results[i]
		plan[i] = planned{step: stepOf(&rec.Results[i].Result, in.SymptomFrom), check: triage.Check{Name: rec.Results[i].Name}}
	}
	verdict := classify.Classify(results, in.options())
	insideCommands(in, &verdict, results)
	code := exitStatus(verdict, results)
	out, flush := redacting(c, stdout, results)
	defer flush()
	if c.json {
		if err := writeJSON(out, code, in, verdict, results, rec.Elapsed); err != nil {
			fmt.Fprintf(stderr, "triage: %v\n", err)
			return exitUsage
		}
		return code
	}
	fmt.Fprintf(out, "replay of %s: no check ran\n", c.replay)
	writeReport(out, reportOptions{color: colorful(stdout), verbose: c.verbose, code: code, inside: in.inside()}, plan, results, verdict, rec.Elapsed)
	return code
}

// readRecorded reads a -json report, refusing what is not one.
func readRecorded(path string) (recorded, error) {
	var rec recorded
	// Opened without blocking (a FIFO would wait for a writer), regular
	// files only, and bounded.
	b, err := procfs.ReadFileMax(path, maxReplay)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("%s is not a triage -json report: %w", path, err)
	}
	switch {
	case rec.SchemaVersion != schemaVersion:
		return rec, fmt.Errorf("%s has schema_version %d; this triage reads %d", path, rec.SchemaVersion, schemaVersion)
	case rec.Input == nil:
		// Reports written before the input was recorded: what was given
		// is the symptom unless it was derived.
		in := input{SymptomFrom: []string{requestName}}
		if !rec.Derived {
			s, err := classify.ParseSymptom(rec.Symptom)
			if err != nil {
				return rec, fmt.Errorf("%s: %w", path, err)
			}
			in.Symptom = s
		}
		rec.Input = &in
	}
	if _, err := classify.ParseSymptom(string(rec.Input.Symptom)); err != nil {
		return rec, fmt.Errorf("%s: %w", path, err)
	}
	for i, r := range rec.Results {
		if r.Check == "" {
			return rec, errors.New(path + ": a result without a check kind")
		}
		if r.Findings == nil {
			rec.Results[i].Findings = []triage.Finding{}
		}
	}
	return rec, nil
}

// stepOf puts a recorded result in the routine's step, as the planners do.
func stepOf(r *triage.Result, from []string) int {
	switch r.Check {
	case host.KindCheck, process.KindCheck:
		return stepProcess
	case logscan.KindCheck:
		return stepLogs
	case sockstat.KindCheck:
		return stepPorts
	case dnscheck.KindCheck, dnscheck.KindTrace:
		return stepDNSHTTP
	case diskcheck.KindCheck, diskcheck.KindUsage:
		return stepDisk
	case probe.KindTCP, probe.KindHTTP:
		for _, n := range from {
			if n == r.Label() {
				return stepDNSHTTP
			}
		}
	}
	return stepDependencies
}
