package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
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
		{"-symptom", "sluggish"},
		{"-timeout", "0s"},
		{"-timeout", "-1s"},
		{"-nosuchflag"},
		{"stray"},
		{"-pid", "abc"},
		{"-journal-dir", "/nonexistent/journal"},
		{"-dns", "a..b", "-timeout", "3s"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, exitUsage, run(context.Background(), args, &out, &errb))
			assert.NotEmpty(t, errb.String())
			assert.Empty(t, out.String())
			assert.LessOrEqual(t, strings.Count(errb.String(), "\n"), 2, "one line and a hint, not the whole usage: %s", errb.String())
		})
	}
	for _, help := range []string{"-h", "-help", "--help"} {
		var out, errb bytes.Buffer
		assert.Equal(t, exitHealthy, run(context.Background(), []string{help}, &out, &errb))
		assert.Contains(t, out.String(), "examples:", "help goes to stdout")
		assert.Contains(t, out.String(), "-timeout")
		assert.Contains(t, out.String(), "exit status")
		assert.Empty(t, errb.String())
	}
	var out, errb bytes.Buffer
	assert.Equal(t, exitHealthy, run(context.Background(), []string{"-version"}, &out, &errb))
	assert.Regexp(t, `^triage \S+ go1\.`, out.String())
}

func TestExitStatus(t *testing.T) {
	res := func(s triage.Status) triage.Outcome {
		r := &triage.Result{Check: "x"}
		r.Add(triage.Finding{Code: "x.y", Status: s})
		if s == triage.Unknown {
			r.Finish(context.DeadlineExceeded)
		} else {
			r.Finish(nil)
		}
		return r
	}
	diskFull := func() triage.Outcome {
		r := &triage.Result{Check: "diskcheck"}
		r.Add(triage.Finding{Code: "disk.full", Status: triage.Fail})
		r.Finish(nil)
		return r
	}
	tests := []struct {
		name    string
		symptom classify.Symptom
		target  triage.Target
		results []triage.Outcome
		want    int
	}{
		{"all ok", classify.None, triage.Target{}, []triage.Outcome{res(triage.OK), res(triage.Warn)}, exitHealthy},
		{"one could not tell", classify.None, triage.Target{}, []triage.Outcome{res(triage.OK), res(triage.Unknown)}, exitCouldNotTell},
		{"a failure nothing explains", classify.None, triage.Target{}, []triage.Outcome{res(triage.Unknown), res(triage.Fail)}, exitCouldNotTell},
		{"a symptom without a cause", classify.Timeout, triage.Target{}, []triage.Outcome{res(triage.Unknown)}, exitCouldNotTell},
		{"a cause", classify.None, triage.Target{}, []triage.Outcome{diskFull()}, exitTrouble},
		{"trouble elsewhere on the host", classify.None, triage.Target{PID: 1}, []triage.Outcome{diskFull()}, exitHealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdict := classify.Classify(tt.results, classify.Options{Symptom: tt.symptom, Target: tt.target})
			assert.Equal(t, tt.want, exitStatus(verdict, tt.results))
		})
	}
}

