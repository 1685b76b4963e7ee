package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testpriv"
)

// TestCommandAsNobody runs the routine as an unprivileged user against a
// root process and a root-only log: those two say they could not tell,
// with the reason, never that all is well; the rest of the routine still
// answers.
func TestCommandAsNobody(t *testing.T) {
	pid, log := os.Getenv("TRIAGE_TEST_PID"), os.Getenv("TRIAGE_TEST_LOG")
	if !testpriv.InChild() {
		cmd := exec.Command("sleep", "60")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		pid = strconv.Itoa(cmd.Process.Pid)
		log = filepath.Join(t.TempDir(), "secret.log")
		require.NoError(t, os.WriteFile(log, []byte("ERROR payment failed\n"), 0o600))
	}
	testpriv.AsNobody(t, func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"-json", "-timeout", "5s", "-pid", pid, "-log", log}, &out, &errb)
		assert.NotEqual(t, 2, code, errb.String())
		var doc jsonReport
		require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
		seen := map[string]bool{}
		for _, r := range doc.Results {
			seen[r.Name] = true
			switch r.Name {
			case "process " + pid:
				// What /proc/PID/stat tells anyone is reported; what
				// needs root (its fds) is an unknown finding, never OK.
				assert.NotEqual(t, "ok", r.Status, "%+v", r)
				assert.Contains(t, r.Error, "permission denied")
				var denied string
				for _, f := range r.Findings {
					if f.Code == "process.permission_denied" {
						denied = f.Status
					}
				}
				assert.Equal(t, "unknown", denied, "%+v", r)
			case "logscan":
				assert.Equal(t, "unknown", r.Status, "%+v", r)
				assert.Contains(t, r.Error, "permission denied")
			case "host":
				assert.NotEqual(t, "unknown", r.Status, "the host's numbers are readable by anyone: %+v", r)
			}
		}
		assert.True(t, seen["process "+pid] && seen["logscan"] && seen["host"], "%v", seen)
	}, "TRIAGE_TEST_PID="+pid, "TRIAGE_TEST_LOG="+log)
}

// TestContainerAsNobody aims the routine at a root process's namespaces
// without the privilege to enter them: the report says it could not tell
// and why, and shows no check of the host in the container's place.
func TestContainerAsNobody(t *testing.T) {
	pid := os.Getenv("TRIAGE_TEST_PID")
	if !testpriv.InChild() {
		cmd := exec.Command("sleep", "60")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		pid = strconv.Itoa(cmd.Process.Pid)
	}
	testpriv.AsNobody(t, func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"-json", "-timeout", "5s", "-container", pid, "-url", "http://127.0.0.1:8080/"}, &out, &errb)
		assert.Equal(t, exitCouldNotTell, code, errb.String())
		var doc jsonReport
		require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
		require.Len(t, doc.Results, 1, "nothing but the container, whose namespaces could not be entered: %s", out.String())
		assert.Equal(t, "container", doc.Results[0].Name)
		assert.Equal(t, "unknown", doc.Results[0].Status)
		assert.Contains(t, doc.Results[0].Error, "permission denied")
	}, "TRIAGE_TEST_PID="+pid)
}
