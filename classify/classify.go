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
	// Slow: an answer came, but later than the probe's slow threshold
	// (probe.HTTPOptions.Slow).
	Slow Symptom = "slow"
	// TLS: the TLS handshake failed on the certificate (expired, another
	// name, an unknown authority).
	TLS Symptom = "tls"
	// Status4xx: the answer was 4xx, such as 401, 403 or 429: the client
	// side of the request is refused.
	Status4xx Symptom = "4xx"
)

// ParseSymptom accepts "refused", "timeout", "5xx", "slow", "tls",
// "4xx", and "none" or "" for none.
func ParseSymptom(s string) (Symptom, error) {
	switch Symptom(s) {
	case "", None:
		return None, nil
	case Refused, Timeout, Status5xx, Slow, TLS, Status4xx:
		return Symptom(s), nil
	}
	return None, fmt.Errorf("%w: symptom %q is not refused, timeout, 5xx, slow, tls, 4xx or none", triage.ErrInvalid, s)
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
	// Dependency makes the sign count only findings of dependency
	// probes: TCP, HTTP and database probes that are not the request
	// (see Options.SymptomFrom), such as a -dep probe or a dependency
	// found from the target's connections. Without it, a TCP or HTTP
	// probe finding counts only when it comes from the request itself, so
	// that a refused dependency does not read as a refused request.
	Dependency bool
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
	// Target is what the caller asks about beyond the request probes'
	// own targets: a process or PID, a cgroup, paths and log files, a
	// name. With a target, findings about something else on the host (an
	// unrelated process's OOM kill, another filesystem full, another
	// tenant's CPU load under a 5xx) are background: they are reported
	// in Report.Background and never ranked as causes. With no target at
	// all, neither here nor from a request probe, the host itself is the
	// target.
	Target triage.Target
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
	// Given is the symptom the caller gave, when the probe contradicts
	// it; see Contradicted.
	Given Symptom `json:"symptom_given,omitempty"`
	// Contradicted is true when the caller gave a symptom and the request
	// probe saw another one (the symptom given was a timeout, the port
	// refuses) or a good answer. A symptom seen drives the ranking; after
	// a good answer the given one still does.
	Contradicted bool `json:"symptom_contradicted,omitempty"`
	// Hypotheses are the candidate causes, ranked best first; empty when
	// nothing points at a problem of the target. A hypothesis supported
	// by findings about the target always ranks above one that is not.
	// When Inconclusive, none of them has enough support to be called the
	// cause.
	Hypotheses []Hypothesis `json:"hypotheses"`
	// Inconclusive is true when a symptom was seen or something about the
	// target failed, but no hypothesis reaches the [Possible] score.
	Inconclusive bool `json:"inconclusive"`
	// Close names the check that tells the first two hypotheses apart,
	// when their scores are too close to call; nil otherwise.
	Close *Distinction `json:"close,omitempty"`
	// Background are problems on the host that are not about the target
	// and did not plausibly cause its symptom: "also wrong on this
	// host". They are never ranked as causes.
	Background []Hypothesis `json:"background"`
	// RuledOut are checks of the target that passed: the port is open,
	// the process is alive, the name resolves, the disk has room. One
	// finding per code.
	RuledOut []Ref `json:"ruled_out"`
}

// Distinction says how to tell two close hypotheses apart.
type Distinction struct {
	// First and Second are the two hypotheses, as ranked.
	First  ID `json:"first"`
	Second ID `json:"second"`
	// Command is the one command, of those that confirm either, that the
	// other does not share.
	Command string `json:"command"`
}

// The score bands. A hypothesis's score is its rule's weight (how often
// this cause is behind such evidence) times the combined strength of its
// supporting findings, lowered by contradicting findings and by
// hypotheses that explain it away. Scores are comparable across rules;
// README.md's accuracy table shows how often the first hypothesis was
// right in each band on the project's fault matrix.
const (
	// Possible is the score below which no hypothesis is called the
	// cause: the report is inconclusive.
	Possible = 0.35
	// Likely is the score from which a hypothesis is likely the cause.
	Likely = 0.6
	// Strong is the score from which the evidence leaves little doubt.
	Strong = 0.8
	// CloseScores is how near the first two scores must be for the
	// report to name the check that tells them apart.
	CloseScores = 0.1
)

// Confidence puts the score in words: "strong" from [Strong], "likely"
// from [Likely], "possible" from [Possible], "weak" below.
func (h Hypothesis) Confidence() string {
	switch {
	case h.Score >= Strong:
		return "strong"
	case h.Score >= Likely:
		return "likely"
	case h.Score >= Possible:
		return "possible"
	}
	return "weak"
}

