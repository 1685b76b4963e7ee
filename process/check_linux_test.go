package process

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/procfs"
	"github.com/triagekit/triage/internal/testcgroup"
	"go.uber.org/goleak"
)

// helperEnv marks a re-executed test binary that plays a child process
// (see TestHelperProcess) instead of running tests.
const helperEnv = "PROCESS_TEST_HELPER"

func fixture(opts Options) Result {
	opts.ProcRoot = filepath.Join("testdata", "proc")
	if opts.Window == 0 {
		opts.Window = time.Millisecond
	}
	return Check(context.Background(), opts)
}

func findingCodes(fs []triage.Finding) map[triage.Code]triage.Status {
	m := map[triage.Code]triage.Status{}
	for _, f := range fs {
		if s, ok := m[f.Code]; !ok || f.Status.Worse(s) {
			m[f.Code] = f.Status
		}
	}
	return m
}

func TestFixtureSelectors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		pids  []int
		codes map[triage.Code]triage.Status
	}{
		{"name with spaces and parentheses", Options{Name: "my (odd) srv"}, []int{4242},
			map[triage.Code]triage.Status{CodeRunning: triage.OK, CodeFDsNearLimit: triage.Warn}},
		{"command line substring", Options{Cmdline: "--config /etc/odd"}, []int{4242},
			map[triage.Code]triage.Status{CodeRunning: triage.OK, CodeFDsNearLimit: triage.Warn}},
		{"pid", Options{PID: 4242}, []int{4242},
			map[triage.Code]triage.Status{CodeRunning: triage.OK, CodeFDsNearLimit: triage.Warn}},
		{"pidfile", Options{Pidfile: filepath.Join("testdata", "pidfile.odd")}, []int{4242},
			map[triage.Code]triage.Status{CodeRunning: triage.OK, CodeFDsNearLimit: triage.Warn}},
		{"zombie", Options{PID: 77}, []int{77},
			map[triage.Code]triage.Status{CodeZombie: triage.Fail}},
		{"uninterruptible, unlimited fds", Options{Name: "sleepy"}, []int{99},
			map[triage.Code]triage.Status{CodeRunning: triage.OK, CodeUninterruptible: triage.Warn}},
		{"selectors must all match", Options{Name: "sleepy", Cmdline: "odd"}, nil,
			map[triage.Code]triage.Status{CodeNotFound: triage.Fail}},
		{"pid that does not exist", Options{PID: 31337}, nil,
			map[triage.Code]triage.Status{CodeNotFound: triage.Fail}},
		{"process vanished after the listing", Options{PID: 555}, nil,
			map[triage.Code]triage.Status{CodeNotFound: triage.Fail}},
		{"stale pidfile", Options{Pidfile: filepath.Join("testdata", "pidfile.stale")}, nil,
			map[triage.Code]triage.Status{CodeNotFound: triage.Fail}},
		{"missing pidfile", Options{Pidfile: filepath.Join("testdata", "no.pid")}, nil,
			map[triage.Code]triage.Status{CodeNotFound: triage.Fail}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture(tc.opts)
			require.NoError(t, r.Err)
			assert.Equal(t, "process", r.Check)
			assert.Equal(t, tc.codes, findingCodes(r.Findings))
			var pids []int
			for _, p := range r.Processes {
				pids = append(pids, p.PID)
			}
			assert.Equal(t, tc.pids, pids)
		})
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want triage.Target
	}{
		{"name, one match", Options{Name: "my (odd) srv"}, triage.Target{Process: "my (odd) srv", PID: 4242}},
		{"command line, one match", Options{Cmdline: "--config /etc/odd"}, triage.Target{PID: 4242}},
		{"pidfile", Options{Pidfile: filepath.Join("testdata", "pidfile.odd")}, triage.Target{PID: 4242}},
		{"pid not found", Options{PID: 31337}, triage.Target{PID: 31337}},
		{"name not found", Options{Name: "nosuch"}, triage.Target{Process: "nosuch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture(tc.opts)
			require.NoError(t, r.Err)
			assert.Equal(t, tc.want, r.Target)
		})
	}
}

// TestPidfileFIFO: a pidfile is read without waiting, and only when it is
// a regular file.
func TestPidfileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "app.pid")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	done := make(chan Result, 1)
	go func() { done <- fixture(Options{Pidfile: fifo}) }()
	select {
	case r := <-done:
		assert.ErrorIs(t, r.Err, procfs.ErrNotRegular)
		assert.Equal(t, triage.Unknown, r.Status)
	case <-time.After(10 * time.Second):
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("reading a FIFO pidfile blocked")
	}
}

