package probe

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
	"go.uber.org/goleak"
)

// procHelperEnv marks a re-executed test binary that plays a child process
// (see TestProbeHostHelperProcess) instead of running tests.
const procHelperEnv = "PROBE_TEST_HELPER"

func fixtureProcess(opts ProcessOptions) ProcessResult {
	opts.ProcRoot = filepath.Join("testdata", "proc")
	if opts.Window == 0 {
		opts.Window = time.Millisecond
	}
	return Process(context.Background(), opts)
}

func TestProcessFixtureSelectors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  ProcessOptions
		pids  []int
		codes map[triage.Code]triage.Status
	}{
		{"name with spaces and parentheses", ProcessOptions{Name: "my (odd) srv"}, []int{4242},
			map[triage.Code]triage.Status{CodeProcessRunning: triage.OK, CodeProcessFDsNearLimit: triage.Warn}},
		{"command line substring", ProcessOptions{Cmdline: "--config /etc/odd"}, []int{4242},
			map[triage.Code]triage.Status{CodeProcessRunning: triage.OK, CodeProcessFDsNearLimit: triage.Warn}},
		{"pid", ProcessOptions{PID: 4242}, []int{4242},
			map[triage.Code]triage.Status{CodeProcessRunning: triage.OK, CodeProcessFDsNearLimit: triage.Warn}},
		{"pidfile", ProcessOptions{Pidfile: filepath.Join("testdata", "pidfile.odd")}, []int{4242},
			map[triage.Code]triage.Status{CodeProcessRunning: triage.OK, CodeProcessFDsNearLimit: triage.Warn}},
		{"zombie", ProcessOptions{PID: 77}, []int{77},
			map[triage.Code]triage.Status{CodeProcessZombie: triage.Fail}},
		{"uninterruptible, unlimited fds", ProcessOptions{Name: "sleepy"}, []int{99},
			map[triage.Code]triage.Status{CodeProcessRunning: triage.OK, CodeProcessUninterruptible: triage.Warn}},
		{"selectors must all match", ProcessOptions{Name: "sleepy", Cmdline: "odd"}, nil,
			map[triage.Code]triage.Status{CodeProcessNotFound: triage.Fail}},
		{"pid that does not exist", ProcessOptions{PID: 31337}, nil,
			map[triage.Code]triage.Status{CodeProcessNotFound: triage.Fail}},
		{"process vanished after the listing", ProcessOptions{PID: 555}, nil,
			map[triage.Code]triage.Status{CodeProcessNotFound: triage.Fail}},
		{"stale pidfile", ProcessOptions{Pidfile: filepath.Join("testdata", "pidfile.stale")}, nil,
			map[triage.Code]triage.Status{CodeProcessNotFound: triage.Fail}},
		{"missing pidfile", ProcessOptions{Pidfile: filepath.Join("testdata", "no.pid")}, nil,
			map[triage.Code]triage.Status{CodeProcessNotFound: triage.Fail}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixtureProcess(tc.opts)
			require.NoError(t, r.Err)
			assert.Equal(t, "probe.process", r.Check)
			assert.Equal(t, tc.codes, hostCodes(r.Findings))
			var pids []int
			for _, p := range r.Processes {
				pids = append(pids, p.PID)
			}
			assert.Equal(t, tc.pids, pids)
		})
	}
}

func TestProcessFixtureDetails(t *testing.T) {
	r := fixtureProcess(ProcessOptions{PID: 4242})
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
	assert.Equal(t, time.Unix(1700000500, 0).UTC(), p.Started, "btime + starttime/USER_HZ")
	assert.NoError(t, p.Err)

	f, ok := r.Find(CodeProcessFDsNearLimit)
	require.True(t, ok)
	n, _ := f.Evidence.Int("fds")
	assert.Equal(t, int64(9), n)

	r = fixtureProcess(ProcessOptions{PID: 99})
	f, ok = r.Find(CodeProcessUninterruptible)
	require.True(t, ok)
	assert.Equal(t, "io_schedule", f.Evidence.String("wchan"))
}

func TestProcessBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ProcessOptions
	}{
		{"no selector", ProcessOptions{}},
		{"negative pid", ProcessOptions{PID: -1}},
		{"negative window", ProcessOptions{Name: "x", Window: -time.Second}},
		{"garbage pidfile", ProcessOptions{Pidfile: filepath.Join("testdata", "pidfile.bad")}},
		{"pid and pidfile disagree", ProcessOptions{PID: 1, Pidfile: filepath.Join("testdata", "pidfile.odd")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixtureProcess(tc.opts)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
		})
	}
}

// procStartChild starts cmd and kills and reaps it when the test ends.
func procStartChild(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func TestProcessCPUBurner(t *testing.T) {
	marker := fmt.Sprintf("probe-burner-%d", time.Now().UnixNano())
	cmd := procStartChild(t, exec.Command("sh", "-c", "while :; do :; done", marker))
	r := Process(context.Background(), ProcessOptions{Cmdline: marker, Window: 500 * time.Millisecond, ThreadHotPct: 10})
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
	c := hostCodes(r.Findings)
	assert.Equal(t, triage.OK, c[CodeProcessRunning])
	assert.Equal(t, triage.Warn, c[CodeProcessThreadHot])
	assert.Equal(t, triage.Warn, c[CodeProcessRestartedRecently])
	assert.Greater(t, r.Window, 400*time.Millisecond)
}

func TestProcessByExactName(t *testing.T) {
	// A name longer than the kernel's 15-byte comm must still match
	// exactly, through the first argument.
	dir := t.TempDir()
	long := filepath.Join(dir, "probe-long-sleeper-name")
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	b, err := os.ReadFile(sleep)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(long, b, 0o755))
	cmd := procStartChild(t, exec.Command(long, "60"))
	procWaitFor(t, func() bool { return procCommOf(cmd.Process.Pid) == "probe-long-slee" })

	r := Process(context.Background(), ProcessOptions{Name: "probe-long-sleeper-name", Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	assert.Equal(t, cmd.Process.Pid, r.Processes[0].PID)

	r = Process(context.Background(), ProcessOptions{Name: "probe-long-sleeper-other", Window: time.Millisecond})
	assert.True(t, r.Has(CodeProcessNotFound), "same first 15 bytes, another name")
}

func TestProcessZombieChild(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 0")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	defer cmd.Wait() //nolint:errcheck // reaps the zombie
	procWaitFor(t, func() bool { return procStateOf(pid) == "Z" })

	r := Process(context.Background(), ProcessOptions{PID: pid, Window: time.Millisecond})
	require.NoError(t, r.Err)
	assert.Equal(t, map[triage.Code]triage.Status{CodeProcessZombie: triage.Fail}, hostCodes(r.Findings))
	f, _ := r.Find(CodeProcessZombie)
	ppid, _ := f.Evidence.Int("ppid")
	assert.Equal(t, int64(os.Getpid()), ppid)
}

func TestProcessFDsNearLimit(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestProbeHostHelperProcess$")
	cmd.Env = append(os.Environ(), procHelperEnv+"=fds")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	procStartChild(t, cmd)
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)

	r := Process(context.Background(), ProcessOptions{PID: cmd.Process.Pid, Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	p := r.Processes[0]
	assert.Equal(t, uint64(64), p.FDLimit)
	assert.GreaterOrEqual(t, p.FDs, 57, "58 with the one the child counted with")
	f, ok := r.Find(CodeProcessFDsNearLimit)
	require.True(t, ok)
	assert.Equal(t, triage.Warn, f.Status)
	limit, _ := f.Evidence.Int("fd_limit")
	assert.Equal(t, int64(64), limit)
}

func TestProcessPidfileReal(t *testing.T) {
	cmd := procStartChild(t, exec.Command("sleep", "60"))
	pidfile := filepath.Join(t.TempDir(), "sleep.pid")
	require.NoError(t, os.WriteFile(pidfile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644))
	r := Process(context.Background(), ProcessOptions{Pidfile: pidfile, Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	assert.Equal(t, "sleep", r.Processes[0].Name)
	assert.True(t, r.Has(CodeProcessRunning))

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	r = Process(context.Background(), ProcessOptions{Pidfile: pidfile, Window: time.Millisecond})
	require.NoError(t, r.Err)
	assert.Equal(t, triage.Fail, r.Status)
	assert.True(t, r.Has(CodeProcessNotFound), "the pidfile outlived its process")
}

// TestIntegrationProcessPermissionDenied runs the check as nobody against
// a root process: /proc/<pid>/fd is closed to it, so the result must be
// Unknown with os.ErrPermission, never healthy.
func TestIntegrationProcessPermissionDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as nobody")
	}
	// The test binary sits in a private build directory; copy it where
	// nobody may run it.
	dir, err := os.MkdirTemp("", "probe-nobody")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "probe.test")
	b, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))

	asNobody := func(t *testing.T, env ...string) procHelperCheck {
		cmd := exec.Command(bin, "-test.run=^TestProbeHostHelperProcess$")
		cmd.Env = append(append(os.Environ(), procHelperEnv+"=check-pid"), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Dir = dir
		out, err := cmd.Output()
		require.NoError(t, err, "%s", out)
		var got procHelperCheck
		require.NoError(t, json.Unmarshal(out, &got), "%s", out)
		return got
	}

	target := procStartChild(t, exec.Command("sleep", "60"))
	t.Run("fd directory of a root process", func(t *testing.T) {
		got := asNobody(t, "PROBE_TEST_PID="+strconv.Itoa(target.Process.Pid))
		assert.Equal(t, "unknown", got.Status)
		assert.True(t, got.Permission, "errors.Is(err, os.ErrPermission): %s", got.Err)
		assert.Contains(t, got.Codes, string(CodeProcessPermissionDenied))
		assert.Contains(t, got.Codes, string(CodeProcessRunning), "the process is still reported")
		assert.Equal(t, -1, got.FDs)
	})
	t.Run("pidfile only root may read", func(t *testing.T) {
		pidfile := filepath.Join(dir, "secret.pid")
		require.NoError(t, os.WriteFile(pidfile, []byte(strconv.Itoa(target.Process.Pid)), 0o600))
		got := asNobody(t, "PROBE_TEST_PIDFILE="+pidfile)
		assert.Equal(t, "unknown", got.Status)
		assert.True(t, got.Permission, "errors.Is(err, os.ErrPermission): %s", got.Err)
		assert.Equal(t, []string{string(CodeProcessPermissionDenied)}, got.Codes)
	})
}

type procHelperCheck struct {
	Status     string   `json:"status"`
	Codes      []string `json:"codes"`
	Permission bool     `json:"permission"`
	Err        string   `json:"err"`
	FDs        int      `json:"fds"`
}

func TestProcessReturnsWithinDeadline(t *testing.T) {
	defer goleak.VerifyNone(t)
	cmd := procStartChild(t, exec.Command("sleep", "60"))
	t.Run("window longer than the deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := Process(ctx, ProcessOptions{PID: cmd.Process.Pid, Window: time.Minute})
		assert.Less(t, time.Since(start), 200*time.Millisecond+time.Second)
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeProcessRunning))
	})
	t.Run("cancelled during the window", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		r := Process(ctx, ProcessOptions{Name: "sleep", Window: time.Minute})
		assert.Less(t, time.Since(start), time.Second+50*time.Millisecond)
		assert.ErrorIs(t, r.Err, context.Canceled)
		assert.NotEqual(t, triage.OK, r.Status, "never healthy when the window was cut")
		assert.NotEmpty(t, r.Processes, "what needs no window is still reported")
	})
}

