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
	// readOnly says that the checks with side effects did not run.
	readOnly bool
	// inside says which namespaces the checks ran in (-container,
	// -netns); empty for this host's.
	inside string
}

// writeReport prints the results in the routine's order, then the
// hypotheses, then what the exit status says. Lines stay short enough for
// a narrow terminal: long summaries wrap under their own indentation.
func writeReport(w io.Writer, o reportOptions, plan []planned, results []triage.Outcome, verdict classify.Report, elapsed time.Duration) {
	color := o.color
	var b strings.Builder
	switch {
	case verdict.Contradicted && verdict.Derived:
		fmt.Fprintf(&b, "0 symptom: %s (from the probe; %s was given, but the probe saw %s)\n", verdict.Symptom, verdict.Given, verdict.Symptom)
	case verdict.Contradicted:
		fmt.Fprintf(&b, "0 symptom: %s (given; the probe got a good answer now)\n", verdict.Symptom)
	case verdict.Symptom == classify.None:
		b.WriteString("0 symptom: none seen\n")
	case verdict.Derived:
		fmt.Fprintf(&b, "0 symptom: %s (from the probe)\n", verdict.Symptom)
	default:
		fmt.Fprintf(&b, "0 symptom: %s (given)\n", verdict.Symptom)
	}
	if o.inside != "" {
		wrap(&b, "", o.inside)
	}
	if o.readOnly {
		wrap(&b, "", "read-only: no request, dependency or DNS probe ran, no writability probe; sockets were read from /proc/net")
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
	writeVerdict(&b, color, o.code, verdict)
	fmt.Fprintf(&b, "done in %s: %s (exit %d)\n", elapsed.Round(time.Millisecond), verdicts[o.code], o.code)
	_, _ = io.WriteString(w, b.String())
}

// writeVerdict prints what is known apart from what is guessed: the
// causes, ranked, or why there is none; the close call, if any; what else
// is wrong on the host but not blamed; and what was checked and is fine.
func writeVerdict(b *strings.Builder, color bool, code int, verdict classify.Report) {
	b.WriteString("causes\n")
	switch {
	case len(verdict.Hypotheses) == 0 && code == exitCouldNotTell && verdict.Inconclusive:
		b.WriteString("  inconclusive: something is wrong, but no known cause fits what the checks saw\n")
	case len(verdict.Hypotheses) == 0 && code == exitCouldNotTell:
		b.WriteString("  none found, but some checks could not tell\n")
	case len(verdict.Hypotheses) == 0:
		b.WriteString("  none: nothing points at a problem of the target\n")
	case verdict.Inconclusive:
		top := verdict.Hypotheses[0]
		wrap(b, "  ", fmt.Sprintf("inconclusive: no candidate has enough support (the best scores %.2f, below %.2f); they are guesses to check, not answers", top.Score, classify.Possible))
	}
	for i, h := range verdict.Hypotheses {
		fmt.Fprintf(b, "  %d. %s [%s, %.2f %s]\n", i+1, h.ID, h.Layer, h.Score, h.Confidence())
		wrap(b, "     ", h.Summary)
		for _, e := range h.Evidence {
			wrap(b, "     ", "+ "+e.Summary)
		}
		for _, e := range h.Against {
			wrap(b, "     ", "- "+e.Summary)
		}
		for _, c := range h.Next {
			wrap(b, "     ", "$ "+c)
		}
	}
	if c := verdict.Close; c != nil {
		text := fmt.Sprintf("%s and %s are too close to call", c.First, c.Second)
		if c.Command != "" {
			text += "; this tells them apart: " + c.Command
		}
		wrap(b, "  ", text)
	}
	if len(verdict.Background) > 0 {
		b.WriteString("also wrong on this host (not about the target, not blamed)\n")
		for _, h := range verdict.Background {
			wrap(b, "  ", paint(color, triage.Warn, "- ")+string(h.ID)+": "+h.Summary)
		}
	}
	if len(verdict.RuledOut) > 0 {
		b.WriteString("checked and fine\n")
		for _, r := range verdict.RuledOut {
			wrap(b, "  ", paint(color, triage.OK, "+ ")+r.Summary)
		}
	}
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
