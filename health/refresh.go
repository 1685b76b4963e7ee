package health

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

// firstSlack is how long past Timeout the first request waits for the
// first snapshot: the time to classify and render what the checks found.
const firstSlack = 250 * time.Millisecond

// tracked is one configured check and the run of it still in flight, if
// any. A refresh never starts a check whose last run has not returned.
type tracked struct {
	check triage.Check
	index int
	label string // the name it is known by; refreshes alone write it

	running atomic.Pointer[launch]
}

// launch is one run of a check handed to the runner.
type launch struct {
	since time.Time
	// claimed is set by whichever comes first: the check starting, or the
	// refresh finding after the runner returned that it never started.
	claimed atomic.Bool
}

// run wraps the check so that its launch ends when its function returns,
// however long after the runner gave up on it.
func (t *tracked) run(l *launch) triage.Check {
	c := t.check
	if c.Run == nil {
		return c // the runner reports it; it never starts
	}
	inner, label := c.Run, t.label
	c.Run = func(ctx context.Context) triage.Outcome {
		if !l.claimed.CompareAndSwap(false, true) {
			// Started after its refresh ended: too late to count.
			r := &triage.Result{Check: label, Name: label}
			r.Finish(triage.ErrNotRun)
			return r
		}
		defer t.running.CompareAndSwap(l, nil)
		return inner(ctx)
	}
	return c
}

// Abandoned is a check still running after the refresh that started it
// stopped waiting for it: it ignores its context. It is not started again
// until it returns; meanwhile its result says how long it has been stuck.
type Abandoned struct {
	Name  string    // the check's name
	Since time.Time // when it started
}

// Snapshot is one round of checks as the handler caches it. Its slices
// are shared: read them, do not change them.
type Snapshot struct {
	Time    time.Time        // when the checks ran
	Ready   bool             // what /readyz answers
	Results []triage.Outcome // the typed results, in the order of Options.Checks
	Report  classify.Report  // the symptom and hypotheses
	// Abandoned are the checks still running when the round ended, at most
	// one per configured check.
	Abandoned []Abandoned

	checks map[string]bool // readiness by check name, as /readyz/<check>
}

// CheckReady reports what /readyz/<name> answers for this round: whether
// the checks of that name pass readiness, and whether there is any.
func (s Snapshot) CheckReady(name string) (ready, found bool) {
	ready, found = s.checks[name]
	return ready, found
}

// Checks returns the names of the checks of this round, sorted.
func (s Snapshot) Checks() []string {
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// current returns the snapshot to answer with, and its Age header. A stale
// snapshot is returned at once while a refresh starts behind it; only when
// there is none yet does the request wait, at most Timeout (and the time
// to render), for the first. It returns nil when none came in time or ctx
// ended first.
func (h *Handler) current(ctx context.Context) (*snapshot, []string) {
	now := h.opts.Now()
	if s := h.snap.Load(); s != nil {
		if now.Sub(s.at) >= h.opts.TTL {
			h.revalidate()
		}
		return s, h.ageOf(s.at, now)
	}
	h.revalidate()
	wait := time.NewTimer(h.opts.Timeout + firstSlack)
	defer wait.Stop()
	select {
	case <-h.first:
	case <-wait.C:
	case <-ctx.Done():
	}
	s := h.snap.Load()
	if s == nil {
		return nil, nil
	}
	return s, h.ageOf(s.at, h.opts.Now())
}

// revalidate starts a refresh in the background unless one is under way
// or the snapshot has just been refreshed.
func (h *Handler) revalidate() {
	if h.closed.Load() || !h.mu.TryLock() {
		return
	}
	if s := h.snap.Load(); s != nil && h.opts.Now().Sub(s.at) < h.opts.TTL {
		h.mu.Unlock()
		return
	}
	go func() {
		defer h.mu.Unlock()
		h.store(h.refresh(context.Background()))
	}()
}

func (h *Handler) store(s *snapshot) {
	h.noteTransition(s)
	h.snap.Store(s)
	h.firstOnce.Do(func() { close(h.first) })
}

// Close stops the handler from starting refreshes in the background and
// waits, until ctx ends, for one under way to end, so that no check runs
// after a service has shut down (a writability probe's temporary file
// written into a directory being removed, say). Requests after Close are
// answered from the last snapshot; Refresh still runs one. Checks
// abandoned as stuck are not waited for: nothing can stop them. It
// returns ctx's error if ctx ended first.
func (h *Handler) Close(ctx context.Context) error {
	h.closed.Store(true)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if h.mu.TryLock() {
			h.mu.Unlock()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Snapshot returns the cached round of checks under the same rules as a
// request: a stale one at once, with a refresh started behind it. ok is
// false when there is none yet and none comes before ctx ends or the
// handler's Timeout passes.
func (h *Handler) Snapshot(ctx context.Context) (s Snapshot, ok bool) {
	if cur, _ := h.current(ctx); cur != nil {
		return cur.view, true
	}
	return Snapshot{}, false
}

// Refresh runs the checks now and replaces the cached snapshot. It waits
// for a refresh under way to end first. The round is bounded by the
// handler's Timeout, not by ctx: it serves every request that comes after.
func (h *Handler) Refresh(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.store(h.refresh(ctx))
}

// refresh runs one round and renders it. Nothing it calls may take the
// handler down: a panic in rendering what a check returned becomes a
// snapshot that says so.
func (h *Handler) refresh(ctx context.Context) (s *snapshot) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.Timeout)
	defer cancel()
	results, abandoned := h.runChecks(ctx)
	defer func() {
		if v := recover(); v != nil {
			s = h.renderPanic(results, abandoned, v)
		}
	}()
	return render(results, abandoned, h.opts)
}

// runChecks runs every check not still in flight, and makes up the result
// of those that are.
func (h *Handler) runChecks(ctx context.Context) ([]triage.Outcome, []Abandoned) {
	start := h.opts.Now()
	results := make([]triage.Outcome, len(h.checks))
	launches := make([]*launch, len(h.checks))
	var run []triage.Check
	var which []int
	for i, t := range h.checks {
		if l := t.running.Load(); l != nil {
			results[i] = stuckResult(t.label, start.Sub(l.since))
			continue
		}
		l := &launch{since: start}
		t.running.Store(l)
		launches[i] = l
		run = append(run, t.run(l))
		which = append(which, i)
	}
	out := h.opts.Runner.Run(ctx, run...)
	for j, i := range which {
		results[i] = out[j]
		if l := launches[i]; l.claimed.CompareAndSwap(false, true) {
			h.checks[i].running.CompareAndSwap(l, nil) // never started
		}
	}
	var abandoned []Abandoned
	for i, t := range h.checks {
		r := results[i].Common()
		switch {
		case r.Label() != "":
			if t.check.Name == "" {
				t.label = r.Label()
			}
		case t.label != "":
			r.Name = t.label
		default:
			t.label = fmt.Sprintf("check%d", i+1)
			r.Name = t.label
		}
		if l := t.running.Load(); l != nil {
			abandoned = append(abandoned, Abandoned{Name: t.label, Since: l.since})
		}
	}
	return results, abandoned
}

// stuckResult is the result of a check still running from an earlier
// round: Unknown, unresponsive, with how long it has run.
func stuckResult(label string, d time.Duration) *triage.Result {
	r := &triage.Result{Check: label, Name: label}
	r.Finish(fmt.Errorf("%w: still running after %s, not started again", triage.ErrUnresponsive, d.Round(time.Millisecond)))
	r.Duration = d
	return r
}
