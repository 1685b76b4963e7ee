package triage

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"
)

// Check is one named check for a [Runner].
type Check struct {
	// Name is the caller's name for this check, such as "api" or "db":
	// the result's Name, and the key the health handler and the metrics
	// use. The result's Check, the kind of check, is never changed. A
	// result the runner has to make up itself (a panic, a check that did
	// not return) has Name as its Check too.
	Name string
	// Timeout bounds this check. If zero, the runner's Timeout is used;
	// either way the check also ends with the runner's context.
	Timeout time.Duration
	// Run performs the check. It must honour ctx; a Run that does not is
	// abandoned at its deadline and reported as unresponsive.
	Run func(ctx context.Context) Outcome
}

// Func adapts a check function into a [Check]. The function may return
// its typed result by value, as the check packages do, or as a pointer:
//
//	triage.Func("ports", func(ctx context.Context) sockstat.Result {
//		return sockstat.Check(ctx, sockstat.Options{})
//	})
//
// A function whose result embeds no [Result] yields, when run, an Unknown
// result with an error matching [ErrInvalid] that names the type.
func Func[R any](name string, fn func(context.Context) R) Check {
	return Check{Name: name, Run: func(ctx context.Context) Outcome {
		r := fn(ctx)
		if o, ok := any(r).(Outcome); ok {
			return o
		}
		if o, ok := any(&r).(Outcome); ok {
			return o
		}
		return madeUp(name, 0, fmt.Errorf("%w: check %q returns %T, which does not embed triage.Result", ErrInvalid, name, r))
	}}
}

// DefaultGrace is how long before its deadline a check is asked to stop
// when [Runner.Grace] is zero, so that it can still hand back what it has.
const DefaultGrace = 100 * time.Millisecond

// Runner executes checks concurrently under one deadline. Its zero value
// runs every check at once, bounded only by the context.
type Runner struct {
	// Concurrency is how many checks run at once. If zero or negative,
	// all of them do. A check abandoned at its deadline keeps its slot
	// until its function returns, so that no more check functions than
	// this ever run at once; checks still waiting for a slot at the
	// runner's deadline are reported not run.
	Concurrency int
	// Timeout bounds each check that sets no Timeout of its own. If zero,
	// checks are bounded only by the context.
	Timeout time.Duration
	// Grace is the time a check has, after its own context ends, to
	// return its partial result before the runner stops waiting for it.
	// Each check's context ends this much before the runner's deadline,
	// so the runner itself returns by that deadline. If zero,
	// DefaultGrace is used, but never more than a tenth of the time the
	// check has.
	Grace time.Duration
}

type ran struct {
	i int
	o Outcome
}

// Run executes checks and returns their results in the order given.
//
// Run returns by ctx's deadline. A check that panics yields an Unknown
// result whose Err matches [ErrPanic]; a check still running at its
// deadline (plus the grace) yields Unknown with [ErrUnresponsive], and its
// goroutine ends when the check returns; a check that could not start
// before the deadline yields Unknown with [ErrNotRun]. Results that came in
// before the deadline are kept.
func (r Runner) Run(ctx context.Context, checks ...Check) []Outcome {
	out := make([]Outcome, len(checks))
	if len(checks) == 0 {
		return out
	}
	limit := r.Concurrency
	if limit <= 0 || limit > len(checks) {
		limit = len(checks)
	}
	slots := make(chan struct{}, limit)
	// Buffered for every check so that a late sender never blocks.
	done := make(chan ran, len(checks))

	started := 0
launch:
	for i, c := range checks {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// A slot that freed up as the deadline hit is no reason to start.
			for j := i; j < len(checks); j++ {
				out[j] = madeUp(checks[j].Name, 0, fmt.Errorf("%w: %w", ErrNotRun, ctx.Err()))
			}
			break launch
		}
		started++
		go func() {
			done <- ran{i, r.supervise(ctx, c, func() { <-slots })}
		}()
	}
	for range started {
		d := <-done
		out[d.i] = d.o
	}
	return out
}

// supervise runs one check and returns its result, or a made-up one when
// the check does not return in time. It returns by the check's deadline
// plus the grace, which is no later than ctx's deadline. It calls release
// when the check function returns, which may be after supervise did.
func (r Runner) supervise(parent context.Context, c Check, release func()) Outcome {
	start := time.Now()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = r.Timeout
	}
	deadline, hasDeadline := parent.Deadline()
	ownDeadline := timeout > 0 && (!hasDeadline || start.Add(timeout).Before(deadline))
	if ownDeadline {
		deadline, hasDeadline = start.Add(timeout), true
	}
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	if hasDeadline {
		if tenth := deadline.Sub(start) / 10; grace > tenth {
			grace = tenth
		}
	}

	ctx, cancel := context.WithCancel(parent)
	if hasDeadline {
		ctx, cancel = context.WithDeadline(parent, deadline.Add(-grace))
	}
	defer cancel()

	result := make(chan Outcome, 1)
	go func() {
		defer release()
		result <- call(ctx, c)
	}()

	select {
	case o := <-result:
		return settle(o, c.Name, time.Since(start))
	case <-ctx.Done():
	}
	// When the runner's own deadline is the limit, wait for it to pass
	// rather than for a timer that may fire a hair early, so that Run never
	// starts another check in a slot freed at the deadline.
	var timer <-chan time.Time
	var parentDone <-chan struct{}
	if ownDeadline || !hasDeadline {
		wait := time.NewTimer(grace)
		defer wait.Stop()
		timer = wait.C
	} else {
		parentDone = parent.Done()
	}
	select {
	case o := <-result:
		return settle(o, c.Name, time.Since(start))
	case <-timer:
	case <-parentDone:
	}
	return madeUp(c.Name, time.Since(start), fmt.Errorf("%w: %w", ErrUnresponsive, ctx.Err()))
}

// call runs the check, turning a panic or a missing result into an error
// result. It touches the result only here, on the check's goroutine, so a
// typed nil that panics on Common is caught too.
func call(ctx context.Context, c Check) (o Outcome) {
	defer func() {
		if v := recover(); v != nil {
			o = madeUp(c.Name, 0, &PanicError{Check: c.Name, Value: v, Stack: debug.Stack()})
		}
	}()
	if c.Run == nil {
		return madeUp(c.Name, 0, fmt.Errorf("%w: check %q has no Run function", ErrInvalid, c.Name))
	}
	o = c.Run(ctx)
	if o == nil || o.Common() == nil {
		return madeUp(c.Name, 0, fmt.Errorf("%w: check %q returned no result", ErrInvalid, c.Name))
	}
	return o
}

// settle names the result and finishes it when its check did not: a
// result with findings but no status must not read as "could not tell".
func settle(o Outcome, name string, d time.Duration) Outcome {
	r := o.Common()
	if name != "" {
		// A check named after its URL must not carry the password into
		// reports, logs and metrics.
		r.Name = Redact(name)
	}
	if !r.finished {
		r.Finish(r.Err)
	}
	if r.Duration == 0 {
		r.Duration = d
	}
	return o
}

func madeUp(name string, d time.Duration, err error) *Result {
	r := &Result{Check: Redact(name), Name: Redact(name)}
	r.Finish(err)
	r.Duration = d
	return r
}
