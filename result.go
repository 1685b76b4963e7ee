package triage

import (
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

// Result is the part every check's typed result shares. Check packages
// embed it:
//
//	type Result struct {
//		triage.Result
//		Listeners []Listener `json:"listeners"`
//	}
//
// so that the runner, the classifier and the health handler treat all
// results alike through [Outcome] without losing their types, and so that
// json.Marshal of a typed result writes the whole of it: these fields and
// the typed ones side by side. Every duration in that JSON is an integer
// count of nanoseconds under a key ending in "_ns". To read a result back,
// decode it into a [Record] (and from there, with [Record.Into], into its
// typed struct).
type Result struct {
	// Check is the kind of check that produced the result, a stable name
	// such as "sockstat" or "probe.http" that never holds a target.
	Check string `json:"check"`
	// Name is the caller's name for this one check ([Check.Name]), such
	// as "api" or "db", with the password of a URL in it redacted
	// ([Redact]); empty when the caller gave none.
	Name string `json:"name,omitempty"`
	// Target is what the check was aimed at.
	Target Target `json:"target,omitzero"`
	// Status is the worst of the findings, or Unknown when the check could
	// not tell (see [Result.Finish]).
	Status Status `json:"status"`
	// Findings are the observations, in the order the check made them.
	Findings []Finding `json:"findings"`
	// Err says why the check could not tell, or could tell only part. It
	// is kept for errors.Is and errors.As: a permission error wraps
	// os.ErrPermission, a deadline wraps context.DeadlineExceeded. A
	// failing target is not an error but a finding. Set it through
	// [Result.Finish], which also makes it print as its text in JSON.
	Err error `json:"error,omitempty"`
	// Duration is how long the check took.
	Duration time.Duration `json:"duration_ns"`

	started  time.Time
	finished bool
}

// Begin starts the result of a check of the given kind, aimed at t, now:
// [Result.Finish] records how long it took.
//
//	r := Result{Result: triage.Begin("sockstat", t)}
//	...
//	r.Finish(err)
func Begin(check string, t Target) Result {
	return Result{Check: check, Target: t, started: time.Now()}
}

// Common returns r itself. Because check packages embed Result, their
// result types satisfy [Outcome] through this method.
func (r *Result) Common() *Result { return r }

// Add appends findings.
func (r *Result) Add(f ...Finding) { r.Findings = append(r.Findings, f...) }

// Finish records err and sets Status: the worst of the findings, raised to
// Unknown when err is not nil. A result with no findings and no error is
// OK. For a result made with [Begin], it also records the duration.
// A [Runner] finishes a result that its check left unfinished.
func (r *Result) Finish(err error) {
	if err != nil {
		var e *checkError
		if !errors.As(err, &e) || e != err {
			err = &checkError{err}
		}
	}
	r.Err = err
	s := OK
	for _, f := range r.Findings {
		s = Worst(s, f.Status)
	}
	if err != nil {
		s = Worst(s, Unknown)
	}
	r.Status = s
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if !r.started.IsZero() {
		r.Duration = time.Since(r.started)
	}
	r.finished = true
}

// Label returns the caller's name for the check, or its kind when it has
// none.
func (r *Result) Label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Check
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

// LogValue lets slog print a result, typed or not, as its common part:
// check, name, target, status, error, duration and the findings that are
// not OK.
func (r Result) LogValue() slog.Value {
	as := []slog.Attr{slog.String("check", r.Check)}
	if r.Name != "" {
		as = append(as, slog.String("name", r.Name))
	}
	if !r.Target.IsZero() {
		as = append(as, slog.Any("target", r.Target))
	}
	as = append(as, slog.String("status", r.Status.String()))
	if r.Err != nil {
		as = append(as, slog.String("error", r.Err.Error()))
	}
	as = append(as, slog.Duration("duration", r.Duration))
	var fs []slog.Attr
	for _, f := range r.Findings {
		if f.Status != OK {
			fs = append(fs, slog.Any(string(f.Code), f))
		}
	}
	if len(fs) > 0 {
		as = append(as, slog.Attr{Key: "findings", Value: slog.GroupValue(fs...)})
	}
	return slog.GroupValue(as...)
}

// checkError is an error kept in a Result: it matches what it wraps and
// writes itself to JSON as its text.
type checkError struct{ err error }

func (e *checkError) Error() string { return e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

func (e *checkError) MarshalJSON() ([]byte, error) { return json.Marshal(e.err.Error()) }

// Outcome is any check's typed result: a pointer to a struct that embeds
// [Result].
type Outcome interface {
	Common() *Result
}