func TestFixtureDetails(t *testing.T) {
	r := fixture(Options{PID: 4242})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	p := r.Processes[0]
	assert.Equal(t, 1, p.PPID)
	assert.Equal(t, "my (odd) srv", p.Name)
	assert.Equal(t, "S", p.State)
	assert.Equal(t, "/usr/local/bin/odd-server --config /etc/odd.yaml", p.Cmdline)
	assert.Equal(t, 0, p.UID)
	assert.Equal(t, "root", p.User)
	assert.Equal(t, 2, p.Threads)
	assert.Equal(t, 9, p.FDs)
	assert.Equal(t, uint64(10), p.FDLimit)
	assert.InDelta(t, 90, p.FDsPct, 1e-9)
	assert.Equal(t, uint64(2560*os.Getpagesize()), p.RSSBytes)
	assert.Equal(t, uint64(2048<<10), p.SwapBytes, "VmSwap")
	assert.Equal(t, time.Unix(1700000500, 0).UTC(), p.Started, "btime + starttime/USER_HZ")
	assert.NoError(t, p.Err)

	f, ok := r.Find(CodeFDsNearLimit)
	require.True(t, ok)
	n, _ := f.Evidence.Int("fds")
	assert.Equal(t, int64(9), n)

	r = fixture(Options{PID: 99})
	f, ok = r.Find(CodeUninterruptible)
	require.True(t, ok)
	assert.Equal(t, "io_schedule", f.Evidence.String("wchan"))
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no selector", Options{}},
		{"negative pid", Options{PID: -1}},
		{"negative window", Options{Name: "x", Window: -time.Second}},
		{"garbage pidfile", Options{Pidfile: filepath.Join("testdata", "pidfile.bad")}},
		{"pid and pidfile disagree", Options{PID: 1, Pidfile: filepath.Join("testdata", "pidfile.odd")}},
		{"negative fault rate", Options{PID: 1, MajorFaultsPerSec: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture(tc.opts)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
		})
	}
}

// startChild starts cmd and kills and reaps it when the test ends.
func startChild(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func TestCPUBurner(t *testing.T) {
	marker := fmt.Sprintf("probe-burner-%d", time.Now().UnixNano())
	cmd := startChild(t, exec.Command("sh", "-c", "while :; do :; done", marker))
	r := Check(context.Background(), Options{Cmdline: marker, Window: 500 * time.Millisecond, ThreadHotPct: 10})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	p := r.Processes[0]
	assert.Equal(t, cmd.Process.Pid, p.PID)
	assert.Equal(t, os.Getpid(), p.PPID)
	assert.Equal(t, "R", p.State, "a busy loop is runnable")
	assert.Greater(t, p.CPUPct, 10.0)
	require.NotEmpty(t, p.HotThreads)
	assert.Equal(t, p.PID, p.HotThreads[0].TID)
	assert.Contains(t, p.Cmdline, marker)
	assert.Less(t, p.Uptime, time.Minute)
	c := findingCodes(r.Findings)
	assert.Equal(t, triage.OK, c[CodeRunning])
	assert.Equal(t, triage.Warn, c[CodeThreadHot])
	assert.Equal(t, triage.Warn, c[CodeRestartedRecently])
	assert.Greater(t, r.Window, 400*time.Millisecond)
}

// TestSwapping runs a process whose memory is three times its cgroup's
// limit, with swap on: every pass over its memory brings pages back from
// swap, and the check says so.
func TestSwapping(t *testing.T) {
	testcgroup.Swap(t, 256<<20)
	m := testcgroup.NewMemory(t, 32<<20)
	m.AllowSwap(t)
	pid := m.Walk(t, 96<<20)
	r := Check(context.Background(), Options{PID: pid, Window: time.Second})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	p := r.Processes[0]
	t.Logf("rss %d MiB, swap %d MiB, %.0f major faults/s", p.RSSBytes>>20, p.SwapBytes>>20, p.MajorFaultsPerSec)
	assert.Greater(t, p.SwapBytes, uint64(16<<20), "most of its memory is in swap")
	assert.Greater(t, p.MajorFaultsPerSec, 50.0)
	f, ok := r.Find(CodeSwapping)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Warn, f.Status)
	n, _ := f.Evidence.Int(triage.KeyPID)
	assert.Equal(t, int64(pid), n)

	// The same process, judged with a rate it does not reach, is fine.
	r = Check(context.Background(), Options{PID: pid, Window: time.Second, MajorFaultsPerSec: 1e9})
	require.NoError(t, r.Err)
	_, ok = r.Find(CodeSwapping)
	assert.False(t, ok)
}

