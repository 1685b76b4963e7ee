package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Record is a result read back from its JSON: the common part, and the
// typed fields as they were written. It is an [Outcome], so a saved report
// can be classified again without running anything.
//
// The error comes back as its text only: errors.Is no longer matches what
// it wrapped.
type Record struct {
	Result
	// Details holds the typed fields by their JSON keys, in no order.
	Details map[string]json.RawMessage
}

// commonKeys are the JSON keys of [Result].
var commonKeys = []string{"check", "name", "target", "status", "findings", "error", "duration_ns"}

// UnmarshalJSON reads the JSON of any typed result.
func (r *Record) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("triage: result: %w", err)
	}
	if all == nil {
		return errors.New("triage: result is null")
	}
	var c struct {
		Check    string    `json:"check"`
		Name     string    `json:"name"`
		Target   Target    `json:"target"`
		Status   Status    `json:"status"`
		Findings []Finding `json:"findings"`
		Error    string    `json:"error"`
		Duration int64     `json:"duration_ns"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("triage: result: %w", err)
	}
	*r = Record{Result: Result{
		Check: c.Check, Name: c.Name, Target: c.Target, Status: c.Status,
		Findings: c.Findings, Duration: time.Duration(c.Duration), finished: true,
	}}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if c.Error != "" {
		r.Err = &checkError{errors.New(c.Error)}
	}
	for _, k := range commonKeys {
		delete(all, k)
	}
	if len(all) > 0 {
		r.Details = all
	}
	return nil
}

// Into decodes the record into a typed result: the typed fields from
// Details, the common part as read. Decoding a result's JSON straight into
// its typed struct cannot restore the error, which JSON holds as text;
// Into can.
func (r *Record) Into(o Outcome) error {
	if len(r.Details) > 0 {
		b, err := json.Marshal(r.Details)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, o); err != nil {
			return fmt.Errorf("triage: %s result: %w", r.Check, err)
		}
	}
	*o.Common() = r.Result
	return nil
}

// MarshalJSON writes the record as the typed result was written: the
// common fields, then the details in key order.
func (r Record) MarshalJSON() ([]byte, error) {
	common, err := json.Marshal(&r.Result)
	if err != nil {
		return nil, err
	}
	if len(r.Details) == 0 {
		return common, nil
	}
	details, err := json.Marshal(r.Details)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(common[:len(common)-1])
	if len(details) > 2 {
		b.WriteByte(',')
		b.Write(details[1:])
	} else {
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}
