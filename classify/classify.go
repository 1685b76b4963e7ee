package classify

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/sockstat"
)

// Symptom is what the client sees.
type Symptom string

// The symptoms of the routine. None means no symptom is known or derived;
// it is written "none", in JSON and in metric labels alike. An empty
// Symptom in [Options] means the same.
const (
	None      Symptom = "none"
	Refused   Symptom = "refused"
	Timeout   Symptom = "timeout"
	Status5xx Symptom = "5xx"
)

// ParseSymptom accepts "refused", "timeout", "5xx", and "none" or "" for
// none.
func ParseSymptom(s string) (Symptom, error) {
	switch Symptom(s) {
	case "", None:
		return None, nil
	case Refused, Timeout, Status5xx:
		return Symptom(s), nil
	}
	return None, fmt.Errorf("%w: symptom %q is not refused, timeout, 5xx or none", triage.ErrInvalid, s)
}

// ID is a stable hypothesis id, such as "refused.not_listening". The ids
// of the default rules are constants of this package; they are API: new
// ones are added, none is renamed.
type ID string

// Layer is where a hypothesis points.
type Layer string

// The layers of the routine.
const (
	LayerProcess    Layer = "process"
	LayerLogs       Layer = "logs"
	LayerNetwork    Layer = "network"
	LayerDNS        Layer = "dns"
	LayerDependency Layer = "dependency"
	LayerDisk       Layer = "disk"
	LayerResources  Layer = "resources"
)

// Sign is one kind of finding that speaks for or against a hypothesis.
type Sign struct {
	// Code is the finding code.
	Code triage.Code
	// Weight is how strongly the finding speaks, from 0 to 1.
	Weight float64
	// When, if not nil, must accept the finding for it to count, such as
	// an HTTP 5xx finding whose status is 502.
	When func(triage.Finding) bool
	// OK makes a finding whose status is OK count as support, for signs
	// that are healthy on their own but telling under a symptom (a
	// listener present while connections are refused). Otherwise OK
	// findings support nothing; against a hypothesis they always count.
	OK bool
}

// Rule turns findings into one hypothesis.
type Rule struct {
	// ID is the stable hypothesis id, such as "refused.not_listening".
	ID ID
	// Symptoms the rule applies to. Empty means any symptom, including
	// none: the finding is a problem on its own (a full disk).
	Symptoms []Symptom
	// Layer is where the hypothesis points.
	Layer Layer
	// Title is the explanation without the measured values: "nothing
	// listens on the target port".
	Title string
	// Weight scales the score: how likely this cause is when all its
	// support is present, from 0 to 1.
	Weight float64
	// Support raises the hypothesis; at least one must be present.
	Support []Sign
	// Against lowers its score.
	Against []Sign
	// Explains lists hypothesis ids this one explains away when raised:
	// their scores are lowered.
	Explains []ID
	// Next are commands that confirm the hypothesis. A placeholder such
	// as {port} is filled from the supporting findings' evidence under
	// that key; the shared facts {host}, {port}, {addr}, {url}, {name},
	// {process}, {pid}, {path}, {cgroup} and {unit} (the keys triage.Key*)
	// also from the targets of their results, then from the request's
	// target. A fact that none of them knows is written as <port>, so
	// that the command still shows what to run.
	Next []string
}

// Options tunes [Classify].
type Options struct {
	// Symptom is the symptom the caller already knows. If None, it is
	// derived from the TCP and HTTP probe results.
	Symptom Symptom
	// Rules are added to the default rules; a rule with the ID of a
	// default rule replaces it. A rule without an ID, or one whose weights
	// make its score infinite, is left out.
	Rules []Rule
	// Weights overrides rule weights by hypothesis id. A weight that is
	// negative or not finite is ignored.
	Weights map[ID]float64
	// NoDefaults leaves the default rules out, so that only Rules apply.
	NoDefaults bool
	// SymptomFrom names the checks whose findings decide the symptom and
	// whose targets are the request's target, such as the probe of the URL
	// users call; a check is named by its label (triage.Result.Label). If
	// empty, every TCP and HTTP probe does, dependency probes included.
	SymptomFrom []string
}