// Cause returns the best hypothesis when the report is not inconclusive.
func (r Report) Cause() (Hypothesis, bool) {
	if r.Inconclusive {
		return Hypothesis{}, false
	}
	return r.Top()
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
	// sharedFactor discounts a condition of the whole host (the CPU
	// saturated, memory short) as support for a cause of the target's
	// trouble: it may starve the target, but a finding of the target's
	// own (its cgroup throttled, its request waiting) says more.
	sharedFactor = 0.6
)

// observed is a finding with the result it came from.
type observed struct {
	r *triage.Result
	f triage.Finding
	// dep is true for the findings of a dependency probe.
	dep bool
	// bg is true for host background: not about the target.
	bg bool
	// shared is true for a condition of the whole host counted for the
	// target: its support is discounted by sharedFactor.
	shared bool
}

// Classify ranks the hypotheses the results support. It does no I/O and
// reads only the common part of each result, so that results read back
// from JSON ([triage.Record]) classify as the typed ones did.
func Classify(results []triage.Outcome, opts Options) Report {
	var (
		rs  []*triage.Result
		obs []observed
	)
	for _, o := range results {
		r := common(o)
		if r == nil {
			continue
		}
		rs = append(rs, r)
		for _, f := range r.Findings {
			obs = append(obs, observed{r: r, f: f})
		}
	}

	rep := Report{Symptom: opts.Symptom, Hypotheses: []Hypothesis{}, Background: []Hypothesis{}, RuledOut: []Ref{}}
	if rep.Symptom == "" {
		rep.Symptom = None
	}
	seen := derive(obs, opts.SymptomFrom)
	switch {
	case rep.Symptom == None:
		rep.Symptom, rep.Derived = seen, seen != None
	case seen != None && seen != rep.Symptom:
		// What the probe sees now beats what the caller remembers.
		rep.Given, rep.Contradicted = rep.Symptom, true
		rep.Symptom, rep.Derived = seen, true
	case seen == None && requestAnswered(rs, opts.SymptomFrom):
		rep.Given, rep.Contradicted = rep.Symptom, true
	}
	obs = aboutPort(obs, opts.SymptomFrom)
	fc := newFocus(rs, obs, opts)
	for i := range obs {
		obs[i].dep = isDependency(obs[i].r, opts.SymptomFrom)
		fc.judge(&obs[i], rep.Symptom)
	}

	rules := ruleSet(opts)
	var causes, background []raised
	for i, rule := range rules {
		if !applies(rule, rep.Symptom) {
			continue
		}
		h, n, ok := evaluate(rule, obs, rep.Symptom, fc.t, false)
		if !ok && len(rule.Symptoms) == 0 {
			// Trouble elsewhere on the host: reported, never blamed.
			if h, _, ok := evaluate(rule, obs, rep.Symptom, fc.t, true); ok {
				h.Symptom = None
				background = append(background, raised{rule: i, h: h})
			}
			continue
		}
		if !ok {
			continue
		}
		if w, ok := opts.Weights[rule.ID]; ok && rule.Weight > 0 && finite(w) && w >= 0 {
			h.Score *= w / rule.Weight
		}
		causes = append(causes, raised{rule: i, h: h, about: n})
	}
	explain(rules, causes)
	rep.Hypotheses = rank(causes)
	rep.Background = rank(background)
	rep.RuledOut = ruledOut(obs)

	trouble := rep.Symptom != None || len(rep.Hypotheses) > 0
	for _, o := range obs {
		if !o.bg && o.f.Status == triage.Fail {
			trouble = true
		}
	}
	top, ok := rep.Top()
	rep.Inconclusive = trouble && (!ok || top.Score < Possible)
	if len(rep.Hypotheses) > 1 && !rep.Inconclusive {
		a, b := rep.Hypotheses[0], rep.Hypotheses[1]
		if a.Score-b.Score < CloseScores {
			rep.Close = distinguish(a, b)
		}
	}
	return rep
}

// raised is a hypothesis with its rule's position and how many of its
// supporting findings are about the target.
type raised struct {
	rule  int
	h     Hypothesis
	about int
}

// explain lowers the hypotheses that raised ones explain away, the more
// the surer the explaining one is.
func explain(rules []Rule, hs []raised) {
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
}

