//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/process"
	"github.com/triagekit/triage/sockstat"
)

// envRun makes the test binary run the drill itself with these
// arguments, so that a test can send it a real SIGINT. It stops after the
// fault is set up, prints "broken <dir> <child pids>" on standard error
// and waits to be interrupted.
const envRun = "TRIAGE_DRILL_TEST_RUN"

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envServe) == "1":
		// The little server: the drill runs its own executable, which is
		// this test binary here.
		os.Exit(serve())
	case os.Getenv(envRun) != "":
		brokenHook = func(ctx context.Context, _ int, dir string) {
			fmt.Fprintf(os.Stderr, "broken %s %s\n", dir, strings.Trim(fmt.Sprint(children()), "[]"))
			<-ctx.Done()
		}
		os.Args = append(os.Args[:1], strings.Fields(os.Getenv(envRun))...)
		main()
	}
	goleak.VerifyTestMain(m)
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-step", "4"}, {"-step", "-1"}, {"-timeout", "0s"}, {"-top", "0"}, {"-nope"}, {"stray"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, 2, run(context.Background(), args, &out, &errb))
			assert.NotEmpty(t, errb.String())
		})
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &out, &errb))
	assert.Contains(t, errb.String(), "3 disk")
}

// TestSteps runs each exercise for real and checks that the diagnosis
// names what was broken, with the findings that should carry it, and that
// nothing the step made is left.
func TestSteps(t *testing.T) {
	tests := []struct {
		step    int
		want    classify.ID
		symptom classify.Symptom
		// evidence must support the top hypothesis.
		evidence []triage.Code
		// also must be found by some check.
		also []triage.Code
	}{
		{1, classify.RefusedNotListening, classify.Refused,
			[]triage.Code{sockstat.CodeNoListener, probe.CodeTCPRefused}, []triage.Code{process.CodeRunning}},
		{2, classify.DNSMismatch, classify.Refused,
			[]triage.Code{dnscheck.CodeMismatch}, []triage.Code{probe.CodeHTTPOK, probe.CodeTCPRefused}},
		{3, classify.DiskFullWrites, classify.Status5xx,
			[]triage.Code{logscan.CodeDiskFull, diskcheck.CodeFull}, []triage.Code{probe.CodeHTTPStatus5xx}},
	}
	for _, tt := range tests {
		t.Run(steps[tt.step-1].name, func(t *testing.T) {
			tmp := isolate(t)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-step", strconv.Itoa(tt.step), "-json", "-top", "10"}, &out, &errb)
			var outs []outcome
			require.NoError(t, json.Unmarshal(out.Bytes(), &outs), "stdout: %s\nstderr: %s", out.String(), errb.String())
			require.Len(t, outs, 1)
			o := outs[0]
			assertNothingLeft(t, tmp)
			if o.Skipped != "" {
				assert.Equal(t, 0, code, "a skipped step is no failure")
				t.Skip(o.Skipped)
			}
			require.Empty(t, o.Error)
			assert.Equal(t, 0, code)
			assert.Equal(t, tt.want, o.Want)
			assert.Equal(t, tt.symptom, o.Symptom)
			require.NotEmpty(t, o.Hypotheses)
			top := o.Hypotheses[0]
			assert.Equal(t, tt.want, top.ID, "ranking: %+v", o.Hypotheses)
			assert.Equal(t, tt.want, o.Top)
			assert.True(t, o.Match)
			for _, c := range tt.evidence {
				assert.True(t, cites(top.Evidence, c), "%s supports %s", c, top.ID)
			}
			for _, c := range tt.also {
				assert.True(t, found(o.Results, c), "a check found %s", c)
			}
			assert.NotEmpty(t, top.Next, "the commands a person would run")
			assert.NotEmpty(t, o.Broke)
			assert.NotEmpty(t, o.Before)
		})
	}
}

func TestReport(t *testing.T) {
	isolate(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-step", "1"}, &out, &errb)
	assert.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errb.String())
	text := out.String()
	for _, w := range []string{"step 1 refused:", "broke:", "symptom: refused", "1. " + string(classify.RefusedNotListening), "$ ss -lntp", "verdict: diagnosed", "1 of 1 steps diagnosed"} {
		assert.Contains(t, text, w)
	}
}

