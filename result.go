package triage

import (
	"errors"
	"fmt"
	"time"
)

// Result is the part every check's typed result shares. Check packages
// embed it:
//
//	type Result struct {
//		triage.Result
//		Listeners []Listener
//	}
//
// so that the runner, the classifier and the health handler treat all
// results alike through [Outcome] without losing their types.
//
// Its fields are left out of the typed result's own JSON; [NewRecord] gives
// the wire form with the common part and the typed details side by side.
type Result struct {
	// Check names the check that produced the result, such as "sockstat"
	// or "probe.http". The runner replaces it with [Check.Name] when
	// that is set.
	Check string `json:"-"`
	// Status is the worst of the findings, or Unknown when the check could
	// not tell (see [Result.Finish]).
	Status Status `json:"-"`
	// Findings are the observations, in the order the check made them.
	Findings []Finding `json:"-"`
	// Err says why the check could not tell, or could tell only part. It
	// is kept for errors.Is and errors.As: a permission error wraps
	// os.ErrPermission, a deadline wraps context.DeadlineExceeded. A
	// failing target is not an error but a finding.
	Err error `json:"-"`
	// Duration is how long the check took.
	Duration time.Duration `json:"-"`
}

// Common returns r itself. Because check packages embed Result, their
// result types satisfy [Outcome] through this method.
func (r *Result) Common() *Result { return r }

// Add appends findings.
func (r *Result) Add(f ...Finding) { r.Findings = append(r.Findings, f...) }

// Finish records err and sets Status: the worst of the findings, raised to
// Unknown when err is not nil. A result with no findings and no error is OK.
func (r *Result) Finish(err error) {
	r.Err = err
	s := OK
	for _, f := range r.Findings {
		s = Worst(s, f.Status)
	}
	if err != nil {
		s = Worst(s, Unknown)
	}
	r.Status = s
}

// Has reports whether the result holds a finding with the given code.
func (r *Result) Has(code Code) bool {
	_, ok := r.Find(code)
	return ok
}

// Find returns the first finding with the given code.
func (r *Result) Find(code Code) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Code == code {
			return f, true
		}
	}
	return Finding{}, false
}

// Outcome is any check's typed result: a pointer to a struct that embeds
// [Result].
type Outcome interface {
	Common() *Result
}

// Errors the runner puts in results it has to make up itself.
var (
	// ErrPanic marks a check that panicked. The result's Err is a
	// *[PanicError] that matches it.
	ErrPanic = errors.New("triage: check panicked")
	// ErrUnresponsive marks a check that did not return by its deadline;
	// the runner stopped waiting for it. Its goroutine ends when the check
	// function finally returns.
	ErrUnresponsive = errors.New("triage: check did not return by its deadline")
	// ErrNotRun marks a check that never started because the deadline hit
	// while it waited for a free slot.
	ErrNotRun = errors.New("triage: check did not start before the deadline")
)

// Errors the check packages share, so callers can test for them with
// errors.Is whichever package returned them.
var (
	// ErrInvalid marks bad input: an empty address, a malformed URL, a
	// negative duration. The check returns Unknown with the error.
	ErrInvalid = errors.New("triage: invalid input")
	// ErrUnsupported marks a check that cannot run on this platform.
	ErrUnsupported = errors.New("triage: not supported on this platform")
)

// PanicError is the error of a check that panicked.
type PanicError struct {
	Check string // the check's name
	Value any    // what the check panicked with
	Stack []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("triage: check %q panicked: %v", e.Check, e.Value)
}

// Is reports whether target is [ErrPanic].
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
