package logscan

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// fakeJournalctl writes a shell script standing in for journalctl. It
// records its arguments in args, one call a line, and runs body.
func fakeJournalctl(t *testing.T, body string) (path, args string) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	path = filepath.Join(dir, "journalctl")
	args = filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$*\" >> " + args + "\n" + body + "\n"
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path, args
}

const journalEntries = `cat <<'EOF'
{"__REALTIME_TIMESTAMP":"1764057480000000","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":"listening on :8080"}
{"__REALTIME_TIMESTAMP":"1764057481000000","PRIORITY":"3","_SYSTEMD_UNIT":"api.service","MESSAGE":"payment failed for order 991"}
{"__REALTIME_TIMESTAMP":"1764057482000000","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":"{\"level\":\"error\",\"msg\":\"db down\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"error\":\"dial tcp 10.0.0.5:5432: connect: connection refused\"}"}
{"__REALTIME_TIMESTAMP":"1764057483000000","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":"2026-11-25 07:58:03,000 ERROR [main] c.e.Api - call failed\njava.lang.IllegalStateException: boom\n\tat com.example.Api.call(Api.java:12)"}
{"__REALTIME_TIMESTAMP":"1764057484000000","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":"panic: runtime error: index out of range"}
{"__REALTIME_TIMESTAMP":"1764057484000001","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":""}
{"__REALTIME_TIMESTAMP":"1764057484000002","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":"goroutine 1 [running]:"}
{"__REALTIME_TIMESTAMP":"1764057484000003","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":"main.main()"}
{"__REALTIME_TIMESTAMP":"1764057485000000","PRIORITY":"4","_SYSTEMD_UNIT":"api.service","MESSAGE":[101,114,114,58,32,255,0,32,69,82,82,79,82]}
{"__REALTIME_TIMESTAMP":"1764057486000000","PRIORITY":"6","_SYSTEMD_UNIT":"api.service","MESSAGE":null}
not json at all
EOF`