// TestInterrupted cancels the run while the fault is in place, as Ctrl-C
// does, and checks that the server, its mount and the directory are gone
// all the same.
func TestInterrupted(t *testing.T) {
	for _, step := range []int{1, 3} {
		t.Run(strconv.Itoa(step), func(t *testing.T) {
			tmp := isolate(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var held []int
			var mounted bool
			brokenHook = func(_ context.Context, _ int, dir string) {
				held = children()
				mounted = isMounted(dir)
				cancel()
			}
			defer func() { brokenHook = nil }()
			var out, errb bytes.Buffer
			code := run(ctx, []string{"-step", strconv.Itoa(step), "-json"}, &out, &errb)
			var outs []outcome
			require.NoError(t, json.Unmarshal(out.Bytes(), &outs), out.String())
			require.Len(t, outs, 1)
			if outs[0].Skipped != "" {
				t.Skip(outs[0].Skipped)
			}
			assert.Equal(t, 1, code)
			assert.Contains(t, outs[0].Error, "interrupted")
			assert.False(t, outs[0].Match)
			require.NotEmpty(t, held, "the server was running when interrupted")
			if step == 3 {
				assert.True(t, mounted, "the tmpfs was mounted when interrupted")
			}
			assertNothingLeft(t, tmp)
			for _, pid := range held {
				assert.NoDirExists(t, fmt.Sprintf("/proc/%d", pid), "the server was stopped and reaped")
			}
		})
	}
}

// held is a drill run by the test binary, stopped with its fault in
// place.
type held struct {
	cmd  *exec.Cmd
	out  *bufio.Scanner
	dir  string
	pids []int
}

// startHeld starts the drill on step in a separate process and waits for
// its fault to be in place.
func startHeld(t *testing.T, tmp, step string) *held {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envRun+"=-step "+step, "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	h := &held{cmd: cmd, out: bufio.NewScanner(stderr)}
	var fields []string
	for h.out.Scan() {
		if f := strings.Fields(h.out.Text()); len(f) > 0 && f[0] == "broken" {
			fields = f[1:]
			break
		}
	}
	require.NotEmpty(t, fields, "the drill never broke anything")
	h.dir = fields[0]
	require.DirExists(t, h.dir)
	for _, s := range fields[1:] {
		pid, err := strconv.Atoi(s)
		require.NoError(t, err)
		h.pids = append(h.pids, pid)
	}
	require.NotEmpty(t, h.pids, "the server runs")
	if step == "3" {
		require.True(t, isMounted(h.dir))
	}
	return h
}

// wait reads the drill's output to its end and returns its exit status.
func (h *held) wait(t *testing.T) int {
	for h.out.Scan() {
	}
	err := h.cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	return ee.ExitCode()
}

// rootStep is the step with the most to clean up that can run here.
func rootStep() string {
	if os.Geteuid() == 0 {
		return "3"
	}
	return "1"
}

// TestSIGINT sends a real SIGINT to a drill whose fault is in place.
func TestSIGINT(t *testing.T) {
	tmp := t.TempDir()
	h := startHeld(t, tmp, rootStep())
	require.NoError(t, h.cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, 1, h.wait(t), "an interrupted drill diagnosed nothing")
	assertNothingLeft(t, tmp)
	for _, pid := range h.pids {
		assert.NoDirExists(t, fmt.Sprintf("/proc/%d", pid))
	}
}

// TestSIGKILL kills a drill whose fault is in place, so that nothing of
// its own cleanup runs: its server dies with it, and the next drill
// removes the lab and its mount.
func TestSIGKILL(t *testing.T) {
	tmp := t.TempDir()
	h := startHeld(t, tmp, rootStep())
	require.NoError(t, h.cmd.Process.Kill())
	assert.Equal(t, -1, h.wait(t), "killed by a signal")
	for _, pid := range h.pids {
		assert.Eventually(t, func() bool { return !running(pid) }, 10*time.Second, 20*time.Millisecond,
			"the server pid %d dies with the drill", pid)
	}
	assert.DirExists(t, h.dir, "a killed drill cleans nothing")

	t.Setenv("TMPDIR", tmp)
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-step", "1"}, &out, &errb), errb.String())
	assert.Contains(t, errb.String(), h.dir)
	assertNothingLeft(t, tmp)
}

// running reports whether pid exists and is not a zombie waiting for a
// parent that does not reap.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(after, "Z") && !strings.HasPrefix(after, "X")
}

// isolate points the drill's temporary directories at a fresh directory
// and returns it.
func isolate(t *testing.T) string {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := sockets(t)
	t.Cleanup(func() {
		assert.Subset(t, before, sockets(t), "no socket of the drill is left open")
	})
	return tmp
}

// assertNothingLeft checks that no directory, mount or child process of
// the drill is left.
func assertNothingLeft(t *testing.T, tmp string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(tmp, "triage-drill-*"))
	require.NoError(t, err)
	assert.Empty(t, left, "temporary directories")
	mi, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	for _, line := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			assert.False(t, strings.HasPrefix(f[4], tmp), "mount left: %s", line)
		}
	}
	assert.Empty(t, children(), "child processes")
}

func isMounted(dir string) bool {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			return true
		}
	}
	return false
}

// children lists this process's children, from every thread's
// /proc/self/task/*/children.
func children() []int {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(s); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// sockets lists the socket inodes this process holds.
func sockets(t *testing.T) []string {
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	var out []string
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			out = append(out, l)
		}
	}
	return out
}

func cites(refs []classify.Ref, c triage.Code) bool {
	for _, r := range refs {
		if r.Code == c {
			return true
		}
	}
	return false
}

func found(results []triage.Record, c triage.Code) bool {
	for _, r := range results {
		for _, f := range r.Findings {
			if f.Code == c {
				return true
			}
		}
	}
	return false
}

// TestSweep leaves a lab as a crashed drill would, its tmpfs still
// mounted when root, and checks that the next drill removes it but not
// the lab of a drill still running.
func TestSweep(t *testing.T) {
	tmp := isolate(t)
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	stale := filepath.Join(tmp, "triage-drill-stale")
	require.NoError(t, os.MkdirAll(filepath.Join(stale, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stale, labOwner), []byte(strconv.Itoa(dead.Process.Pid)), 0o644))
	if os.Geteuid() == 0 {
		require.NoError(t, syscall.Mount("tmpfs", filepath.Join(stale, "logs"), "tmpfs", 0, "size=64k"))
		t.Cleanup(func() { _ = syscall.Unmount(filepath.Join(stale, "logs"), syscall.MNT_DETACH) })
		require.True(t, isMounted(stale))
	}
	live := filepath.Join(tmp, "triage-drill-live")
	require.NoError(t, os.Mkdir(live, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(live, labOwner), []byte(strconv.Itoa(os.Getpid())), 0o644))

	var out, errb bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-step", "1"}, &out, &errb), errb.String())
	assert.Contains(t, errb.String(), stale)
	assert.NoDirExists(t, stale)
	assert.False(t, isMounted(stale))
	assert.DirExists(t, live, "a running drill's lab stays")
	require.NoError(t, os.RemoveAll(live))
	assertNothingLeft(t, tmp)
}
