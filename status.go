package triage

import (
	"fmt"
)

// Status is how a check or a finding ended.
//
// The zero value is Unknown, so a result that was never filled in reads as
// "could not tell", never as healthy.
type Status uint8

const (
	// Unknown means the check could not tell: no permission, unsupported
	// platform, deadline hit before an answer.
	Unknown Status = iota
	// OK means the check looked and found nothing wrong.
	OK
	// Warn means something is off but not yet failing.
	Warn
	// Fail means the check saw the failure.
	Fail
)

var statusNames = [...]string{Unknown: "unknown", OK: "ok", Warn: "warn", Fail: "fail"}

// String returns the lowercase name: "unknown", "ok", "warn" or "fail".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// rank orders statuses by how much attention they need. Unknown ranks above
// OK: a check that could not tell must never make the whole look healthy.
func (s Status) rank() int {
	switch s {
	case OK:
		return 0
	case Unknown:
		return 1
	case Warn:
		return 2
	case Fail:
		return 3
	}
	return 1
}

// Worse reports whether s needs more attention than t, in the order
// OK < Unknown < Warn < Fail.
func (s Status) Worse(t Status) bool { return s.rank() > t.rank() }

// Worst returns the status that needs the most attention; OK for none.
func Worst(statuses ...Status) Status {
	w := OK
	for _, s := range statuses {
		if s.Worse(w) {
			w = s
		}
	}
	return w
}

// MarshalText encodes the status as its lowercase name.
func (s Status) MarshalText() ([]byte, error) {
	if int(s) >= len(statusNames) {
		return nil, fmt.Errorf("triage: invalid status %d", uint8(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText decodes a lowercase status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if string(b) == n {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("triage: unknown status %q", b)
}
