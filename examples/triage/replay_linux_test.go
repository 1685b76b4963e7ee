//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplayClassifiesLikeTheRun records a real run as JSON and reads it
// back: the verdict, the symptom and the ranking are the same, and the
// text report says that no check ran.
func TestReplayClassifiesLikeTheRun(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := dead.Addr().String()
	require.NoError(t, dead.Close())

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-addr", addr, "-symptom", "timeout", "-timeout", "5s"}, &out, &errb)
	require.NotEqual(t, exitUsage, code, errb.String())
	saved := filepath.Join(t.TempDir(), "report.json")
	require.NoError(t, os.WriteFile(saved, out.Bytes(), 0o644))
	var first jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &first))

	var again bytes.Buffer
	assert.Equal(t, code, run(context.Background(), []string{"-json", "-replay", saved}, &again, &errb), errb.String())
	var second jsonReport
	require.NoError(t, json.Unmarshal(again.Bytes(), &second))
	assert.Equal(t, first.Symptom, second.Symptom)
	assert.Equal(t, hypotheses(first), hypotheses(second))
	assert.Equal(t, len(first.Results), len(second.Results))

	var text bytes.Buffer
	assert.Equal(t, code, run(context.Background(), []string{"-replay", saved}, &text, &errb))
	assert.Contains(t, text.String(), "no check ran")
	assert.Contains(t, text.String(), "timeout was given, but the probe saw refused")

	// A symptom given now replaces the one given then.
	again.Reset()
	run(context.Background(), []string{"-json", "-replay", saved, "-symptom", "refused"}, &again, &errb)
	require.NoError(t, json.Unmarshal(again.Bytes(), &second))
	assert.Equal(t, "refused", second.Symptom)
}

// TestReplayRefusesWhatIsNotAReport: a file a caller points at is hostile
// input; it gets a usage error, quickly, and never a panic.
func TestReplayRefusesWhatIsNotAReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	cases := map[string][]string{
		"missing":        {"-replay", filepath.Join(dir, "absent.json")},
		"a directory":    {"-replay", dir},
		"a fifo":         {"-replay", fifo},
		"not json":       {"-replay", write("text", "hello")},
		"another schema": {"-replay", write("v1.json", `{"schema_version":1,"results":[]}`)},
		"a bad symptom":  {"-replay", write("sym.json", `{"schema_version":2,"input":{"symptom":"slowish","symptom_from":[],"target":{}},"results":[]}`)},
		"no check kind":  {"-replay", write("kind.json", `{"schema_version":2,"symptom":"none","results":[{"status":"fail"}]}`)},
		"checks to run":  {"-replay", write("ok.json", `{"schema_version":2,"symptom":"none","results":[]}`), "-url", "http://127.0.0.1:1/"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, exitUsage, run(context.Background(), args, &out, &errb))
			assert.NotEmpty(t, errb.String())
		})
	}
}

// TestReplayCorpus classifies the reports recorded from the fault matrix
// (classify's TRIAGE_MATRIX_RECORD) again: a rule change that moves one of
// these incidents' first hypothesis fails here. A file named
// <want>__<scenario>.json expects <want> first; "none" expects no cause.
func TestReplayCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "replay", "*.json"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skip("no recorded reports in testdata/replay")
	}
	for _, f := range files {
		want, _, ok := strings.Cut(filepath.Base(f), "__")
		require.True(t, ok, "%s is not named <want>__<scenario>.json", f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-json", "-replay", f}, &out, &errb)
			require.NotEqual(t, exitUsage, code, errb.String())
			var rep jsonReport
			require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
			if want == "none" {
				assert.Empty(t, rep.Hypotheses)
				assert.Equal(t, exitHealthy, code)
				return
			}
			require.NotEmpty(t, rep.Hypotheses)
			assert.Equal(t, want, rep.Hypotheses[0].ID, "ranking: %v", hypotheses(rep))
			assert.Equal(t, exitTrouble, code)
		})
	}
}