func TestByExactName(t *testing.T) {
	// A name longer than the kernel's 15-byte comm must still match
	// exactly, through the first argument.
	dir := t.TempDir()
	long := filepath.Join(dir, "probe-long-sleeper-name")
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	b, err := os.ReadFile(sleep)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(long, b, 0o755))
	cmd := startChild(t, exec.Command(long, "60"))
	waitFor(t, func() bool { return commOf(cmd.Process.Pid) == "probe-long-slee" })

	r := Check(context.Background(), Options{Name: "probe-long-sleeper-name", Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	assert.Equal(t, cmd.Process.Pid, r.Processes[0].PID)

	r = Check(context.Background(), Options{Name: "probe-long-sleeper-other", Window: time.Millisecond})
	assert.True(t, r.Has(CodeNotFound), "same first 15 bytes, another name")
}

func TestZombieChild(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 0")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	defer cmd.Wait() //nolint:errcheck // reaps the zombie
	waitFor(t, func() bool { return stateOf(pid) == "Z" })

	r := Check(context.Background(), Options{PID: pid, Window: time.Millisecond})
	require.NoError(t, r.Err)
	assert.Equal(t, map[triage.Code]triage.Status{CodeZombie: triage.Fail}, findingCodes(r.Findings))
	f, _ := r.Find(CodeZombie)
	ppid, _ := f.Evidence.Int("ppid")
	assert.Equal(t, int64(os.Getpid()), ppid)
}

func TestFDsNearLimit(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=fds")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	startChild(t, cmd)
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)

	r := Check(context.Background(), Options{PID: cmd.Process.Pid, Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	p := r.Processes[0]
	assert.Equal(t, uint64(64), p.FDLimit)
	assert.GreaterOrEqual(t, p.FDs, 57, "58 with the one the child counted with")
	f, ok := r.Find(CodeFDsNearLimit)
	require.True(t, ok)
	assert.Equal(t, triage.Warn, f.Status)
	limit, _ := f.Evidence.Int("fd_limit")
	assert.Equal(t, int64(64), limit)
}

func TestPidfileReal(t *testing.T) {
	cmd := startChild(t, exec.Command("sleep", "60"))
	pidfile := filepath.Join(t.TempDir(), "sleep.pid")
	require.NoError(t, os.WriteFile(pidfile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644))
	r := Check(context.Background(), Options{Pidfile: pidfile, Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	assert.Equal(t, "sleep", r.Processes[0].Name)
	assert.True(t, r.Has(CodeRunning))

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	r = Check(context.Background(), Options{Pidfile: pidfile, Window: time.Millisecond})
	require.NoError(t, r.Err)
	assert.Equal(t, triage.Fail, r.Status)
	assert.True(t, r.Has(CodeNotFound), "the pidfile outlived its process")
}

// TestIntegrationPermissionDenied runs the check as nobody against
// a root process: /proc/<pid>/fd is closed to it, so the result must be
// Unknown with os.ErrPermission, never healthy.
func TestIntegrationPermissionDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as nobody")
	}
	// The test binary sits in a private build directory; copy it where
	// nobody may run it.
	dir, err := os.MkdirTemp("", "process-nobody")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "process.test")
	b, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))

	asNobody := func(t *testing.T, env ...string) helperCheck {
		cmd := exec.Command(bin, "-test.run=^TestHelperProcess$")
		cmd.Env = append(append(os.Environ(), helperEnv+"=check-pid"), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Dir = dir
		out, err := cmd.Output()
		require.NoError(t, err, "%s", out)
		var got helperCheck
		require.NoError(t, json.Unmarshal(out, &got), "%s", out)
		return got
	}

	target := startChild(t, exec.Command("sleep", "60"))
	t.Run("fd directory of a root process", func(t *testing.T) {
		got := asNobody(t, "PROCESS_TEST_PID="+strconv.Itoa(target.Process.Pid))
		assert.Equal(t, "unknown", got.Status)
		assert.True(t, got.Permission, "errors.Is(err, os.ErrPermission): %s", got.Err)
		assert.Contains(t, got.Codes, string(CodePermissionDenied))
		assert.Contains(t, got.Codes, string(CodeRunning), "the process is still reported")
		assert.Equal(t, -1, got.FDs)
	})
	t.Run("pidfile only root may read", func(t *testing.T) {
		pidfile := filepath.Join(dir, "secret.pid")
		require.NoError(t, os.WriteFile(pidfile, []byte(strconv.Itoa(target.Process.Pid)), 0o600))
		got := asNobody(t, "PROCESS_TEST_PIDFILE="+pidfile)
		assert.Equal(t, "unknown", got.Status)
		assert.True(t, got.Permission, "errors.Is(err, os.ErrPermission): %s", got.Err)
		assert.Equal(t, []string{string(CodePermissionDenied)}, got.Codes)
	})
}