// TestProbeHostHelperProcess is not a test: re-executed with procHelperEnv set, the
// test binary plays a child process.
func TestProbeHostHelperProcess(t *testing.T) {
	switch os.Getenv(procHelperEnv) {
	case "":
		t.Skip("run as a child process by other tests")
	case "fds":
		// Lower the soft limit to 64, fill it to 58 and wait for stdin to
		// close.
		var lim syscall.Rlimit
		procMust(syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
		lim.Cur = 64
		procMust(syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
		var files []*os.File
		for {
			n, err := procCountFDs("/proc", os.Getpid())
			procMust(err)
			if n >= 58 {
				break
			}
			f, err := os.Open(os.DevNull)
			procMust(err)
			files = append(files, f)
		}
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		for _, f := range files {
			f.Close()
		}
	case "cgroup-host":
		cgroupHostChild()
	case "check-pid":
		opts := ProcessOptions{Pidfile: os.Getenv("PROBE_TEST_PIDFILE"), Window: time.Millisecond, RecentStart: -1}
		if opts.Pidfile == "" {
			pid, err := strconv.Atoi(os.Getenv("PROBE_TEST_PID"))
			procMust(err)
			opts.PID = pid
		}
		r := Process(context.Background(), opts)
		out := procHelperCheck{Status: r.Status.String(), Permission: errors.Is(r.Err, os.ErrPermission), FDs: -2}
		if r.Err != nil {
			out.Err = r.Err.Error()
		}
		for _, f := range r.Findings {
			out.Codes = append(out.Codes, string(f.Code))
		}
		if len(r.Processes) > 0 {
			out.FDs = r.Processes[0].FDs
		}
		procMust(json.NewEncoder(os.Stdout).Encode(out))
	}
	os.Exit(0)
}

func procMust(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
}

func procWaitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func procStateOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s, err := parseProcStat(b)
	if err != nil {
		return ""
	}
	return string(s.state)
}

func procCommOf(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func TestProcCountDirents(t *testing.T) {
	rec := func(name string) []byte {
		n := (19 + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		b[16], b[17] = byte(n), byte(n>>8) // the test machines are little-endian
		copy(b[19:], name)
		return b
	}
	var buf []byte
	for _, n := range []string{".", "..", "0", "1", "255", ".x"} {
		buf = append(buf, rec(n)...)
	}
	n, ok := procCountDirents(buf)
	require.True(t, ok)
	assert.Equal(t, 4, n)
	_, ok = procCountDirents(buf[:len(buf)-3])
	assert.False(t, ok)

	n, err := procCountFDs("/proc", os.Getpid())
	require.NoError(t, err)
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	assert.InDelta(t, len(entries), n, 2, "the ReadDir itself holds a descriptor")
}

// TestProcessScanSkipsVanishing scans the process table while a shell
// forks short-lived children as fast as it can: processes that exit
// between the listing and the reads must be skipped, never reported as
// errors.
func TestProcessScanSkipsVanishing(t *testing.T) {
	marker := fmt.Sprintf("probe-forker-%d", time.Now().UnixNano())
	procStartChild(t, exec.Command("sh", "-c", "while :; do /bin/true; done", marker))
	for i := 0; i < 30; i++ {
		r := Process(context.Background(), ProcessOptions{Name: "true", Window: time.Millisecond})
		require.NoError(t, r.Err)
		assert.NotEqual(t, triage.Unknown, r.Status)
		r = Process(context.Background(), ProcessOptions{Cmdline: marker, Window: time.Millisecond, RecentStart: -1})
		require.NoError(t, r.Err)
		// A child caught between fork and exec still has the shell's
		// command line, so there may be more than one.
		assert.GreaterOrEqual(t, r.Matched, 1)
	}
}

// TestProcessExitsDuringWindow: a process found by the scan that is gone
// after the window is not reported, and the result says not found.
func TestProcessExitsDuringWindow(t *testing.T) {
	// Reaped as soon as it exits, so it vanishes instead of lingering as
	// a zombie.
	cmd := exec.Command("sleep", "0.3")
	require.NoError(t, cmd.Start())
	reaped := make(chan struct{})
	go func() { _ = cmd.Wait(); close(reaped) }()
	defer func() { <-reaped }()
	r := Process(context.Background(), ProcessOptions{PID: cmd.Process.Pid, Window: 2 * time.Second})
	require.NoError(t, r.Err)
	assert.Equal(t, 1, r.Matched)
	assert.Empty(t, r.Processes)
	assert.Equal(t, map[triage.Code]triage.Status{CodeProcessNotFound: triage.Fail}, hostCodes(r.Findings))
}
