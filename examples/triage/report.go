package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/diskcheck"
)

// colorful reports whether w is a terminal that may get colour: never
// with NO_COLOR set (https://no-color.org) or TERM=dumb.
func colorful(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

var statusColor = map[triage.Status]string{
	triage.OK:      "\x1b[32m",
	triage.Warn:    "\x1b[33m",
	triage.Fail:    "\x1b[31;1m",
	triage.Unknown: "\x1b[35m",
}

func paint(color bool, s triage.Status, text string) string {
	if !color {
		return text
	}
	return statusColor[s] + text + "\x1b[0m"
}

// reportOptions says how to print the report.
type reportOptions struct {
	color   bool // paint statuses for a terminal
	verbose bool // show passing findings and the numbers behind them
	code    int  // the exit status, which the last lines put in words
}

// writeReport prints the results in the routine's order, then the
// hypotheses, then what the exit status says. Lines stay short enough for
// a narrow terminal: long summaries wrap under their own indentation.
func writeReport(w io.Writer, o reportOptions, plan []planned, results []triage.Outcome, verdict classify.Report, elapsed time.Duration) {
	color := o.color
	var b strings.Builder
	switch {
	case verdict.Symptom == classify.None:
		b.WriteString("0 symptom: none seen\n")
	case verdict.Derived:
		fmt.Fprintf(&b, "0 symptom: %s (from the probe)\n", verdict.Symptom)
	default:
		fmt.Fprintf(&b, "0 symptom: %s (given)\n", verdict.Symptom)
	}
	for step, title := range stepTitles {
		if step == stepSymptom {
			continue
		}
		var lines strings.Builder
		for i, p := range plan {
			if p.step != step {
				continue
			}
			r := results[i].Common()
			title := r.Check
			if t := r.Target.String(); t != "" {
				title += " " + t
			}
			fmt.Fprintf(&lines, "  %s %s (%s)\n", paint(color, r.Status, fmt.Sprintf("%-7s", r.Status)), title, r.Duration.Round(time.Millisecond))
			if r.Err != nil {
				wrap(&lines, "          ", "could not tell: "+r.Err.Error())
			}
			for _, line := range details(results[i]) {
				wrap(&lines, "          ", line)
			}
			if o.verbose {
				for _, line := range facts(results[i]) {
					wrap(&lines, "          ", line)
				}
			}
			for _, f := range r.Findings {
				if f.Status == triage.OK && !o.verbose {
					continue
				}
				wrap(&lines, "          ", paint(color, f.Status, f.Status.String())+" "+f.Summary)
				if f.Command != "" {
					wrap(&lines, "            ", "$ "+f.Command)
				}
			}
		}
		if lines.Len() > 0 {
			fmt.Fprintf(&b, "%s\n%s", title, lines.String())
		}
	}
	b.WriteString("hypotheses\n")
	if len(verdict.Hypotheses) == 0 {
		switch o.code {
		case exitTrouble:
			b.WriteString("  none fits: something failed, but no known cause matches it\n")
		case exitCouldNotTell:
			b.WriteString("  none: nothing failed, but some checks could not tell\n")
		default:
			b.WriteString("  none: nothing points at a problem\n")
		}
	}
	for i, h := range verdict.Hypotheses {
		fmt.Fprintf(&b, "  %d. %s [%s, %.2f]\n", i+1, h.ID, h.Layer, h.Score)
		wrap(&b, "     ", h.Summary)
		for _, e := range h.Evidence {
			wrap(&b, "     ", "+ "+e.Summary)
		}
		for _, e := range h.Against {
			wrap(&b, "     ", "- "+e.Summary)
		}
		for _, c := range h.Next {
			wrap(&b, "     ", "$ "+c)
		}
	}
	fmt.Fprintf(&b, "done in %s: %s (exit %d)\n", elapsed.Round(time.Millisecond), verdicts[o.code], o.code)
	_, _ = io.WriteString(w, b.String())
}

const width = 78

// wrap writes text indented, breaking at spaces so lines fit in width.
func wrap(b *strings.Builder, indent, text string) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent + "  "
		}
		if len(line) > len(indent) && !strings.HasSuffix(line, "  ") {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
}

// details are the typed facts worth a line of their own in the report:
// what du would list.
func details(o triage.Outcome) []string {
	var out []string
	switch r := o.(type) {
	case *diskcheck.UsageResult:
		out = append(out, fmt.Sprintf("%s under %s (%d files)", size(r.Bytes), r.Path, r.Files))
		for _, c := range r.Consumers {
			out = append(out, fmt.Sprintf("%8s  %s", size(c.Bytes), c.Path))
		}
	}
	return out
}

// size formats bytes like du -h.
func size(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%c", float64(n)/float64(div), "KMGTPE"[exp])
}