type helperCheck struct {
	Status     string   `json:"status"`
	Codes      []string `json:"codes"`
	Permission bool     `json:"permission"`
	Err        string   `json:"err"`
	FDs        int      `json:"fds"`
}

func TestReturnsWithinDeadline(t *testing.T) {
	defer goleak.VerifyNone(t)
	cmd := startChild(t, exec.Command("sleep", "60"))
	t.Run("window longer than the deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := Check(ctx, Options{PID: cmd.Process.Pid, Window: time.Minute})
		assert.Less(t, time.Since(start), 200*time.Millisecond+time.Second)
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeRunning))
	})
	t.Run("cancelled during the window", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		r := Check(ctx, Options{Name: "sleep", Window: time.Minute})
		assert.Less(t, time.Since(start), time.Second+50*time.Millisecond)
		assert.ErrorIs(t, r.Err, context.Canceled)
		assert.NotEqual(t, triage.OK, r.Status, "never healthy when the window was cut")
		assert.NotEmpty(t, r.Processes, "what needs no window is still reported")
	})
}

// TestHelperProcess is not a test: re-executed with helperEnv set, the
// test binary plays a child process.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("run as a child process by other tests")
	case "fds":
		// Lower the soft limit to 64, fill it to 58 and wait for stdin to
		// close.
		var lim syscall.Rlimit
		must(syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
		lim.Cur = 64
		must(syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
		var files []*os.File
		for {
			n, err := procfs.CountEntries("/proc/self/fd")
			must(err)
			if n >= 58 {
				break
			}
			f, err := os.Open(os.DevNull)
			must(err)
			files = append(files, f)
		}
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		for _, f := range files {
			f.Close()
		}
	case "check-pid":
		opts := Options{Pidfile: os.Getenv("PROCESS_TEST_PIDFILE"), Window: time.Millisecond, RecentStart: -1}
		if opts.Pidfile == "" {
			pid, err := strconv.Atoi(os.Getenv("PROCESS_TEST_PID"))
			must(err)
			opts.PID = pid
		}
		r := Check(context.Background(), opts)
		out := helperCheck{Status: r.Status.String(), Permission: errors.Is(r.Err, os.ErrPermission), FDs: -2}
		if r.Err != nil {
			out.Err = r.Err.Error()
		}
		for _, f := range r.Findings {
			out.Codes = append(out.Codes, string(f.Code))
		}
		if len(r.Processes) > 0 {
			out.FDs = r.Processes[0].FDs
		}
		must(json.NewEncoder(os.Stdout).Encode(out))
	}
	os.Exit(0)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stateOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s, err := parseStat(b)
	if err != nil {
		return ""
	}
	return string(s.state)
}

func commOf(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// TestScanSkipsVanishing scans the process table while a shell
// forks short-lived children as fast as it can: processes that exit
// between the listing and the reads must be skipped, never reported as
// errors.
func TestScanSkipsVanishing(t *testing.T) {
	marker := fmt.Sprintf("probe-forker-%d", time.Now().UnixNano())
	startChild(t, exec.Command("sh", "-c", "while :; do /bin/true; done", marker))
	for i := 0; i < 30; i++ {
		r := Check(context.Background(), Options{Name: "true", Window: time.Millisecond})
		require.NoError(t, r.Err)
		assert.NotEqual(t, triage.Unknown, r.Status)
		r = Check(context.Background(), Options{Cmdline: marker, Window: time.Millisecond, RecentStart: -1})
		require.NoError(t, r.Err)
		// A child caught between fork and exec still has the shell's
		// command line, so there may be more than one.
		assert.GreaterOrEqual(t, r.Matched, 1)
	}
}

// TestExitsDuringWindow: a process found by the scan that is gone
// after the window is not reported, and the result says not found.
func TestExitsDuringWindow(t *testing.T) {
	// Reaped as soon as it exits, so it vanishes instead of lingering as
	// a zombie.
	cmd := exec.Command("sleep", "0.3")
	require.NoError(t, cmd.Start())
	reaped := make(chan struct{})
	go func() { _ = cmd.Wait(); close(reaped) }()
	defer func() { <-reaped }()
	r := Check(context.Background(), Options{PID: cmd.Process.Pid, Window: 2 * time.Second})
	require.NoError(t, r.Err)
	assert.Equal(t, 1, r.Matched)
	assert.Empty(t, r.Processes)
	assert.Equal(t, map[triage.Code]triage.Status{CodeNotFound: triage.Fail}, findingCodes(r.Findings))
}