func TestJournal(t *testing.T) {
	jctl, argsFile := fakeJournalctl(t, journalEntries)
	o := Options{Units: []string{"api.service"}, JournalctlPath: jctl, Now: fixedNow, Location: time.UTC,
		Since: 10 * time.Minute, Lines: 500, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
	r := Check(context.Background(), o)
	require.NoError(t, r.Err)
	require.Len(t, r.Sources, 1)
	assert.Equal(t, "journal:api.service", r.Sources[0].Name)
	assert.Equal(t, 12, r.Lines)
	assert.Equal(t, 12, r.Sources[0].Lines)
	assert.Equal(t, 5, r.ErrorLines)
	assert.Equal(t, 2, r.StackTraces)
	assert.Equal(t, 1, signal(t, r, CodeDependencyRefused, "10.0.0.5:5432").Count)
	require.Len(t, r.Trace, 1)
	assert.Equal(t, time.UnixMicro(1764057482000000), r.Trace[0].Time)

	got, err := os.ReadFile(argsFile)
	require.NoError(t, err)
	assert.Equal(t, "-o json --no-pager -q -u api.service -n 500 --since=@"+
		itoa(testNow.Add(-10*time.Minute).Unix())+"\n", string(got))

	var sigs []string
	for _, s := range r.Signatures {
		sigs = append(sigs, s.Pattern)
	}
	assert.Contains(t, sigs, "payment failed for order <n>", "priority 3 makes an error")
	assert.Contains(t, sigs, "err: \uFFFD\uFFFD ERROR", "a byte-array MESSAGE is made safe")
	assert.Contains(t, sigs, "panic: runtime error: index out of range")
	assert.Equal(t, "journalctl -u api.service --no-pager -n 500 --since '10 minutes ago' | grep -F refused",
		findingOf(t, r, CodeDependencyRefused).Command)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func findingOf(t *testing.T, r Result, code triage.Code) triage.Finding {
	t.Helper()
	f, ok := r.Find(code)
	require.True(t, ok, "no %s in %v", code, codes(r))
	return f
}

func TestJournalUnavailable(t *testing.T) {
	t.Run("no journalctl", func(t *testing.T) {
		r := Check(context.Background(), Options{Units: []string{"x"}, JournalctlPath: filepath.Join(t.TempDir(), "journalctl")})
		assert.ErrorIs(t, r.Err, ErrNoJournal)
		assert.Equal(t, triage.Unknown, r.Status)
	})
	t.Run("no journalctl in PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		r := Check(context.Background(), Options{Units: []string{"x"}})
		assert.ErrorIs(t, r.Err, ErrNoJournal)
	})
	t.Run("no journal files", func(t *testing.T) {
		// Like systemd 252: silent in JSON mode, says so otherwise.
		jctl, _ := fakeJournalctl(t, `case "$*" in *json*) exit 0;; esac
echo "-- No entries --"; echo "No journal files were found." >&2`)
		r := Check(context.Background(), Options{Units: []string{"x"}, JournalctlPath: jctl})
		assert.ErrorIs(t, r.Err, ErrNoJournal)
		assert.Equal(t, triage.Unknown, r.Status)
	})
	t.Run("empty window is fine", func(t *testing.T) {
		jctl, _ := fakeJournalctl(t, `exit 0`)
		r := Check(context.Background(), Options{Units: []string{"x"}, JournalctlPath: jctl})
		require.NoError(t, r.Err)
		assert.Equal(t, triage.OK, r.Status)
	})
	t.Run("journalctl fails", func(t *testing.T) {
		jctl, _ := fakeJournalctl(t, `echo "Failed to add filter for units: No data available" >&2; exit 1`)
		r := Check(context.Background(), Options{Units: []string{"x"}, JournalctlPath: jctl})
		require.Error(t, r.Err)
		assert.NotErrorIs(t, r.Err, ErrNoJournal)
		assert.Equal(t, triage.Unknown, r.Status)
	})
}

func TestJournalDeadline(t *testing.T) {
	tests := []struct{ name, body string }{
		{"hangs", `exec sleep 60`},
		{"child holds stdout", `echo '{"MESSAGE":"ERROR first","PRIORITY":"3"}'; sleep 60; echo done`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jctl, _ := fakeJournalctl(t, tt.body)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			r := Check(ctx, Options{Units: []string{"x"}, JournalctlPath: jctl})
			assert.Less(t, time.Since(start), 300*time.Millisecond+time.Second)
			assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
			if tt.name == "hangs" {
				assert.Equal(t, triage.Unknown, r.Status)
			} else {
				assert.Equal(t, 1, r.ErrorLines, "what was read before the deadline is kept")
			}
		})
	}
}

func TestJournalMaxBytes(t *testing.T) {
	jctl, _ := fakeJournalctl(t, `while :; do echo '{"MESSAGE":"INFO all good","PRIORITY":"6"}'; done`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Check(ctx, Options{Units: []string{"x"}, JournalctlPath: jctl, MaxBytes: 64 << 10})
	require.NoError(t, r.Err)
	assert.True(t, r.Sources[0].Capped)
	assert.GreaterOrEqual(t, r.Sources[0].Bytes, int64(64<<10))
}

func TestParseJournalEntry(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		msg   string
		level string
		ok    bool
	}{
		{"string", `{"MESSAGE":"hi","PRIORITY":"3","__REALTIME_TIMESTAMP":"1"}`, "hi", "error", true},
		{"bytes", `{"MESSAGE":[104,105]}`, "hi", "", true},
		{"null", `{"MESSAGE":null,"PRIORITY":"6"}`, "", "info", true},
		{"number", `{"MESSAGE":5}`, "", "", false},
		{"garbage", `{`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, meta, ok := parseJournalEntry([]byte(tt.in))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.msg, string(msg))
			assert.Equal(t, tt.level, meta.level)
		})
	}
}
