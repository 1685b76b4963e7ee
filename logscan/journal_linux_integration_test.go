//go:build linux

package logscan

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/human"
	"github.com/triagekit/triage/internal/testjournal"
)

// TestIntegrationJournalDir reads real journal files through the real
// journalctl: units are told apart, the since window is journalctl's,
// priorities make errors, a multi-line message keeps its stack.
func TestIntegrationJournalDir(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	testjournal.Write(t, dir, []testjournal.Entry{
		{At: now.Add(-2 * time.Hour), Unit: "api.service", Priority: 3, Message: "old failure outside the window"},
		{At: now.Add(-50 * time.Second), Unit: "api.service", Priority: 6, Message: "listening on :8080"},
		{At: now.Add(-40 * time.Second), Unit: "api.service", Priority: 3, Message: "payment failed for order 991"},
		{At: now.Add(-30 * time.Second), Unit: "api.service", Priority: 6,
			Message: `{"level":"error","msg":"db down","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","error":"dial tcp 10.0.0.5:5432: connect: connection refused"}`,
			Fields:  map[string]string{"SYSLOG_IDENTIFIER": "api"}},
		{At: now.Add(-20 * time.Second), Unit: "api.service", Priority: 6,
			Message: "2026-11-25 07:58:03,000 ERROR [main] c.e.Api - call failed\njava.lang.IllegalStateException: boom\n\tat com.example.Api.call(Api.java:12)"},
		{At: now.Add(-10 * time.Second), Unit: "worker.service", Priority: 2, Message: "worker crashed: out of memory"},
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Check(ctx, Options{JournalDir: dir, Units: []string{"api.service"}, Since: 10 * time.Minute,
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	require.NoError(t, r.Err)
	require.Len(t, r.Sources, 1)
	assert.Equal(t, "journal:api.service", r.Sources[0].Name)
	assert.Equal(t, 6, r.Sources[0].Lines, "four entries, one of three lines; the old entry and the other unit stay out")
	assert.Equal(t, 3, r.ErrorLines)
	assert.Equal(t, 1, r.StackTraces)
	assert.Equal(t, 1, signal(t, r, CodeDependencyRefused, "10.0.0.5:5432").Count)
	require.Len(t, r.Trace, 1)
	assert.Equal(t, now.Add(-30*time.Second).UnixMicro(), r.Trace[0].Time.UnixMicro())
	f := findingOf(t, r, CodeDependencyRefused)
	assert.Contains(t, f.Command, "journalctl -D "+human.Quote(dir)+" -u api.service")

	t.Run("all units", func(t *testing.T) {
		r := Check(ctx, Options{JournalDir: dir, Since: 10 * time.Minute})
		require.NoError(t, r.Err)
		require.Len(t, r.Sources, 1)
		assert.Equal(t, "journal", r.Sources[0].Name)
		assert.Equal(t, 7, r.Sources[0].Lines)
		assert.Equal(t, 4, r.ErrorLines)
	})
	t.Run("last lines", func(t *testing.T) {
		r := Check(ctx, Options{JournalDir: dir, Units: []string{"api.service"}, Lines: 2})
		require.NoError(t, r.Err)
		assert.Equal(t, 4, r.Sources[0].Lines, "the last two entries, one of three lines")
	})
	t.Run("empty directory", func(t *testing.T) {
		r := Check(ctx, Options{JournalDir: t.TempDir(), Units: []string{"api.service"}})
		assert.ErrorIs(t, r.Err, ErrNoJournal)
		assert.Equal(t, triage.Unknown, r.Status)
	})
	t.Run("unit with no entries", func(t *testing.T) {
		r := Check(ctx, Options{JournalDir: dir, Units: []string{"nothing.service"}})
		require.NoError(t, r.Err)
		assert.Equal(t, triage.OK, r.Status)
		assert.Zero(t, r.Lines)
	})
}
