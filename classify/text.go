package classify

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people: the symptom, then each
// hypothesis with its score, explanation, evidence and next commands.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	switch {
	case r.Symptom == None:
		b.WriteString("symptom: none\n")
	case r.Derived:
		fmt.Fprintf(&b, "symptom: %s (from the probe)\n", r.Symptom)
	default:
		fmt.Fprintf(&b, "symptom: %s (given)\n", r.Symptom)
	}
	if len(r.Hypotheses) == 0 {
		b.WriteString("no hypothesis: nothing points at a problem\n")
	}
	for i, h := range r.Hypotheses {
		fmt.Fprintf(&b, "%d. %s  [%s, score %.2f]\n   %s\n", i+1, h.ID, h.Layer, h.Score, h.Summary)
		for _, e := range h.Evidence {
			fmt.Fprintf(&b, "   + %s %s: %s\n", e.Check, e.Code, e.Summary)
		}
		for _, e := range h.Against {
			fmt.Fprintf(&b, "   - %s %s: %s\n", e.Check, e.Code, e.Summary)
		}
		for _, c := range h.Next {
			fmt.Fprintf(&b, "   $ %s\n", c)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
