package triage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func TestStatusText(t *testing.T) {
	for _, s := range []triage.Status{triage.Unknown, triage.OK, triage.Warn, triage.Fail} {
		t.Run(s.String(), func(t *testing.T) {
			b, err := json.Marshal(s)
			require.NoError(t, err)
			assert.Equal(t, `"`+s.String()+`"`, string(b))
			var back triage.Status
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, s, back)
		})
	}
	var s triage.Status
	assert.Error(t, json.Unmarshal([]byte(`"fine"`), &s))
	_, err := json.Marshal(triage.Status(9))
	assert.Error(t, err)
	assert.Equal(t, "Status(9)", triage.Status(9).String())
}

func TestWorst(t *testing.T) {
	tests := []struct {
		name string
		in   []triage.Status
		want triage.Status
	}{
		{"none is ok", nil, triage.OK},
		{"unknown above ok", []triage.Status{triage.OK, triage.Unknown}, triage.Unknown},
		{"warn above unknown", []triage.Status{triage.Unknown, triage.Warn, triage.OK}, triage.Warn},
		{"fail above all", []triage.Status{triage.Warn, triage.Fail, triage.Unknown}, triage.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, triage.Worst(tt.in...))
		})
	}
}

func TestResultFinish(t *testing.T) {
	tests := []struct {
		name     string
		findings []triage.Status
		err      error
		want     triage.Status
	}{
		{"nothing found", nil, nil, triage.OK},
		{"could not tell", nil, errors.New("eperm"), triage.Unknown},
		{"partial with ok findings", []triage.Status{triage.OK}, errors.New("eperm"), triage.Unknown},
		{"partial with a failure", []triage.Status{triage.Fail}, errors.New("eperm"), triage.Fail},
		{"worst finding", []triage.Status{triage.OK, triage.Warn}, nil, triage.Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r triage.Result
			for _, s := range tt.findings {
				r.Add(triage.Finding{Code: "test.x", Status: s})
			}
			r.Finish(tt.err)
			assert.Equal(t, tt.want, r.Status)
			assert.ErrorIs(t, r.Err, tt.err)
		})
	}
	var zero triage.Result
	assert.Equal(t, triage.Unknown, zero.Status, "an unfilled result must not read as healthy")
}

func TestEvidenceJSON(t *testing.T) {
	ev := triage.Evidence{
		slog.Int("port", 8080),
		slog.String("addr", "127.0.0.1"),
		slog.Float64("used_pct", 97.5),
		slog.Duration("rtt_ns", 1500*time.Millisecond),
		slog.Duration("window", 250*time.Millisecond),
		slog.Bool("v6only", false),
		slog.Uint64("count", 3),
		slog.Any("err", errors.New("boom")),
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Equal(t, `{"port":8080,"addr":"127.0.0.1","used_pct":97.5,"rtt_ns":1500000000,"window_ns":250000000,"v6only":false,"count":3,"err":"boom"}`, string(b),
		"durations are nanoseconds under a key ending in _ns")

	var back triage.Evidence
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back, len(ev))
	for i, a := range back {
		want := ev[i].Key
		if want == "window" {
			want = "window_ns"
		}
		assert.Equal(t, want, a.Key, "order kept")
	}
	n, ok := back.Int("port")
	assert.True(t, ok)
	assert.EqualValues(t, 8080, n)
	x, ok := back.Float("used_pct")
	assert.True(t, ok)
	assert.InDelta(t, 97.5, x, 1e-9)
	assert.Equal(t, "127.0.0.1", back.String("addr"))
	_, ok = back.Int("missing")
	assert.False(t, ok)
	_, ok = back.Int("addr")
	assert.False(t, ok, "a string is not a number")

	assert.Error(t, json.Unmarshal([]byte(`[1,2]`), &back))
	require.NoError(t, json.Unmarshal([]byte(`null`), &back))
	assert.Nil(t, back)
}

type typed struct {
	triage.Result
	Port int `json:"port"`
}

func TestRecord(t *testing.T) {
	r := &typed{Port: 8080}
	r.Check = "sockstat"
	r.Add(triage.Finding{Code: "sockstat.no_listener", Status: triage.Fail, Summary: "no listener on :8080",
		Evidence: triage.Evidence{slog.Int("port", 8080)}, Command: "ss -lntp 'sport = :8080'"})
	r.Finish(nil)
	r.Duration = 1500 * time.Microsecond

	b, err := json.Marshal(r)
	require.NoError(t, err)
	want := `{"check":"sockstat","status":"fail","duration_ns":1500000,
		"findings":[{"code":"sockstat.no_listener","status":"fail","summary":"no listener on :8080",
			"evidence":{"port":8080},"command":"ss -lntp 'sport = :8080'"}],
		"port":8080}`
	assert.JSONEq(t, want, string(b), "a typed result marshals whole")

	var back triage.Record
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, "sockstat", back.Check)
	assert.Equal(t, triage.Fail, back.Status)
	assert.Equal(t, 1500*time.Microsecond, back.Duration)
	assert.JSONEq(t, "8080", string(back.Details["port"]))
	again, err := json.Marshal(back)
	require.NoError(t, err)
	assert.JSONEq(t, want, string(again), "a record writes what it read")
	var typedBack typed
	require.NoError(t, back.Into(&typedBack))
	assert.Equal(t, 8080, typedBack.Port)
	assert.Equal(t, triage.Fail, typedBack.Status)
	assert.Equal(t, r.Findings, typedBack.Findings)

	bare := &triage.Result{Check: "x"}
	bare.Finish(fmt.Errorf("reading: %w", os.ErrPermission))
	assert.ErrorIs(t, bare.Err, os.ErrPermission, "the error matches what it wraps")
	b, err = json.Marshal(bare)
	require.NoError(t, err)
	assert.JSONEq(t, `{"check":"x","status":"unknown","findings":[],"error":"reading: permission denied","duration_ns":0}`, string(b))
	require.NoError(t, json.Unmarshal(b, &back))
	assert.EqualError(t, back.Err, "reading: permission denied")
	assert.Nil(t, back.Details)
	require.NoError(t, back.Into(&typedBack))
	assert.EqualError(t, typedBack.Err, "reading: permission denied", "the error survives, as text")
}
