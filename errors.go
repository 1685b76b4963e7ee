package triage

import (
	"errors"
	"fmt"
)

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
