//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testjournal"
	"github.com/triagekit/triage/logscan"
)

// TestIntegrationJournalUnit reads a unit's entries from a real journal
// directory through the real journalctl, over the -since window only.
func TestIntegrationJournalUnit(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	testjournal.Write(t, dir, []testjournal.Entry{
		{At: now.Add(-2 * time.Hour), Unit: "api.service", Priority: 3,
			Message: "old failure: dial tcp 10.9.9.9:6379: connect: connection refused"},
		{At: now.Add(-50 * time.Second), Unit: "api.service", Priority: 6, Message: "listening on :8080"},
		{At: now.Add(-30 * time.Second), Unit: "api.service", Priority: 3,
			Message: "db down: dial tcp 10.0.0.5:5432: connect: connection refused"},
		{At: now.Add(-20 * time.Second), Unit: "api.service", Priority: 3, Message: "payment failed for order 991"},
		{At: now.Add(-10 * time.Second), Unit: "worker.service", Priority: 2, Message: "worker crashed: dial tcp 10.8.8.8:80: connect: connection refused"},
	})

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "10s", "-journal-dir", dir, "-unit", "api.service", "-since", "1m"}, &out, &errb)
	assert.Equal(t, 1, code, "the unit logs errors")
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "stdout: %s\nstderr: %s", out.String(), errb.String())

	var res logscan.Result
	var codes []string
	var journalCmd string
	found := false
	for _, r := range rep.Results {
		if r.Check != "logscan" {
			continue
		}
		found = true
		require.NoError(t, r.typed(&res))
		for _, f := range r.Findings {
			codes = append(codes, f.Code)
			if f.Code == string(logscan.CodeDependencyRefused) {
				journalCmd = f.Command
			}
		}
	}
	require.True(t, found, "a logscan result in %s", out.String())

	var journal *logscan.Source
	for i, s := range res.Sources {
		if s.Name == "journal:api.service" {
			journal = &res.Sources[i]
		}
		assert.NotEqual(t, "journal:worker.service", s.Name)
	}
	require.NotNil(t, journal, "sources: %+v", res.Sources)
	assert.Empty(t, journal.Error)
	assert.Equal(t, 3, journal.Lines, "the three entries of the last minute")
	assert.Equal(t, 2, res.ErrorLines, "kernel lines count only through their signals")

	assert.Contains(t, codes, string(logscan.CodeErrors))
	assert.Contains(t, codes, string(logscan.CodeDependencyRefused))
	assert.Contains(t, journalCmd, "journalctl -D "+dir+" -u api.service")
	var targets []string
	for _, s := range res.Signals {
		if s.Code == logscan.CodeDependencyRefused {
			targets = append(targets, s.Target)
		}
	}
	assert.Equal(t, []string{"10.0.0.5:5432"}, targets, "neither the old entry's nor the other unit's")
	for _, s := range res.Signatures {
		assert.False(t, strings.Contains(s.Example.Text, "old failure"), "the 2-hour-old entry was read: %q", s.Example.Text)
	}
}
