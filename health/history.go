package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

// DefaultHistory is how many readiness changes a handler keeps when
// Options.History is zero.
const DefaultHistory = 16

// Transition is a change of readiness and the round of checks that made
// it: the evidence of why a service stopped (or started again) taking
// traffic, kept after the next rounds have replaced the snapshot.
type Transition struct {
	// Time is when the round that changed readiness ran.
	Time time.Time
	// Ready is the readiness after the change. The first round is a
	// change when it is not ready.
	Ready bool
	// Snapshot is that round, whole.
	Snapshot Snapshot
}

// history is the ring of the last transitions.
type history struct {
	mu   sync.Mutex
	max  int
	ring []Transition // oldest first
	// seen says whether a round was stored before, and ready what it
	// said.
	seen, ready bool
}

// record keeps s when its readiness differs from the last round's, and
// reports whether it did.
func (hs *history) record(s *snapshot) (Transition, bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	changed := (!hs.seen && !s.ready) || (hs.seen && hs.ready != s.ready)
	hs.seen, hs.ready = true, s.ready
	if !changed || hs.max <= 0 {
		return Transition{}, changed
	}
	t := Transition{Time: s.at, Ready: s.ready, Snapshot: s.view}
	if len(hs.ring) == hs.max {
		copy(hs.ring, hs.ring[1:])
		hs.ring = hs.ring[:hs.max-1]
	}
	hs.ring = append(hs.ring, t)
	return t, true
}

func (hs *history) list() []Transition {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]Transition(nil), hs.ring...)
}

// Transitions returns the last readiness changes the handler saw, oldest
// first, at most Options.History of them.
func (h *Handler) Transitions() []Transition { return h.hist.list() }

// noteTransition records the round when it changed readiness, and logs
// the change with what made it: the symptom, the cause, and the checks
// that failed with their reasons.
func (h *Handler) noteTransition(s *snapshot) {
	t, changed := h.hist.record(s)
	if !changed || h.opts.Logger == nil {
		return
	}
	if t.Time.IsZero() {
		t = Transition{Time: s.at, Ready: s.ready, Snapshot: s.view}
	}
	doc := transitionDoc(t, h.opts)
	attrs := []slog.Attr{slog.Time("checked", t.Time), slog.String("symptom", string(doc.Symptom))}
	if doc.Cause != "" {
		attrs = append(attrs, slog.String("cause", string(doc.Cause)), slog.Float64("score", doc.Score))
	}
	if len(doc.Failing) > 0 {
		attrs = append(attrs, slog.Any("failing", doc.Failing))
	}
	msg, level := "triage: ready again", slog.LevelInfo
	if !t.Ready {
		msg, level = "triage: not ready", slog.LevelWarn
	}
	h.opts.Logger.LogAttrs(context.Background(), level, msg, attrs...)
}

// transition is a Transition as /health/transitions serves it.
type transition struct {
	Time    time.Time         `json:"time"`
	Ready   bool              `json:"ready"`
	Symptom classify.Symptom  `json:"symptom"`
	Cause   classify.ID       `json:"cause,omitempty"`
	Score   float64           `json:"score,omitempty"`
	Failing map[string]string `json:"failing,omitempty"`
	Triage  classify.Report   `json:"triage"`
}

func transitionDoc(t Transition, opts Options) transition {
	d := transition{Time: t.Time, Ready: t.Ready, Symptom: t.Snapshot.Report.Symptom, Triage: t.Snapshot.Report}
	if h, ok := t.Snapshot.Report.Cause(); ok {
		d.Cause, d.Score = h.ID, h.Score
	}
	for _, o := range t.Snapshot.Results {
		r := o.Common()
		if fail, _, word, _ := verdict(r.Status, opts); fail || r.Status == triage.Unknown {
			if d.Failing == nil {
				d.Failing = map[string]string{}
			}
			if why := reasonOf(r); why != "" {
				word += ": " + why
			}
			d.Failing[r.Label()] = word
		}
	}
	return d
}

// serveTransitions answers /health/transitions: the last readiness
// changes with their evidence, newest first, to requests allowed the
// details only.
func (h *Handler) serveTransitions(w http.ResponseWriter, r *http.Request) {
	if !h.allowed(r) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	list := h.hist.list()
	docs := make([]transition, len(list))
	for i, t := range list {
		docs[i] = transitionDoc(t, h.opts)
	}
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].Time.After(docs[j].Time) })
	b, err := json.Marshal(map[string]any{"transitions": docs})
	if err != nil {
		http.Error(w, "cannot encode the transitions", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Cache-Control"] = noStore
	_, _ = w.Write(b)
}
