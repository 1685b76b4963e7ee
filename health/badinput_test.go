package health_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
)

// New has no error to return: bad options fall back to their defaults,
// and a check that is missing its function or panics is reported as
// Unknown, never as healthy and never as a crash of the handler.
func TestNewBadInput(t *testing.T) {
	boom := triage.Check{Name: "boom", Run: func(context.Context) triage.Outcome { panic("kaboom") }}
	tests := []struct {
		name string
		opts health.Options
	}{
		{"check without a function", health.Options{Checks: []triage.Check{{Name: "norun"}}}},
		{"panicking check", health.Options{Checks: []triage.Check{boom}}},
		{"negative durations", health.Options{Checks: []triage.Check{boom}, TTL: -time.Second, Timeout: -time.Second,
			Runner: triage.Runner{Concurrency: -1, Timeout: -time.Second, Grace: -time.Second}}},
		{"status out of range", health.Options{Checks: []triage.Check{boom}, FailOn: triage.Status(99)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.FailUnknown = true
			tt.opts.Details = func(*http.Request) bool { return true }
			srv := httptest.NewServer(health.New(tt.opts))
			defer srv.Close()
			code, body, _ := get(t, srv, "/health")
			assert.Equal(t, http.StatusServiceUnavailable, code, body)
			assert.Contains(t, body, `"status":"unknown"`)
			code, _, _ = get(t, srv, "/readyz")
			assert.Equal(t, http.StatusServiceUnavailable, code)
			code, _, _ = get(t, srv, "/livez")
			assert.Equal(t, http.StatusOK, code, "liveness never depends on checks")
		})
	}
}
