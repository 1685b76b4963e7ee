package triage_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/triagekit/triage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fake struct {
	triage.Result
	Saw string
}

func okCheck(name string) triage.Check {
	return triage.Func(name, func(ctx context.Context) fake {
		r := fake{Result: triage.Begin("fake", triage.Target{})}
		r.Saw = name
		r.Add(triage.Finding{Code: "test.ok", Status: triage.OK, Summary: "fine"})
		r.Finish(nil)
		return r
	})
}

func TestRunnerOrderAndNames(t *testing.T) {
	var r triage.Runner
	out := r.Run(context.Background(), okCheck("a"), okCheck("b"), okCheck("c"))
	require.Len(t, out, 3)
	for i, name := range []string{"a", "b", "c"} {
		f, ok := out[i].(*fake)
		require.True(t, ok, "typed result kept")
		assert.Equal(t, name, f.Saw)
		assert.Equal(t, name, f.Name, "runner fills the name")
		assert.Equal(t, "fake", f.Check, "and keeps the kind")
		assert.Equal(t, triage.OK, f.Status)
		assert.Positive(t, f.Duration)
	}
	assert.Empty(t, r.Run(context.Background()))
}

func TestRunnerFuncForms(t *testing.T) {
	unfinished := triage.Func("unfinished", func(context.Context) fake {
		var r fake
		r.Add(triage.Finding{Code: "test.bad", Status: triage.Warn})
		return r
	})
	pointer := triage.Func("pointer", func(context.Context) *fake {
		r := &fake{Saw: "pointer"}
		r.Finish(nil)
		return r
	})
	notResult := triage.Func("not a result", func(context.Context) int { return 1 })
	out := triage.Runner{}.Run(context.Background(), unfinished, pointer, notResult)

	r := out[0].Common()
	assert.Equal(t, triage.Warn, r.Status, "a result its check forgot to finish is finished, not unknown")
	assert.NoError(t, r.Err)
	f, ok := out[1].(*fake)
	require.True(t, ok, "a check returning a pointer works as well")
	assert.Equal(t, "pointer", f.Saw)
	assert.Equal(t, triage.OK, f.Status)
	assert.Equal(t, triage.Unknown, out[2].Common().Status)
	assert.ErrorIs(t, out[2].Common().Err, triage.ErrInvalid)
	assert.Contains(t, out[2].Common().Err.Error(), "int", "the error names the type")
}

func TestRunnerPanic(t *testing.T) {
	boom := triage.Check{Name: "boom", Run: func(context.Context) triage.Outcome { panic("kaboom") }}
	nilRun := triage.Check{Name: "norun"}
	typedNil := triage.Check{Name: "typednil", Run: func(context.Context) triage.Outcome { return (*fake)(nil) }}
	untypedNil := triage.Check{Name: "nil", Run: func(context.Context) triage.Outcome { return nil }}

	out := triage.Runner{}.Run(context.Background(), boom, okCheck("fine"), nilRun, typedNil, untypedNil)

	r := out[0].Common()
	assert.Equal(t, triage.Unknown, r.Status)
	assert.ErrorIs(t, r.Err, triage.ErrPanic)
	var pe *triage.PanicError
	require.ErrorAs(t, r.Err, &pe)
	assert.Equal(t, "kaboom", pe.Value)
	assert.NotEmpty(t, pe.Stack)

	assert.Equal(t, triage.OK, out[1].Common().Status, "the other checks survive")
	assert.ErrorIs(t, out[2].Common().Err, triage.ErrInvalid)
	assert.ErrorIs(t, out[3].Common().Err, triage.ErrPanic, "typed nil result")
	assert.ErrorIs(t, out[4].Common().Err, triage.ErrInvalid)
	for _, o := range out {
		assert.NotEmpty(t, o.Common().Label())
	}
}

func TestRunnerPanicWithError(t *testing.T) {
	cause := errors.New("cause")
	c := triage.Check{Name: "p", Run: func(context.Context) triage.Outcome { panic(cause) }}
	out := triage.Runner{}.Run(context.Background(), c)
	assert.ErrorIs(t, out[0].Common().Err, cause)
	assert.ErrorIs(t, out[0].Common().Err, triage.ErrPanic)
}

// A check that ignores its context must not hold the runner past the
// deadline, and its goroutine must end once it returns.
func TestRunnerAbandonsCheckThatIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	stubborn := triage.Check{Name: "stubborn", Run: func(context.Context) triage.Outcome {
		<-release
		return &triage.Result{}
	}}
	partial := triage.Func("partial", func(ctx context.Context) fake {
		var r fake
		<-ctx.Done()
		r.Saw = "partial"
		r.Finish(ctx.Err())
		return r
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()

	out := triage.Runner{}.Run(ctx, stubborn, partial, okCheck("quick"))

	assert.False(t, time.Now().After(deadline.Add(20*time.Millisecond)), "runner returned by the deadline")
	assert.ErrorIs(t, out[0].Common().Err, triage.ErrUnresponsive)
	assert.ErrorIs(t, out[0].Common().Err, context.DeadlineExceeded)
	assert.Equal(t, triage.Unknown, out[0].Common().Status)

	p, ok := out[1].(*fake)
	require.True(t, ok, "a check that honours its context hands back its own partial result")
	assert.Equal(t, "partial", p.Saw)
	assert.ErrorIs(t, p.Err, context.DeadlineExceeded)

	assert.Equal(t, triage.OK, out[2].Common().Status)
	close(release) // goleak in TestMain proves the abandoned goroutine ends
}

func TestRunnerPerCheckTimeout(t *testing.T) {
	slow := triage.Func("slow", func(ctx context.Context) fake {
		var r fake
		select {
		case <-ctx.Done():
			r.Finish(ctx.Err())
		case <-time.After(5 * time.Second):
			r.Finish(nil)
		}
		return r
	})
	slow.Timeout = 100 * time.Millisecond
	start := time.Now()
	out := triage.Runner{Timeout: time.Hour}.Run(context.Background(), slow)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, out[0].Common().Err, context.DeadlineExceeded)
}

