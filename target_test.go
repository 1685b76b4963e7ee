package triage_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want triage.Target
	}{
		{"http://127.0.0.1:8080/health", triage.Target{URL: "http://127.0.0.1:8080/health", Host: "127.0.0.1", Port: 8080}},
		{"https://api.example.com/", triage.Target{URL: "https://api.example.com/", Host: "api.example.com", Port: 443}},
		{"http://admin:hunter2@db.internal/x", triage.Target{URL: "http://admin:xxxxx@db.internal/x", Host: "db.internal", Port: 80}},
		{"db.internal:5432", triage.Target{Host: "db.internal", Port: 5432}},
		{"[::1]:53", triage.Target{Host: "::1", Port: 53}},
		{":8080", triage.Target{Host: "localhost", Port: 8080}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := triage.ParseTarget(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{"", "nohost", "http://", "ftp://x/", "x:0", "x:99999", "http://a:b@:80/", "gopher://u:secret@h/",
		"::1:53", "[::1:53", "[::1]x:53", "a]:1"} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := triage.ParseTarget(bad)
			assert.ErrorIs(t, err, triage.ErrInvalid)
			if err != nil {
				assert.NotContains(t, err.Error(), "secret", "a password never reaches an error")
			}
		})
	}
}

func TestTargetMergeAndJSON(t *testing.T) {
	asked := triage.Target{URL: "http://localhost:8080/", Host: "localhost", Port: 8080, Paths: []string{"/data"}}
	found := triage.Target{Addr: netip.MustParseAddrPort("127.0.0.1:8080"), PID: 42, Port: 9, Paths: []string{"/data", "/var/log/app.log"}}
	m := asked.Merge(found)
	assert.Equal(t, 8080, m.Port, "what is set stays")
	assert.Equal(t, 42, m.PID)
	assert.Equal(t, []string{"/data", "/var/log/app.log"}, m.Paths)
	assert.Equal(t, []string{"/data"}, asked.Paths, "merge does not write into the receiver's paths")
	assert.Equal(t, "http://localhost:8080/", m.String())
	assert.Equal(t, "[::1]:53", triage.Target{Host: "::1", Port: 53}.HostPort())
	assert.Equal(t, "db:5432", triage.Target{Host: "db", Port: 5432}.String())
	assert.True(t, triage.Target{}.IsZero())
	assert.False(t, m.IsZero())

	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"http://localhost:8080/","host":"localhost","port":8080,"addr":"127.0.0.1:8080","pid":42,"paths":["/data","/var/log/app.log"]}`, string(b))
	var back triage.Target
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, m, back)
	b, err = json.Marshal(triage.Target{})
	require.NoError(t, err)
	assert.Equal(t, "{}", string(b))

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("t", "target", m)
	assert.Contains(t, buf.String(), "target.addr=127.0.0.1:8080")
}

func TestResultLogValue(t *testing.T) {
	r := &typed{Result: triage.Begin("sockstat", triage.Target{Port: 8080}), Port: 8080}
	r.Add(triage.Finding{Code: "sockstat.no_listener", Status: triage.Fail, Summary: "no listener on :8080"},
		triage.Finding{Code: "sockstat.fine", Status: triage.OK})
	r.Finish(nil)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("done", "result", r)
	out := buf.String()
	assert.Contains(t, out, "result.check=sockstat")
	assert.Contains(t, out, "result.status=fail")
	assert.Contains(t, out, "result.target.port=8080")
	assert.Contains(t, out, "result.findings.sockstat.no_listener.summary=")
	assert.NotContains(t, out, "sockstat.fine", "passing findings stay out of the log line")
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"http://admin:hunter2@api.internal:8080/x": "http://admin:xxxxx@api.internal:8080/x",
		"postgres://app:s3cret@db:5432/orders":     "postgres://app:xxxxx@db:5432/orders",
		"http://admin@api.internal/":               "http://admin@api.internal/",
		"http://api.internal/a@b":                  "http://api.internal/a@b",
		// Does not parse, still no password printed.
		"http://a:pw123@[bad/":        "http://a:xxxxx@[bad/",
		"http://a:p@w%zz@host:80/p@q": "http://a:xxxxx@host:80/p@q",
		"db.internal:5432":            "db.internal:5432",
		"not a url":                   "not a url",
	} {
		assert.Equal(t, want, triage.Redact(in), in)
	}
}