// rank rounds the scores, drops those below the floor and orders the rest:
// by score, then by how much of the evidence is about the target, then by
// how many findings support it; an exact tie left after that goes by id,
// never by the order of the rules.
func rank(hs []raised) []Hypothesis {
	out := []Hypothesis{}
	about := map[ID]int{}
	for _, r := range hs {
		r.h.Score = math.Round(r.h.Score*1000) / 1000
		// A caller's rule with an infinite weight would outrank every
		// other and make the report impossible to encode.
		if r.h.Score >= minScore && finite(r.h.Score) {
			out = append(out, r.h)
			about[r.h.ID] = r.about
		}
	}
	slices.SortStableFunc(out, func(a, b Hypothesis) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			cmp.Compare(about[b.ID], about[a.ID]),
			cmp.Compare(len(b.Evidence), len(a.Evidence)),
			cmp.Compare(a.ID, b.ID),
		)
	})
	return out
}

// distinguish names the command that confirms the first hypothesis and
// not the second, or else the second and not the first.
func distinguish(a, b Hypothesis) *Distinction {
	d := &Distinction{First: a.ID, Second: b.ID}
	for _, pair := range [][2][]string{{a.Next, b.Next}, {b.Next, a.Next}} {
		for _, c := range pair[0] {
			if !slices.Contains(pair[1], c) {
				d.Command = c
				return d
			}
		}
	}
	return d
}

// ruledOut lists the passing findings about the target, one per code:
// what was checked and is fine.
func ruledOut(obs []observed) []Ref {
	out := []Ref{}
	seen := map[triage.Code]bool{}
	for _, o := range obs {
		if o.bg || o.f.Status != triage.OK || seen[o.f.Code] {
			continue
		}
		seen[o.f.Code] = true
		out = append(out, ref(o))
	}
	return out
}

// requestAnswered reports whether a request probe ran and found nothing
// wrong.
func requestAnswered(rs []*triage.Result, from []string) bool {
	answered := false
	for _, r := range rs {
		if !isRequest(r, from) {
			continue
		}
		if r.Status != triage.OK {
			return false
		}
		answered = true
	}
	return answered
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
	// A database probe's findings speak whichever way the sign is
	// marked: no request is a database probe.
	return o.f.Code == s.Code && (s.When == nil || s.When(o.f)) && (s.Dependency == o.dep || o.r.Check == probe.KindDB)
}

// isDependency reports whether r is a dependency probe: a TCP, HTTP or
// database probe that is not the request.
func isDependency(r *triage.Result, from []string) bool {
	switch r.Check {
	case probe.KindTCP, probe.KindHTTP:
		return !isRequest(r, from)
	case probe.KindDB:
		return true
	}
	return false
}

// evaluate raises rule's hypothesis from the findings about the target,
// or, with background, from those about the rest of the host. It also
// returns how many supporting findings are about the target.
func evaluate(rule Rule, obs []observed, symptom Symptom, target triage.Target, background bool) (Hypothesis, int, bool) {
	h := Hypothesis{ID: rule.ID, Symptom: None, Layer: rule.Layer, Evidence: []Ref{}, Against: []Ref{}, Next: []string{}}
	if len(rule.Symptoms) > 0 {
		h.Symptom = symptom
	}
	miss := 1.0
	// The host-wide conditions a rule counts (the CPU saturated, the load
	// high, CPU pressure) are one fact seen several ways: together they
	// weigh what the strongest of them weighs, or a busy host would outrank
	// a finding of the target's own by piling up its views of itself.
	sharedBest := 0.0
	var support []observed
	for _, s := range rule.Support {
		for _, o := range obs {
			if o.bg != background {
				continue
			}
			if matches(s, o) && statusFactor(o.f.Status, s, true) > 0 {
				w := s.Weight * statusFactor(o.f.Status, s, true)
				if o.shared {
					sharedBest = max(sharedBest, clamp(w*sharedFactor))
				} else {
					miss *= 1 - clamp(w)
				}
				support = append(support, o)
				h.Evidence = append(h.Evidence, ref(o))
			}
		}
	}
	if len(support) == 0 {
		return h, 0, false
	}
	miss *= 1 - sharedBest
	score := rule.Weight * (1 - miss)
	for _, s := range rule.Against {
		for _, o := range obs {
			if o.bg != background {
				continue
			}
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
	n := 0
	if !background {
		n = len(support)
	}
	return h, n, true
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
func requestProbe(o observed, from []string) bool { return isRequest(o.r, from) }

func isRequest(r *triage.Result, from []string) bool {
	if r.Check != probe.KindTCP && r.Check != probe.KindHTTP {
		return false
	}
	return len(from) == 0 || slices.ContainsFunc(from, func(n string) bool {
		// The runner redacts a password in a check's name.
		return n == r.Label() || triage.Redact(n) == r.Label()
	})
}

// aboutPort leaves out listener findings of a check aimed at another
// port than the one the failing probes dialled: a service's own listener
// says nothing about why its dependency refuses. Without a failing probe
// aimed at a port, every finding is kept.
func aboutPort(obs []observed, from []string) []observed {
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
