//go:build linux

package host

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testcgroup"
)

// TestIntegrationHostCgroupV1Limits puts a child in real cgroup v1 memory
// and cpu cgroups with a 256MiB limit and a 0.2-core quota; the child
// fills most of the memory, burns CPU and runs the host check on itself.
// It must be judged against its limits, not the host's RAM and cores.
func TestIntegrationCgroupV1Limits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	self, err := os.ReadFile("/proc/self/cgroup")
	require.NoError(t, err)
	name := fmt.Sprintf("host-test-%d", os.Getpid())
	dirs := map[string]string{}
	for _, ctl := range []string{"memory", "cpu"} {
		root, mp, ok := parseCgroupV1Mount(mi, ctl)
		if !ok || root != "/" {
			t.Skipf("no writable cgroup v1 %s hierarchy", ctl)
		}
		cur, _ := parseCgroupV1Self(self, ctl)
		dir := filepath.Join(mp, cur, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cannot make a %s cgroup: %v", ctl, err)
		}
		t.Cleanup(func() { _ = os.Remove(dir) })
		dirs[ctl] = dir
	}
	write := func(ctl, file, val string) {
		require.NoError(t, os.WriteFile(filepath.Join(dirs[ctl], file), []byte(val), 0o644))
	}
	write("memory", "memory.limit_in_bytes", strconv.Itoa(256<<20))
	write("cpu", "cpu.cfs_period_us", "100000")
	write("cpu", "cpu.cfs_quota_us", "20000")

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	shm := filepath.Join(t.TempDir(), "ballast")
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		shm = filepath.Join("/dev/shm", name)
	}
	t.Cleanup(func() { _ = os.Remove(shm) })
	cmd.Env = append(os.Environ(), helperEnv+"=cgroup-host", "GOMAXPROCS=2", "HOST_TEST_BALLAST="+shm)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	// Reap before the cgroups are removed (cleanups run last-in first-out).
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for ctl := range dirs {
		write(ctl, "cgroup.procs", strconv.Itoa(cmd.Process.Pid))
	}
	_, err = stdin.Write([]byte("go\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	var got cgroupHostReport
	require.NoError(t, json.Unmarshal([]byte(line), &got), line)

	require.NotNil(t, got.Cgroup, "%s", line)
	assert.Equal(t, 1, got.Cgroup.Version)
	assert.True(t, strings.HasSuffix(got.Cgroup.Path, "/"+name), got.Cgroup.Path)
	assert.Equal(t, uint64(256<<20), got.Cgroup.MemoryMaxBytes)
	assert.InDelta(t, 0.2, got.Cgroup.CPUQuotaCores, 1e-9)
	assert.Equal(t, "cgroup", got.Memory.JudgedAgainst)
	assert.Equal(t, uint64(256<<20), got.Memory.TotalBytes)
	assert.Contains(t, got.Codes, string(CodeCgroupMemoryNearLimit))
	assert.Contains(t, got.Codes, string(CodeMemoryLow))
	assert.Contains(t, got.Codes, string(CodeCgroupCPUThrottled))
	assert.Positive(t, got.Cgroup.NrThrottled)
}

type cgroupHostReport struct {
	Codes  []string    `json:"codes"`
	Cgroup *Cgroup     `json:"cgroup"`
	Memory MemoryStats `json:"memory"`
	Err    string      `json:"err"`
}

// helperEnv marks a re-executed test binary that plays a child process
// (see TestHelperProcess) instead of running tests.
const helperEnv = "HOST_TEST_HELPER"

// TestHelperProcess is not a test: re-executed with helperEnv set, the
// test binary plays a child process.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("run as a child process by other tests")
	case "cgroup-host":
		cgroupHostChild()
	}
	os.Exit(0)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
}

