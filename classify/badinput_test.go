package classify_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/sockstat"
)

// Classify has no error to return: whatever it is given, it must not
// panic, and its report must stay a report (finite scores that encode to
// JSON), with the evidence it could use still used.
func TestClassifyBadInput(t *testing.T) {
	refused := result("probe.tcp", triage.Finding{Code: probe.CodeTCPRefused, Status: triage.Fail, Summary: "refused"})
	noListener := result("sockstat", triage.Finding{Code: sockstat.CodeNoListener, Status: triage.Fail, Summary: "none"})
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		name    string
		results []triage.Outcome
		opts    classify.Options
	}{
		{"nil results", nil, classify.Options{}},
		{"untyped nil outcome", []triage.Outcome{nil, refused, noListener}, classify.Options{}},
		{"typed nil common result", []triage.Outcome{(*triage.Result)(nil), refused, noListener}, classify.Options{}},
		{"typed nil check result", []triage.Outcome{(*probe.TCPResult)(nil), (*sockstat.Result)(nil), refused, noListener}, classify.Options{}},
		{"unknown symptom", []triage.Outcome{refused, noListener}, classify.Options{Symptom: "bogus"}},
		{"infinite weight", []triage.Outcome{refused, noListener}, classify.Options{Weights: map[classify.ID]float64{"refused.not_listening": inf}}},
		{"NaN weight", []triage.Outcome{refused, noListener}, classify.Options{Weights: map[classify.ID]float64{"refused.not_listening": nan}}},
		{"negative weight", []triage.Outcome{refused, noListener}, classify.Options{Weights: map[classify.ID]float64{"refused.not_listening": -1}}},
		{"rule with infinite weight", []triage.Outcome{refused, noListener}, classify.Options{Rules: []classify.Rule{{
			ID: "custom.inf", Weight: inf, Support: []classify.Sign{{Code: sockstat.CodeNoListener, Weight: inf}},
		}}}},
		{"rule with NaN weight", []triage.Outcome{refused, noListener}, classify.Options{Rules: []classify.Rule{{
			ID: "custom.nan", Weight: nan, Support: []classify.Sign{{Code: sockstat.CodeNoListener, Weight: nan}},
		}}}},
		{"rule without support", []triage.Outcome{refused, noListener}, classify.Options{Rules: []classify.Rule{{ID: "custom.empty", Weight: 1}}}},
		{"rule without id", []triage.Outcome{refused, noListener}, classify.Options{Rules: []classify.Rule{{
			Weight: 1, Support: []classify.Sign{{Code: sockstat.CodeNoListener, Weight: 1}},
		}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep classify.Report
			require.NotPanics(t, func() { rep = classify.Classify(tt.results, tt.opts) })
			for _, h := range rep.Hypotheses {
				assert.False(t, math.IsNaN(h.Score) || math.IsInf(h.Score, 0) || h.Score < 0, "%s scores %v", h.ID, h.Score)
				assert.NotEmpty(t, h.ID)
			}
			_, err := json.Marshal(rep)
			assert.NoError(t, err)
			if len(tt.results) > 1 && tt.opts.Symptom == classify.None {
				assert.Equal(t, classify.Refused, rep.Symptom, "the good results still count")
			}
		})
	}
}