// Ref names a finding in a hypothesis.
type Ref struct {
	// Check is the kind of check that made the finding; Name the caller's
	// name for that check, if any.
	Check   string        `json:"check"`
	Name    string        `json:"name,omitempty"`
	Code    triage.Code   `json:"code"`
	Status  triage.Status `json:"status"`
	Summary string        `json:"summary"`
}

// Hypothesis is one candidate cause.
type Hypothesis struct {
	ID ID `json:"id"`
	// Symptom is the symptom the hypothesis explains; None for a rule
	// that needs no symptom (a full disk).
	Symptom  Symptom  `json:"symptom"`
	Layer    Layer    `json:"layer"`
	Score    float64  `json:"score"`
	Summary  string   `json:"summary"`
	Evidence []Ref    `json:"evidence"`
	Against  []Ref    `json:"against"`
	Next     []string `json:"next"`
}

// Report is what [Classify] concludes.
type Report struct {
	// Symptom is the given or derived symptom.
	Symptom Symptom `json:"symptom"`
	// Derived is true when the symptom came from the probe results rather
	// than from the caller.
	Derived bool `json:"symptom_derived"`
	// Hypotheses are ranked best first; empty when nothing points at a
	// problem.
	Hypotheses []Hypothesis `json:"hypotheses"`
}

// Top returns the best hypothesis, if any.
func (r Report) Top() (Hypothesis, bool) {
	if len(r.Hypotheses) == 0 {
		return Hypothesis{}, false
	}
	return r.Hypotheses[0], true
}

// Find returns the hypothesis with the given id, if raised.
func (r Report) Find(id ID) (Hypothesis, bool) {
	for _, h := range r.Hypotheses {
		if h.ID == id {
			return h, true
		}
	}
	return Hypothesis{}, false
}

const (
	minScore        = 0.1
	explainStrength = 0.7
	unrelatedFactor = 0.8
)

// observed is a finding with the result it came from.
type observed struct {
	r *triage.Result
	f triage.Finding
}

// Classify ranks the hypotheses the results support. It does no I/O and
// reads only the common part of each result, so that results read back
// from JSON ([triage.Record]) classify as the typed ones did.
func Classify(results []triage.Outcome, opts Options) Report {
	var obs []observed
	for _, o := range results {
		r := common(o)
		if r == nil {
			continue
		}
		for _, f := range r.Findings {
			obs = append(obs, observed{r, f})
		}
	}

	rep := Report{Symptom: opts.Symptom, Hypotheses: []Hypothesis{}}
	if rep.Symptom == "" {
		rep.Symptom = None
	}
	if rep.Symptom == None {
		rep.Symptom = derive(obs, opts.SymptomFrom)
		rep.Derived = rep.Symptom != None
	}
	target := requestTarget(obs, opts.SymptomFrom)
	obs = aboutTarget(obs, opts.SymptomFrom)

	rules := ruleSet(opts)
	type raised struct {
		rule int
		h    Hypothesis
	}
	var hs []raised
	for i, rule := range rules {
		if !applies(rule, rep.Symptom) {
			continue
		}
		h, ok := evaluate(rule, obs, rep.Symptom, target)
		if !ok {
			continue
		}
		if w, ok := opts.Weights[rule.ID]; ok && rule.Weight > 0 && finite(w) && w >= 0 {
			h.Score *= w / rule.Weight
		}
		hs = append(hs, raised{i, h})
	}

	// A raised hypothesis lowers those it explains away, the more the
	// surer it is itself.
	factor := map[ID]float64{}
	for _, r := range hs {
		for _, id := range rules[r.rule].Explains {
			if id != r.h.ID {
				f, ok := factor[id]
				if !ok {
					f = 1
				}
				factor[id] = f * (1 - explainStrength*clamp(r.h.Score))
			}
		}
	}
	for i := range hs {
		if f, ok := factor[hs[i].h.ID]; ok {
			hs[i].h.Score *= f
		}
	}

	for _, r := range hs {
		r.h.Score = math.Round(r.h.Score*1000) / 1000
		// A caller's rule with an infinite weight would outrank every
		// other and make the report impossible to encode.
		if r.h.Score >= minScore && finite(r.h.Score) {
			rep.Hypotheses = append(rep.Hypotheses, r.h)
		}
	}
	order := map[ID]int{}
	for _, r := range hs {
		order[r.h.ID] = r.rule
	}
	slices.SortStableFunc(rep.Hypotheses, func(a, b Hypothesis) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(order[a.ID], order[b.ID])
	})
	return rep
}

