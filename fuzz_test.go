package triage_test

import (
	"encoding/json"
	"testing"

	"github.com/triagekit/triage"
)

// Evidence comes back from JSON written by other programs (health
// details, saved reports): decoding must never panic, and what decodes
// must encode again.
func FuzzEvidenceJSON(f *testing.F) {
	for _, s := range []string{
		`{"port":8080,"addr":"127.0.0.1","used_pct":97.5,"rtt":"1.5s","ok":true}`,
		`{}`, `null`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"n":1e400}`, `{"x":-0}`, `[1]`, `{"k":1`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e triage.Evidence
		if err := json.Unmarshal(data, &e); err != nil {
			return
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("decoded evidence does not encode: %v", err)
		}
		var again triage.Evidence
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-encoded evidence does not decode: %v: %s", err, out)
		}
		if len(again) != len(e) {
			t.Fatalf("lost keys: %d != %d", len(again), len(e))
		}
	})
}
