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
	"go.uber.org/goleak"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-symptom", "slow"},
		{"-timeout", "0s"},
		{"-timeout", "-1s"},
		{"-nosuchflag"},
		{"stray"},
		{"-pid", "abc"},
		{"-journal-dir", "/nonexistent/journal"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, 2, run(context.Background(), args, &out, &errb))
			assert.NotEmpty(t, errb.String())
		})
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &out, &errb))
	assert.Contains(t, errb.String(), "examples:")
}

func TestJSONShape(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-symptom", "timeout", "-timeout", "5s"}, &out, &errb)
	assert.Equal(t, 1, code, "a stated symptom is trouble")
	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	for _, k := range []string{"symptom", "hypotheses", "results"} {
		assert.Contains(t, got, k)
	}
	assert.JSONEq(t, `"timeout"`, string(got["symptom"]))
	var results []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(got["results"], &results))
	var names []string
	for _, r := range results {
		for _, k := range []string{"check", "status", "findings", "duration_ms"} {
			assert.Contains(t, r, k)
		}
		var name string
		require.NoError(t, json.Unmarshal(r["check"], &name))
		names = append(names, name)
	}
	// The routine's order: resources, logs, ports, disk.
	order := map[string]int{"probe.host": 1, "logscan": 2, "sockstat": 3, "diskcheck": 5}
	for i := 1; i < len(names); i++ {
		assert.LessOrEqual(t, order[names[i-1]], order[names[i]], "results out of the routine's order: %v", names)
	}
}

func TestReportFitsNarrowTerminal(t *testing.T) {
	r := &triage.Result{Check: "diskcheck"}
	r.Add(triage.Finding{Code: "disk.full", Status: triage.Fail,
		Summary: strings.Repeat("the filesystem mounted on /var/log is completely full ", 4),
		Command: "df -h /var/log"})
	r.Finish(nil)
	plan := []planned{{step: stepDisk, check: triage.Check{Name: "diskcheck"}}}
	verdict := classify.Classify([]triage.Outcome{r}, classify.Options{})

	var out bytes.Buffer
	writeReport(&out, false, plan, []triage.Outcome{r}, verdict, time.Second)
	text := out.String()
	assert.NotContains(t, text, "\x1b[", "no colour unless asked")
	assert.Contains(t, text, "5 disk\n")
	assert.Contains(t, text, "1. disk.full")
	assert.Contains(t, text, "$ df -h /var/log")
	for _, line := range strings.Split(text, "\n") {
		assert.LessOrEqual(t, len(line), width, line)
	}

	out.Reset()
	writeReport(&out, true, plan, []triage.Outcome{r}, verdict, time.Second)
	assert.Contains(t, out.String(), "\x1b[31;1m")
}

// jsonReport is the part of the -json output the command's tests read.
type jsonReport struct {
	Hypotheses []struct {
		ID string `json:"id"`
	} `json:"hypotheses"`
	Results []struct {
		Check    string `json:"check"`
		Error    string `json:"error"`
		Findings []struct {
			Code     string         `json:"code"`
			Evidence map[string]any `json:"evidence"`
		} `json:"findings"`
		Details json.RawMessage `json:"details"`
	} `json:"results"`
}