// TestCouldNotTellHasItsOwnExitStatus: with no time to look, the checks
// could not tell; unless one of them saw a failure in that time, that is
// neither healthy nor trouble, and the text and the JSON say so too.
func TestCouldNotTellHasItsOwnExitStatus(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-timeout", "1ms", "-json"}, &out, &errb)
	var doc struct {
		Verdict string `json:"verdict"`
		Results []struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	want, unknown := exitHealthy, 0
	for _, r := range doc.Results {
		switch r.Status {
		case "fail":
			want = exitTrouble
		case "unknown":
			unknown++
			if want == exitHealthy {
				want = exitCouldNotTell
			}
		}
	}
	require.Positive(t, unknown, "1ms is too short for some checks")
	assert.Equal(t, want, code, out.String())
	assert.Equal(t, verdicts[want], doc.Verdict)

	out.Reset()
	code = run(context.Background(), []string{"-timeout", "1ms"}, &out, &errb)
	assert.Contains(t, out.String(), fmt.Sprintf("%s (exit %d)", verdicts[code], code), "the text says what the exit status says")
}

func TestJSONShape(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-symptom", "timeout", "-timeout", "5s"}, &out, &errb)
	assert.Equal(t, exitTrouble, code, "a stated symptom is trouble")
	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	for _, k := range []string{"schema_version", "verdict", "symptom", "symptom_derived", "hypotheses", "results", "elapsed_ns"} {
		assert.Contains(t, got, k)
	}
	assert.JSONEq(t, `"timeout"`, string(got["symptom"]))
	assert.JSONEq(t, `false`, string(got["symptom_derived"]), "given, not derived")
	assert.JSONEq(t, `"trouble"`, string(got["verdict"]))
	var results []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(got["results"], &results))
	var names []string
	for _, r := range results {
		for _, k := range []string{"check", "status", "findings", "duration_ns"} {
			assert.Contains(t, r, k)
		}
		var name string
		require.NoError(t, json.Unmarshal(r["check"], &name))
		names = append(names, name)
	}
	// The routine's order: resources, logs, ports, disk.
	order := map[string]int{"host": 1, "process": 1, "logscan": 2, "sockstat": 3, "diskcheck": 5}
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
	writeReport(&out, reportOptions{code: exitTrouble}, plan, []triage.Outcome{r}, verdict, time.Second)
	text := out.String()
	assert.NotContains(t, text, "\x1b[", "no colour unless asked")
	assert.Contains(t, text, "5 disk\n")
	assert.Contains(t, text, "1. disk.full")
	assert.Contains(t, text, "$ df -h /var/log")
	for _, line := range strings.Split(text, "\n") {
		assert.LessOrEqual(t, len(line), width, line)
	}

	out.Reset()
	writeReport(&out, reportOptions{color: true, code: exitTrouble}, plan, []triage.Outcome{r}, verdict, time.Second)
	assert.Contains(t, out.String(), "\x1b[31;1m")
}

// jsonReport is the part of the -json output the command's tests read.
type jsonReport struct {
	Symptom    string `json:"symptom"`
	Hypotheses []struct {
		ID string `json:"id"`
	} `json:"hypotheses"`
	Results []resultDoc `json:"results"`
}

// resultDoc is one result of the -json output: its common fields, and the
// whole object, to read the typed fields from.
type resultDoc struct {
	Check    string       `json:"check"`
	Name     string       `json:"name"`
	Status   string       `json:"status"`
	Error    string       `json:"error"`
	Findings []findingDoc `json:"findings"`
	raw      []byte
}

type findingDoc struct {
	Code     string         `json:"code"`
	Status   string         `json:"status"`
	Summary  string         `json:"summary"`
	Command  string         `json:"command"`
	Evidence map[string]any `json:"evidence"`
}

func (r *resultDoc) UnmarshalJSON(b []byte) error {
	type plain resultDoc
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	r.raw = append([]byte(nil), b...)
	return nil
}

// typed reads the whole result into its typed struct.
func (r resultDoc) typed(o triage.Outcome) error {
	var rec triage.Record
	if err := json.Unmarshal(r.raw, &rec); err != nil {
		return err
	}
	return rec.Into(o)
}

// TestReadOnlySendsNothing: -read-only runs no probe and says so; the
// socket check still runs, from /proc/net.
func TestReadOnlySendsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	var out, errb bytes.Buffer
	run(context.Background(), []string{"-json", "-read-only", "-timeout", "3s", "-url", "http://" + ln.Addr().String() + "/", "-dep", ln.Addr().String()}, &out, &errb)
	var rep struct {
		Input   input       `json:"input"`
		Results []resultDoc `json:"results"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), errb.String())
	assert.True(t, rep.Input.ReadOnly)
	kinds := map[string]bool{}
	for _, r := range rep.Results {
		kinds[r.Check] = true
	}
	assert.False(t, kinds["probe.http"] || kinds["probe.tcp"] || kinds["dnscheck"], "%v", kinds)
	assert.True(t, kinds["sockstat"])
	select {
	case <-accepted:
		t.Error("a connection reached the target")
	default:
	}
	out.Reset()
	run(context.Background(), []string{"-read-only", "-timeout", "3s", "-url", "http://" + ln.Addr().String() + "/"}, &out, &errb)
	assert.Contains(t, out.String(), "read-only: no request")
}
