package triage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// Code identifies a kind of finding, such as "sockstat.no_listener" or
// "disk.inodes_low". The package that emits a finding exports its codes as
// constants; a code never changes meaning once released.
type Code string

// Finding is one observation a check made.
type Finding struct {
	// Code is the stable identifier of what was observed.
	Code Code `json:"code"`
	// Status is how bad the observation is.
	Status Status `json:"status"`
	// Summary is one line for people, with the measured values in it:
	// "no listener on :8080 (TCP, all addresses)".
	Summary string `json:"summary"`
	// Evidence holds the measured values behind the summary.
	Evidence Evidence `json:"evidence,omitempty"`
	// Command is the shell command a person would run to see the same
	// thing, such as "ss -lntp 'sport = :8080'". Empty when there is none.
	Command string `json:"command,omitempty"`
}

// String returns "status code: summary".
func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s", f.Status, f.Code, f.Summary)
}

// LogValue lets slog print a finding as its code, status, summary and
// evidence.
func (f Finding) LogValue() slog.Value {
	as := []slog.Attr{slog.String("code", string(f.Code)), slog.String("status", f.Status.String()),
		slog.String("summary", f.Summary)}
	if len(f.Evidence) > 0 {
		as = append(as, slog.Attr{Key: "evidence", Value: slog.GroupValue(f.Evidence...)})
	}
	return slog.GroupValue(as...)
}

// Evidence is the ordered list of measured values behind a finding: ports,
// counts, paths, percentages, durations. It uses [slog.Attr] so values keep
// their kind (slog.Int, slog.Float64, slog.Duration, slog.String, ...).
//
// In JSON it is an object whose keys keep their order; durations are
// written as integer nanoseconds under a key that ends in "_ns" (the
// suffix is added when the key lacks it), times in RFC 3339, and infinite
// or NaN floats as the strings "+Inf", "-Inf" and "NaN".
type Evidence []slog.Attr

// Lookup returns the value stored under key.
func (e Evidence) Lookup(key string) (slog.Value, bool) {
	for _, a := range e {
		if a.Key == key {
			return a.Value.Resolve(), true
		}
	}
	return slog.Value{}, false
}

// Int returns the integer under key, converting unsigned and whole float
// values. ok is false when the key is missing or not a number.
func (e Evidence) Int(key string) (n int64, ok bool) {
	v, ok := e.Lookup(key)
	if !ok {
		return 0, false
	}
	switch v.Kind() {
	case slog.KindInt64:
		return v.Int64(), true
	case slog.KindUint64:
		return int64(v.Uint64()), true
	case slog.KindFloat64:
		return int64(v.Float64()), true
	case slog.KindDuration:
		return int64(v.Duration()), true
	}
	return 0, false
}

// Float returns the number under key. ok is false when the key is missing
// or not a number.
func (e Evidence) Float(key string) (x float64, ok bool) {
	v, ok := e.Lookup(key)
	if !ok {
		return 0, false
	}
	switch v.Kind() {
	case slog.KindInt64:
		return float64(v.Int64()), true
	case slog.KindUint64:
		return float64(v.Uint64()), true
	case slog.KindFloat64:
		return v.Float64(), true
	}
	return 0, false
}

// String returns the value under key formatted as text, "" when missing.
func (e Evidence) String(key string) string {
	v, ok := e.Lookup(key)
	if !ok {
		return ""
	}
	return v.String()
}

// MarshalJSON writes the evidence as an object, keys in order.
func (e Evidence) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range e {
		if i > 0 {
			b.WriteByte(',')
		}
		val := a.Value.Resolve()
		key := a.Key
		if val.Kind() == slog.KindDuration && !strings.HasSuffix(key, "_ns") {
			key += "_ns"
		}
		k, err := json.Marshal(key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalValue(val)
		if err != nil {
			return nil, fmt.Errorf("triage: evidence %q: %w", a.Key, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalValue(v slog.Value) ([]byte, error) {
	switch v.Kind() {
	case slog.KindFloat64:
		// JSON has no infinities or NaN; write them as Prometheus does.
		if x := v.Float64(); math.IsInf(x, 0) || math.IsNaN(x) {
			return json.Marshal(strconv.FormatFloat(x, 'g', -1, 64))
		}
		return json.Marshal(v.Float64())
	case slog.KindDuration:
		return strconv.AppendInt(nil, int64(v.Duration()), 10), nil
	case slog.KindTime:
		return json.Marshal(v.Time().Format(time.RFC3339Nano))
	case slog.KindGroup:
		return Evidence(v.Group()).MarshalJSON()
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return json.Marshal(err.Error())
		}
		return json.Marshal(v.Any())
	default:
		return json.Marshal(v.Any())
	}
}

// UnmarshalJSON reads an object written by MarshalJSON. Numbers come back
// as int64 when whole and float64 otherwise; everything else as decoded by
// encoding/json.
func (e *Evidence) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*e = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("triage: evidence is not a JSON object")
	}
	out := Evidence{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		var raw any
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		out = append(out, slog.Any(key, fromJSON(raw)))
	}
	*e = out
	return nil
}

func fromJSON(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		if f, err := n.Float64(); err == nil {
			return f
		}
		// Out of float64's range: keep the digits rather than an infinity.
		return n.String()
	}
	return v
}
