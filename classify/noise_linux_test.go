//go:build linux

package classify_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/internal/testmount"
)

// startNoise makes this host busy the way real hosts are, for the whole of
// the noisy matrix run, with trouble that has nothing to do with any
// scenario's target: one core busy, an unrelated process OOM-killed in a
// memory cgroup of its own, an unrelated tmpfs nearly full, thousands of
// TIME-WAIT sockets from an unrelated client, and a zombie. All of it is
// undone when the run ends.
func startNoise(t *testing.T) {
	// One core busy, as another tenant's batch job would keep it.
	spin := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, spin.Start())
	t.Cleanup(func() {
		_ = spin.Process.Kill()
		_ = spin.Wait()
	})

	// A zombie: sleep 0 exits, and its parent, which is now sleep 600,
	// never reaps it.
	zombie := exec.Command("sh", "-c", "sleep 0 & exec sleep 600")
	require.NoError(t, zombie.Start())
	t.Cleanup(func() {
		_ = zombie.Process.Kill()
		_ = zombie.Wait()
	})

	// An unrelated tmpfs, 96% full.
	dir := testmount.Tmpfs(t, "size=1m")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "batch.out"), make([]byte, 1006<<10), 0o644))

	// Thousands of TIME-WAIT sockets: a client that opens and closes
	// connections to a server of its own, closing first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 1)
				_, _ = c.Read(buf) // until the client closes
				c.Close()
			}()
		}
	}()
	for range 3000 {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		c.Close()
	}

	// An unrelated batch job killed by the OOM killer in its own cgroup,
	// within every scenario's window.
	oomKill(t)
	time.Sleep(100 * time.Millisecond)
}

// record writes the scenario's report as the triage command's -json
// would, when TRIAGE_MATRIX_RECORD names a directory: examples/triage
// replays those files as regression cases (TestReplayCorpus).
func record(t *testing.T, run string, sc scenario, opts classify.Options, rep classify.Report, results []triage.Outcome) {
	dir := os.Getenv("TRIAGE_MATRIX_RECORD")
	if dir == "" {
		return
	}
	want := string(sc.want)
	if want == "" {
		want = "none"
	}
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(sc.name), "-"), "-")
	verdict := "healthy"
	switch _, ok := rep.Cause(); {
	case ok:
		verdict = "trouble"
	case rep.Inconclusive:
		verdict = "could not tell"
	}
	from := opts.SymptomFrom
	if from == nil {
		from = []string{}
	}
	doc := map[string]any{
		"schema_version": 2, "verdict": verdict, "symptom": rep.Symptom, "symptom_derived": rep.Derived,
		"hypotheses": rep.Hypotheses, "inconclusive": rep.Inconclusive, "background": rep.Background,
		"ruled_out": rep.RuledOut,
		"input":     map[string]any{"symptom": classify.None, "symptom_from": from, "target": opts.Target},
		"results":   results, "elapsed_ns": 0,
	}
	if opts.Symptom != "" {
		doc["input"].(map[string]any)["symptom"] = opts.Symptom
	}
	if rep.Contradicted {
		doc["symptom_given"], doc["symptom_contradicted"] = rep.Given, true
	}
	if rep.Close != nil {
		doc["close"] = rep.Close
	}
	b, err := json.MarshalIndent(doc, "", " ")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s__%s-%s.json", want, run, slug)), append(b, '\n'), 0o644))
}