func TestRunnerConcurrencyLimit(t *testing.T) {
	var now, peak atomic.Int32
	checks := make([]triage.Check, 50)
	for i := range checks {
		checks[i] = triage.Func("slow", func(ctx context.Context) fake {
			n := now.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			now.Add(-1)
			var r fake
			r.Finish(nil)
			return r
		})
	}
	out := triage.Runner{Concurrency: 4}.Run(context.Background(), checks...)
	for _, o := range out {
		assert.Equal(t, triage.OK, o.Common().Status)
	}
	assert.LessOrEqual(t, peak.Load(), int32(4))
	assert.Positive(t, peak.Load())
}

func TestRunnerPartialResultsWhenDeadlineHitsQueue(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	block := triage.Check{Name: "block", Run: func(context.Context) triage.Outcome {
		<-release
		return &triage.Result{}
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	out := triage.Runner{Concurrency: 1}.Run(ctx, okCheck("first"), block, okCheck("never"))
	assert.Equal(t, triage.OK, out[0].Common().Status, "finished results are kept")
	assert.ErrorIs(t, out[1].Common().Err, triage.ErrUnresponsive)
	assert.ErrorIs(t, out[2].Common().Err, triage.ErrNotRun)
	assert.Equal(t, "never", out[2].Common().Check)
}

func TestRunnerCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := triage.Runner{Concurrency: 1}.Run(ctx, okCheck("a"), okCheck("b"))
	for _, o := range out {
		require.NotNil(t, o)
		assert.NotEmpty(t, o.Common().Label())
	}
}

// inFlight counts the check functions running at once and keeps the peak.
type inFlight struct{ now, peak atomic.Int32 }

func (f *inFlight) enter() {
	n := f.now.Add(1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (f *inFlight) leave() { f.now.Add(-1) }

// Fifty checks that each take longer than a tenth of the deadline, four at
// a time: the limit holds, and every check either finishes, hands back what
// it had at its deadline, or is reported as never started.
func TestRunnerConcurrencyLimitUnderDeadline(t *testing.T) {
	var f inFlight
	var finished atomic.Int32
	checks := make([]triage.Check, 50)
	for i := range checks {
		checks[i] = triage.Func("slow", func(ctx context.Context) fake {
			f.enter()
			defer f.leave()
			var r fake
			select {
			case <-time.After(40 * time.Millisecond):
				finished.Add(1)
				r.Finish(nil)
			case <-ctx.Done():
				r.Finish(ctx.Err())
			}
			return r
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	out := triage.Runner{Concurrency: 4}.Run(ctx, checks...)

	require.Len(t, out, 50)
	var ok, cut, notRun int
	for i, o := range out {
		r := o.Common()
		require.NotNil(t, r, "result %d", i)
		switch {
		case r.Status == triage.OK:
			ok++
		case errors.Is(r.Err, triage.ErrNotRun):
			notRun++
			assert.Equal(t, triage.Unknown, r.Status)
		case errors.Is(r.Err, context.DeadlineExceeded):
			cut++
			assert.Equal(t, triage.Unknown, r.Status)
		default:
			t.Errorf("result %d: %v %v", i, r.Status, r.Err)
		}
	}
	assert.Equal(t, 50, ok+cut+notRun, "every check is accounted for")
	assert.Equal(t, int(finished.Load()), ok, "a finished check keeps its result")
	assert.Positive(t, notRun, "fifty 40ms checks four at a time cannot all start in 250ms")
	assert.LessOrEqual(t, f.peak.Load(), int32(4))
	assert.Positive(t, f.peak.Load())
}

// A check abandoned at its own timeout keeps running until it returns; its
// slot must stay taken until then, or the runner would run more checks at
// once than it was told to.
func TestRunnerConcurrencyLimitWithStubbornChecks(t *testing.T) {
	var f inFlight
	release := make(chan struct{})
	stubborn := make([]triage.Check, 6)
	for i := range stubborn {
		stubborn[i] = triage.Check{Name: "stubborn", Timeout: 50 * time.Millisecond, Run: func(context.Context) triage.Outcome {
			f.enter()
			defer f.leave()
			<-release
			return &triage.Result{}
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	out := triage.Runner{Concurrency: 2}.Run(ctx, stubborn...)
	peak := f.peak.Load()
	close(release) // goleak in TestMain proves the abandoned goroutines end

	assert.LessOrEqual(t, peak, int32(2))
	for i, o := range out {
		r := o.Common()
		assert.Equal(t, triage.Unknown, r.Status, "result %d", i)
		assert.True(t, errors.Is(r.Err, triage.ErrUnresponsive) || errors.Is(r.Err, triage.ErrNotRun), "result %d: %v", i, r.Err)
	}
}
