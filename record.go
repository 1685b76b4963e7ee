package triage

// Record is the JSON form of an [Outcome], as the triage CLI and the
// health handler print it:
//
//	{"check": "sockstat", "status": "fail", "findings": [...],
//	 "error": "...", "duration_ms": 12.5, "details": {...}}
type Record struct {
	Check      string    `json:"check"`
	Status     Status    `json:"status"`
	Findings   []Finding `json:"findings"`
	Error      string    `json:"error,omitempty"`
	DurationMS float64   `json:"duration_ms"`
	// Details is the typed result itself (its own fields only). When a
	// Record is decoded from JSON it holds whatever encoding/json made of
	// the object.
	Details any `json:"details,omitempty"`
}

// NewRecord returns the wire form of o. Details is omitted when o is a bare
// *Result, which has no typed part.
func NewRecord(o Outcome) Record {
	r := o.Common()
	rec := Record{
		Check:      r.Check,
		Status:     r.Status,
		Findings:   r.Findings,
		DurationMS: float64(r.Duration.Microseconds()) / 1000,
	}
	if rec.Findings == nil {
		rec.Findings = []Finding{}
	}
	if r.Err != nil {
		rec.Error = r.Err.Error()
	}
	if _, bare := o.(*Result); !bare {
		rec.Details = o
	}
	return rec
}
