package health

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

// snapshot is one refresh, rendered once for every kind of answer.
type snapshot struct {
	view     Snapshot
	at       time.Time
	ready    bool
	lines    []line
	byName   map[string]*named
	verbose  []byte // [+]/[?]/[-] lines, names and states only
	detailed []byte // the same lines with reasons
	public   []byte // health+json, status only
	full     []byte // health+json with checks and the triage report
}

// line is one check in /readyz?verbose.
type line struct {
	name   string
	fail   bool
	plain  string // "[-]db failed\n"
	detail string // "[-]db failed: connection refused\n"
}

// named is the /readyz/<check> answer for the checks of one name.
type named struct {
	ready             bool
	verbose, detailed []byte
}

// verdict is how a status reads in every answer; see the table in the
// package documentation. fail says whether it fails readiness.
func verdict(st triage.Status, opts Options) (fail bool, mark, word, ietf string) {
	switch st {
	case triage.OK, triage.Warn, triage.Fail:
		fail = !opts.FailOn.Worse(st)
	default:
		st = triage.Unknown // also a status out of range
		fail = opts.FailUnknown
	}
	mark, word = "+", st.String()
	switch {
	case fail:
		mark = "-"
	case st == triage.Unknown:
		mark = "?"
	}
	if st == triage.Fail {
		word = "failed" // as Kubernetes writes it
	}
	switch {
	case fail:
		ietf = "fail"
	case st == triage.OK:
		ietf = "pass"
	default:
		ietf = "warn"
	}
	return fail, mark, word, ietf
}

func render(results []triage.Outcome, abandoned []Abandoned, opts Options) *snapshot {
	report := classifySafely(results, opts.Classify)
	s := &snapshot{at: opts.Now(), ready: true, byName: map[string]*named{}}
	s.view = Snapshot{Time: s.at, Results: results, Report: report, Abandoned: abandoned}
	doc := healthDoc{Checks: map[string][]checkDoc{}, Time: s.at.UTC().Format(time.RFC3339Nano)}
	at := s.at.UTC().Format(time.RFC3339)
	all := triage.OK
	for _, o := range results {
		r := o.Common()
		// A check named after its URL must not print its password.
		name := triage.Redact(r.Label())
		fail, mark, word, ietf := verdict(r.Status, opts)
		if fail {
			s.ready = false
		}
		all = triage.Worst(all, r.Status)
		reason := reasonOf(r)
		l := line{name: name, fail: fail, plain: "[" + mark + "]" + name + " " + word + "\n"}
		l.detail = l.plain
		if reason != "" && (fail || r.Status != triage.OK) {
			l.detail = l.plain[:len(l.plain)-1] + ": " + oneLine(reason) + "\n"
		}
		s.lines = append(s.lines, l)
		doc.Checks[name] = append(doc.Checks[name], checkDoc{
			Status: ietf, Output: reason, Time: at, ObservedValue: encode(o),
		})
	}
	s.view.Ready = s.ready
	s.verbose, s.detailed = s.body(nil, false), s.body(nil, true)
	for _, l := range s.lines {
		if s.byName[l.name] != nil {
			continue
		}
		n := &named{ready: true}
		var plain, detail strings.Builder
		for _, m := range s.lines {
			if m.name == l.name {
				n.ready = n.ready && !m.fail
				plain.WriteString(m.plain)
				detail.WriteString(m.detail)
			}
		}
		n.verbose = []byte(plain.String() + tail(n.ready))
		n.detailed = []byte(detail.String() + tail(n.ready))
		s.byName[l.name] = n
	}
	s.view.checks = make(map[string]bool, len(s.byName))
	for name, n := range s.byName {
		s.view.checks[name] = n.ready
	}

	switch {
	case !s.ready:
		doc.Status = "fail"
	case all == triage.OK:
		doc.Status = "pass"
	default:
		doc.Status = "warn"
	}
	s.public, _ = json.Marshal(struct {
		Status string `json:"status"`
	}{doc.Status})
	doc.Triage = &report
	s.full = marshalSafely(doc)
	return s
}