// common returns the shared part of a result, or nil for a nil outcome,
// including a typed nil such as a (*probe.TCPResult)(nil), whose promoted
// Common method would dereference it.
func common(o triage.Outcome) *triage.Result {
	if o == nil {
		return nil
	}
	if v := reflect.ValueOf(o); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return o.Common()
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func ruleSet(opts Options) []Rule {
	var rules []Rule
	if !opts.NoDefaults {
		rules = DefaultRules()
	}
	for _, r := range opts.Rules {
		if r.ID == "" {
			continue
		}
		if i := slices.IndexFunc(rules, func(d Rule) bool { return d.ID == r.ID }); i >= 0 {
			rules[i] = r
			continue
		}
		rules = append(rules, r)
	}
	return rules
}

func applies(r Rule, s Symptom) bool {
	return len(r.Symptoms) == 0 || slices.Contains(r.Symptoms, s)
}

// statusFactor says how much a finding of status s counts: fully when
// failing, less when a warning or when the check could not tell. An OK
// finding counts fully against a hypothesis, and for one only when its
// sign says so.
func statusFactor(s triage.Status, sign Sign, support bool) float64 {
	switch s {
	case triage.Fail:
		return 1
	case triage.OK:
		if !support || sign.OK {
			return 1
		}
		return 0
	case triage.Warn:
		return 0.7
	}
	return 0.3
}

func matches(s Sign, o observed) bool {
	return o.f.Code == s.Code && (s.When == nil || s.When(o.f))
}

func evaluate(rule Rule, obs []observed, symptom Symptom, target triage.Target) (Hypothesis, bool) {
	h := Hypothesis{ID: rule.ID, Symptom: None, Layer: rule.Layer, Evidence: []Ref{}, Against: []Ref{}, Next: []string{}}
	if len(rule.Symptoms) > 0 {
		h.Symptom = symptom
	}
	miss := 1.0
	var support []observed
	for _, s := range rule.Support {
		for _, o := range obs {
			if matches(s, o) && statusFactor(o.f.Status, s, true) > 0 {
				miss *= 1 - clamp(s.Weight*statusFactor(o.f.Status, s, true))
				support = append(support, o)
				h.Evidence = append(h.Evidence, ref(o))
			}
		}
	}
	if len(support) == 0 {
		return h, false
	}
	score := rule.Weight * (1 - miss)
	for _, s := range rule.Against {
		for _, o := range obs {
			if matches(s, o) {
				score *= 1 - clamp(s.Weight*statusFactor(o.f.Status, s, false))/2
				h.Against = append(h.Against, ref(o))
			}
		}
	}
	if len(rule.Symptoms) == 0 && symptom != None {
		score *= unrelatedFactor
	}
	h.Score = score

	// The strongest supporting finding tells the measured values.
	best := support[0]
	for _, o := range support[1:] {
		if o.f.Status.Worse(best.f.Status) {
			best = o
		}
	}
	h.Summary = rule.Title
	if best.f.Summary != "" {
		h.Summary += ": " + best.f.Summary
	}
	if n := len(support) - 1; n > 0 {
		h.Summary += fmt.Sprintf(" (and %d more)", n)
	}
	h.Next = nextCommands(rule, support, target)
	return h, true
}

func clamp(w float64) float64 { return max(0, min(1, w)) }

func ref(o observed) Ref {
	return Ref{Check: o.r.Check, Name: o.r.Name, Code: o.f.Code, Status: o.f.Status, Summary: o.f.Summary}
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// targetFacts returns the placeholder values a target knows.
func targetFacts(t triage.Target) map[string]string {
	facts := map[string]string{
		triage.KeyHost: t.Host, triage.KeyURL: t.URL, triage.KeyName: t.Name, triage.KeyProcess: t.Process,
		triage.KeyCgroup: t.Cgroup, triage.KeyUnit: t.Unit,
	}
	if t.Port != 0 {
		facts[triage.KeyPort] = strconv.Itoa(t.Port)
	}
	if t.Addr.IsValid() {
		facts[triage.KeyAddr] = t.Addr.Addr().String()
	}
	if t.PID != 0 {
		facts[triage.KeyPID] = strconv.Itoa(t.PID)
	}
	if len(t.Paths) > 0 {
		facts[triage.KeyPath] = t.Paths[0]
	}
	return facts
}

// nextCommands fills the rule's command templates, then adds the
// supporting findings' own commands, without duplicates.
func nextCommands(rule Rule, support []observed, target triage.Target) []string {
	facts := map[string]string{}
	learn := func(k, v string) {
		if _, seen := facts[k]; !seen && v != "" {
			facts[k] = v
		}
	}
	for _, o := range support {
		for _, a := range o.f.Evidence {
			learn(a.Key, a.Value.Resolve().String())
		}
	}
	for _, o := range support {
		for k, v := range targetFacts(o.r.Target) {
			learn(k, v)
		}
	}
	for k, v := range targetFacts(target) {
		learn(k, v)
	}
	out := []string{}
	add := func(c string) {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, tmpl := range rule.Next {
		add(placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
			k := m[1 : len(m)-1]
			if v, ok := facts[k]; ok {
				return v
			}
			return "<" + k + ">"
		}))
	}
	for _, o := range support {
		add(o.f.Command)
	}
	return out
}

// portScoped are the findings that answer "does anything listen on the
// asked port?": they speak about the target only when their check was
// aimed at its port.
var portScoped = []triage.Code{sockstat.CodeListening, sockstat.CodeNoListener, sockstat.CodeWrongAddress}

// requestProbe reports whether o is a finding of a probe that reproduced
// the request (TCP or HTTP) and decides the symptom: any such probe, or
// those named in from.
func requestProbe(o observed, from []string) bool {
	if o.r.Check != probe.KindTCP && o.r.Check != probe.KindHTTP {
		return false
	}
	return len(from) == 0 || slices.Contains(from, o.r.Label())
}

// aboutTarget leaves out listener findings of a check aimed at another
// port than the one the failing probes dialled: a service's own listener
// says nothing about why its dependency refuses. Without a failing probe
// aimed at a port, every finding is kept.
func aboutTarget(obs []observed, from []string) []observed {
	ports := map[int]bool{}
	for _, o := range obs {
		if o.f.Status != triage.OK && requestProbe(o, from) && o.r.Target.Port != 0 {
			ports[o.r.Target.Port] = true
		}
	}
	if len(ports) == 0 {
		return obs
	}
	kept := obs[:0:0]
	for _, o := range obs {
		if slices.Contains(portScoped, o.f.Code) && o.r.Target.Port != 0 && !ports[o.r.Target.Port] {
			continue
		}
		kept = append(kept, o)
	}
	return kept
}

// requestTarget is what the request probes were aimed at: the first
// failing one's target, completed by the others'.
func requestTarget(obs []observed, from []string) triage.Target {
	var t triage.Target
	for _, failing := range []bool{true, false} {
		for _, o := range obs {
			if requestProbe(o, from) && (o.f.Status != triage.OK) == failing {
				t = t.Merge(o.r.Target)
			}
		}
	}
	return t
}
