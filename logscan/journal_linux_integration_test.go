//go:build linux

package logscan

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// exportEntry is one entry in the Journal Export Format.
type exportEntry struct {
	at     time.Time
	unit   string
	prio   int
	msg    string
	fields map[string]string
}

// writeJournal turns entries into real journal files under dir with
// systemd-journal-remote, which reads the Journal Export Format; the
// real journalctl then reads them back. It skips when the tool is absent.
func writeJournal(t *testing.T, dir string, entries []exportEntry) {
	t.Helper()
	var remote string
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			remote = p
		}
	}
	if remote == "" {
		t.Skip("needs systemd-journal-remote (Debian package systemd-journal-remote) to write journal files")
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("needs journalctl")
	}
	var b bytes.Buffer
	field := func(k, v string) {
		if !strings.Contains(v, "\n") {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
			return
		}
		// Multi-line values are written in the binary form.
		b.WriteString(k + "\n")
		_ = binary.Write(&b, binary.LittleEndian, uint64(len(v)))
		b.WriteString(v + "\n")
	}
	for i, e := range entries {
		field("__CURSOR", fmt.Sprintf("s=0;i=%x", i+1))
		field("__REALTIME_TIMESTAMP", fmt.Sprint(e.at.UnixMicro()))
		field("__MONOTONIC_TIMESTAMP", fmt.Sprint(i+1))
		field("_BOOT_ID", "0123456789abcdef0123456789abcdef")
		field("_SYSTEMD_UNIT", e.unit)
		field("PRIORITY", fmt.Sprint(e.prio))
		field("MESSAGE", e.msg)
		for k, v := range e.fields {
			field(k, v)
		}
		b.WriteByte('\n')
	}
	cmd := exec.Command(remote, "--output="+filepath.Join(dir, "test.journal"), "--split-mode=none", "-")
	cmd.Stdin = &b
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// TestIntegrationJournalDir reads real journal files through the real
// journalctl: units are told apart, the since window is journalctl's,
// priorities make errors, a multi-line message keeps its stack.
func TestIntegrationJournalDir(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	writeJournal(t, dir, []exportEntry{
		{at: now.Add(-2 * time.Hour), unit: "api.service", prio: 3, msg: "old failure outside the window"},
		{at: now.Add(-50 * time.Second), unit: "api.service", prio: 6, msg: "listening on :8080"},
		{at: now.Add(-40 * time.Second), unit: "api.service", prio: 3, msg: "payment failed for order 991"},
		{at: now.Add(-30 * time.Second), unit: "api.service", prio: 6,
			msg:    `{"level":"error","msg":"db down","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","error":"dial tcp 10.0.0.5:5432: connect: connection refused"}`,
			fields: map[string]string{"SYSLOG_IDENTIFIER": "api"}},
		{at: now.Add(-20 * time.Second), unit: "api.service", prio: 6,
			msg: "2026-11-25 07:58:03,000 ERROR [main] c.e.Api - call failed\njava.lang.IllegalStateException: boom\n\tat com.example.Api.call(Api.java:12)"},
		{at: now.Add(-10 * time.Second), unit: "worker.service", prio: 2, msg: "worker crashed: out of memory"},
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
	assert.Contains(t, f.Command, "journalctl -D "+shellQuote(dir)+" -u api.service")

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
