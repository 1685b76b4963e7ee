package health_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
)

// lockedBuffer is a log sink the handler's refresh goroutine and the test
// share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTransitionsKeepTheEvidence flips a check between failing and
// passing: each change of readiness is kept with its round and logged,
// the ring keeps the last ones, and only callers allowed the details see
// them.
func TestTransitionsKeepTheEvidence(t *testing.T) {
	var db counted
	var logs lockedBuffer
	details := true
	h := health.New(health.Options{
		Checks:  []triage.Check{db.check("db")},
		History: 2,
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		Details: func(*http.Request) bool { return details },
	})
	ctx := context.Background()

	h.Refresh(ctx) // ready from the start: no change
	assert.Empty(t, h.Transitions())
	assert.Empty(t, logs.String())

	db.status.Store(int32(triage.Fail))
	h.Refresh(ctx)
	h.Refresh(ctx) // still failing: no change
	tr := h.Transitions()
	require.Len(t, tr, 1)
	assert.False(t, tr[0].Ready)
	require.Len(t, tr[0].Snapshot.Results, 1)
	assert.Equal(t, triage.Fail, tr[0].Snapshot.Results[0].Common().Status)
	line := logs.String()
	assert.Contains(t, line, `"msg":"triage: not ready"`)
	assert.Contains(t, line, `"level":"WARN"`)
	assert.Contains(t, line, `"db":"failed: db at 10.1.2.3:5432 said fail"`, "the failing check and why")

	db.status.Store(int32(triage.OK))
	h.Refresh(ctx)
	db.status.Store(int32(triage.Fail))
	h.Refresh(ctx)
	tr = h.Transitions()
	require.Len(t, tr, 2, "the ring keeps the last two")
	assert.True(t, tr[0].Ready, "oldest first: ready again")
	assert.False(t, tr[1].Ready)
	assert.Equal(t, 3, strings.Count(logs.String(), "\n"), "three changes, three lines: %s", logs.String())
	assert.Contains(t, logs.String(), `"msg":"triage: ready again"`)

	srv := httptest.NewServer(h)
	defer srv.Close()
	code, body, hdr := get(t, srv, "/health/transitions")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "application/json", hdr.Get("Content-Type"))
	var doc struct {
		Transitions []struct {
			Ready   bool              `json:"ready"`
			Failing map[string]string `json:"failing"`
			Symptom string            `json:"symptom"`
		} `json:"transitions"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
	require.Len(t, doc.Transitions, 2)
	assert.False(t, doc.Transitions[0].Ready, "newest first")
	assert.Contains(t, doc.Transitions[0].Failing["db"], "10.1.2.3:5432")

	details = false
	code, body, _ = get(t, srv, "/health/transitions")
	assert.Equal(t, http.StatusForbidden, code)
	assert.NotContains(t, body, "10.1.2.3")
}

// TestTransitionsOff: a negative History keeps none, and no logger logs
// nothing; readiness is unaffected.
func TestTransitionsOff(t *testing.T) {
	var db counted
	db.status.Store(int32(triage.Fail))
	h := health.New(health.Options{Checks: []triage.Check{db.check("db")}, History: -1})
	h.Refresh(context.Background())
	assert.Empty(t, h.Transitions())
	s, ok := h.Snapshot(context.Background())
	require.True(t, ok)
	assert.False(t, s.Ready)
}