// body is /readyz?verbose, without the excluded names.
func (s *snapshot) body(exclude []string, details bool) []byte {
	var b strings.Builder
	for _, l := range s.lines {
		switch {
		case slices.Contains(exclude, l.name):
			b.WriteString("[+]" + l.name + " excluded: ok\n")
		case details:
			b.WriteString(l.detail)
		default:
			b.WriteString(l.plain)
		}
	}
	var missing []string
	for _, name := range exclude {
		if s.byName[name] == nil && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		b.WriteString(excludeWarn)
		for i, name := range missing {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(name))
		}
		b.WriteByte('\n')
	}
	ready := true
	for _, l := range s.lines {
		if l.fail && !slices.Contains(exclude, l.name) {
			ready = false
		}
	}
	b.WriteString(tail(ready))
	return []byte(b.String())
}

// excluding answers /readyz?exclude=...: whether the checks left are
// ready, and their verbose body.
func (s *snapshot) excluding(exclude []string, details bool) (bool, []byte) {
	ready := true
	for _, l := range s.lines {
		if l.fail && !slices.Contains(exclude, l.name) {
			ready = false
		}
	}
	return ready, s.body(exclude, details)
}

func tail(ready bool) string {
	if ready {
		return passTail
	}
	return failTail
}

// reasonOf is the one line that says why a result is not OK: the summary
// of its worst finding, or its error.
func reasonOf(r *triage.Result) (reason string) {
	defer func() {
		if v := recover(); v != nil {
			reason = fmt.Sprintf("health: the result's error text panicked: %v", v)
		}
	}()
	var worst *triage.Finding
	for i := range r.Findings {
		if worst == nil || r.Findings[i].Status.Worse(worst.Status) {
			worst = &r.Findings[i]
		}
	}
	switch {
	case worst != nil && worst.Status != triage.OK:
		return worst.Summary
	case r.Err != nil:
		return r.Err.Error()
	}
	return ""
}

// oneLine keeps a reason on its line of the verbose text.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// encode is a result's JSON, or, when it cannot be encoded, its common
// part with the reason.
func encode(o triage.Outcome) (b json.RawMessage) {
	defer func() {
		if v := recover(); v != nil {
			b = encodeCommon(o.Common(), fmt.Sprintf("health: encoding the result panicked: %v", v))
		}
	}()
	b, err := json.Marshal(o)
	if err != nil {
		return encodeCommon(o.Common(), "health: cannot encode the result: "+err.Error())
	}
	return b
}

// encodeCommon writes what a result certainly can: its names and status.
func encodeCommon(r *triage.Result, why string) json.RawMessage {
	b, _ := json.Marshal(struct {
		Check  string        `json:"check"`
		Name   string        `json:"name,omitempty"`
		Status triage.Status `json:"status"`
		Error  string        `json:"error"`
	}{r.Check, r.Name, r.Status, why})
	return b
}

func classifySafely(results []triage.Outcome, opts classify.Options) (rep classify.Report) {
	defer func() {
		if v := recover(); v != nil {
			rep = classify.Report{Symptom: classify.None, Hypotheses: []classify.Hypothesis{}}
		}
	}()
	return classify.Classify(results, opts)
}

func marshalSafely(doc healthDoc) (b []byte) {
	defer func() {
		if v := recover(); v != nil {
			doc.Triage = nil
			b, _ = json.Marshal(doc)
		}
	}()
	b, err := json.Marshal(doc)
	if err != nil {
		doc.Triage = nil
		b, _ = json.Marshal(doc)
	}
	return b
}

// renderPanic is the snapshot of a round whose rendering panicked
// nonetheless: every check Unknown, saying so, so that a stale answer is
// not served forever and the next round runs after the TTL as usual.
func (h *Handler) renderPanic(results []triage.Outcome, abandoned []Abandoned, v any) *snapshot {
	made := make([]triage.Outcome, len(results))
	for i, t := range h.checks {
		r := &triage.Result{Check: t.label, Name: t.label}
		r.Finish(fmt.Errorf("%w: health: rendering the round's results: %v", triage.ErrPanic, v))
		made[i] = r
	}
	return render(made, abandoned, h.opts)
}

// healthDoc is the application/health+json document.
type healthDoc struct {
	Status string                `json:"status"`
	Time   string                `json:"time"`
	Checks map[string][]checkDoc `json:"checks"`
	Triage *classify.Report      `json:"triage,omitempty"`
}

type checkDoc struct {
	Status        string          `json:"status"`
	Output        string          `json:"output,omitempty"`
	Time          string          `json:"time"`
	ObservedValue json.RawMessage `json:"observedValue"`
}