// cgroupHostChild is the child's side: wait to be moved into the
// cgroups, fill 160MiB of tmpfs (charged to the cgroup and not
// reclaimable without swap, and outside the Go heap so the race detector
// does not multiply it), spin, run the check, print what it saw.
func cgroupHostChild() {
	_, err := bufio.NewReader(os.Stdin).ReadString('\n')
	must(err)
	f, err := os.Create(os.Getenv("HOST_TEST_BALLAST"))
	must(err)
	defer os.Remove(f.Name())
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for range 160 {
		_, err := f.Write(chunk)
		must(err)
	}
	must(f.Close())
	// Burn CPU on purpose until told to stop, so the quota throttles.
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
		}
	}()
	r := Check(context.Background(), Options{
		Window: 500 * time.Millisecond,
		Thresholds: Thresholds{
			CgroupMemoryPct:    50, // 160MiB plus the runtime of 256MiB
			MemoryAvailablePct: 40,
		},
	})
	stop.Store(true)
	<-done
	out := cgroupHostReport{Cgroup: r.Cgroup, Memory: r.Memory}
	for _, f := range r.Findings {
		out.Codes = append(out.Codes, string(f.Code))
	}
	if r.Err != nil {
		out.Err = r.Err.Error()
	}
	must(json.NewEncoder(os.Stdout).Encode(out))
}

// TestIntegrationHostCgroupV2Path reads a real cgroup2 directory given by
// CgroupRoot and CgroupPath. On this kind of host the v2 tree has no
// controllers, so there are no limits, but its pressure files are real.
func TestIntegrationCgroupV2Path(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	_, root, ok := parseCgroupMountinfo(mi)
	if !ok {
		t.Skip("no cgroup2 mount")
	}
	name := fmt.Sprintf("host-test-%d", os.Getpid())
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup2 cgroup: %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644))

	r := Check(context.Background(), Options{CgroupRoot: root, CgroupPath: name, Window: 100 * time.Millisecond})
	require.NoError(t, r.Err)
	require.NotNil(t, r.Cgroup)
	assert.Equal(t, 2, r.Cgroup.Version)
	assert.Equal(t, "/"+name, r.Cgroup.Path)
	if _, err := os.Stat(filepath.Join(dir, "cpu.pressure")); err == nil {
		require.NotNil(t, r.Cgroup.Pressure)
		assert.NotNil(t, r.Cgroup.Pressure.CPU)
	}
	if _, err := os.Stat(filepath.Join(dir, "memory.max")); err != nil {
		assert.Zero(t, r.Cgroup.MemoryMaxBytes, "no memory controller, no limit")
		assert.Equal(t, "host", r.Memory.JudgedAgainst)
	}
}

// TestIntegrationHostCgroupPID judges another process's memory cgroup:
// a child holds 60MiB of tmpfs under a 64MiB limit, and the check, run
// from outside the cgroup, must see the limit and the pressure on it.
func TestIntegrationCgroupPID(t *testing.T) {
	const limit = 64 << 20
	m := testcgroup.NewMemory(t, limit)
	pid := m.Hold(t, 60<<20)

	r := Check(context.Background(), Options{CgroupPID: pid, Window: 100 * time.Millisecond})
	require.NoError(t, r.Err)
	require.NotNil(t, r.Cgroup)
	assert.Equal(t, m.Version, r.Cgroup.Version)
	assert.Equal(t, "/"+filepath.Base(m.Dir), r.Cgroup.Path)
	assert.Equal(t, uint64(limit), r.Cgroup.MemoryMaxBytes)
	assert.Equal(t, "cgroup", r.Memory.JudgedAgainst)
	assert.Contains(t, findingCodes(r.Findings), CodeCgroupMemoryNearLimit)
	assert.Equal(t, triage.Target{PID: pid, Cgroup: r.Cgroup.Path}, r.Target, "the process's cgroup is the target")

	// This process's own cgroup has no such limit.
	self := Check(context.Background(), Options{Window: 100 * time.Millisecond})
	require.NoError(t, self.Err)
	if self.Cgroup != nil {
		assert.NotEqual(t, uint64(limit), self.Cgroup.MemoryMaxBytes)
	}
	assert.NotContains(t, findingCodes(self.Findings), CodeCgroupMemoryNearLimit)
	assert.True(t, self.Target.IsZero(), "this process's cgroup is part of the host, not a target")

	gone := Check(context.Background(), Options{CgroupPID: 1 << 30, Window: time.Millisecond})
	assert.ErrorIs(t, gone.Err, os.ErrNotExist, "a PID that does not exist")
	assert.Equal(t, triage.Unknown, gone.Status)

	bad := Check(context.Background(), Options{CgroupPID: -1})
	assert.ErrorIs(t, bad.Err, triage.ErrInvalid)
	assert.Equal(t, triage.Unknown, bad.Status)
}
