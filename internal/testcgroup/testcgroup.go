//go:build linux

// Package testcgroup makes throwaway memory cgroups for tests, so that a
// child process can be held near its memory limit or killed by the OOM
// killer for real, without limiting the test process itself.
package testcgroup

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

var seq atomic.Int64

// Memory is a memory cgroup made for one test, in the cgroup v1 memory
// hierarchy or, where that is absent, a cgroup v2 tree with the memory
// controller.
type Memory struct {
	// Dir is the cgroup's directory.
	Dir string
	// Version is 1 or 2.
	Version int
}

// NewMemory creates a memory cgroup limited to limit bytes (swap
// included where the kernel accounts it) and removes it when the test
// ends; processes added to it must be gone by then, so register their
// cleanup after calling NewMemory. It skips the test when not root or
// when no memory controller can be used.
func NewMemory(t testing.TB, limit int64) *Memory {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	name := fmt.Sprintf("triage-test-%d-%d", os.Getpid(), seq.Add(1))
	var m Memory
	var limitFile string
	switch {
	case exists("/sys/fs/cgroup/memory/cgroup.procs"):
		m = Memory{Dir: filepath.Join("/sys/fs/cgroup/memory", name), Version: 1}
		limitFile = "memory.limit_in_bytes"
	case hasV2Memory("/sys/fs/cgroup"):
		m = Memory{Dir: filepath.Join("/sys/fs/cgroup", name), Version: 2}
		limitFile = "memory.max"
	default:
		t.Skip("no memory cgroup controller to confine a child in")
	}
	if err := os.Mkdir(m.Dir, 0o755); err != nil {
		t.Skipf("cannot create a memory cgroup: %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(m.Dir) })
	val := []byte(strconv.FormatInt(limit, 10))
	if err := os.WriteFile(filepath.Join(m.Dir, limitFile), val, 0o644); err != nil {
		t.Skipf("cannot limit the memory cgroup: %v", err)
	}
	// Without swap accounting the file is absent; with it, the limit must
	// hold for memory and swap together or the child swaps instead.
	for _, f := range []string{"memory.memsw.limit_in_bytes", "memory.swap.max"} {
		if exists(filepath.Join(m.Dir, f)) {
			v := val
			if f == "memory.swap.max" {
				v = []byte("0")
			}
			_ = os.WriteFile(filepath.Join(m.Dir, f), v, 0o644)
		}
	}
	return &m
}

// Add moves the process pid into the cgroup.
func (m *Memory) Add(pid int) error {
	return os.WriteFile(filepath.Join(m.Dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// EnterScript is a shell fragment that moves the shell running it into
// the cgroup, for `sh -c` children that must be confined from their
// first allocation: `sh -c "$(m.EnterScript()) && exec work"`.
func (m *Memory) EnterScript() string {
	return fmt.Sprintf("echo $$ > '%s'", filepath.Join(m.Dir, "cgroup.procs"))
}

func hasV2Memory(root string) bool {
	b, err := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(string(b)) {
		if f == "memory" {
			return true
		}
	}
	return false
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Hold starts a child in the cgroup that keeps size bytes of tmpfs
// (/dev/shm) charged to it — memory that cannot be reclaimed without
// swap, outside any Go heap — and returns its PID once the bytes are
// written. The child and its file are gone when the test ends. It skips
// the test when /dev/shm is missing.
func (m *Memory) Hold(t testing.TB, size int64) int {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		t.Skip("needs /dev/shm to hold memory")
	}
	file := filepath.Join("/dev/shm", filepath.Base(m.Dir)+"-"+strconv.FormatInt(seq.Add(1), 10))
	t.Cleanup(func() { _ = os.Remove(file) })
	return startReady(t, "the memory holder", exec.Command("sh", "-c",
		m.EnterScript()+` && head -c "$1" /dev/zero > "$2" && echo ready && exec sleep 600`,
		"sh", strconv.FormatInt(size, 10), file))
}

// startReady starts cmd, which prints "ready" when it is, waits for that
// line, and returns its PID; the child is killed when the test ends.
func startReady(t testing.TB, what string, cmd *exec.Cmd) int {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("%s did not get ready (%q, %v)", what, line, err)
	}
	return cmd.Process.Pid
}

// CPU is a CPU cgroup made for one test, with a CFS quota: the cgroup v1
// cpu hierarchy or, where that is absent, a cgroup v2 tree with the cpu
// controller.
type CPU struct {
	// Dir is the cgroup's directory.
	Dir string
	// Version is 1 or 2.
	Version int
}

// NewCPU creates a cgroup whose processes may use quotaUs of CPU time
// every 100 ms period and removes it when the test ends; processes added
// to it must be gone by then. It skips the test when not root or when no
// cpu controller can be used.
func NewCPU(t testing.TB, quotaUs int) *CPU {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	name := fmt.Sprintf("triage-test-cpu-%d-%d", os.Getpid(), seq.Add(1))
	var c CPU
	files := map[string]string{}
	switch {
	case exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"):
		c = CPU{Dir: filepath.Join("/sys/fs/cgroup/cpu", name), Version: 1}
		files["cpu.cfs_period_us"] = "100000"
		files["cpu.cfs_quota_us"] = strconv.Itoa(quotaUs)
	case hasV2Controller("/sys/fs/cgroup", "cpu"):
		c = CPU{Dir: filepath.Join("/sys/fs/cgroup", name), Version: 2}
		files["cpu.max"] = fmt.Sprintf("%d 100000", quotaUs)
	default:
		t.Skip("no cpu cgroup controller to confine a child in")
	}
	if err := os.Mkdir(c.Dir, 0o755); err != nil {
		t.Skipf("cannot create a cpu cgroup: %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(c.Dir) })
	for _, f := range []string{"cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.max"} {
		if v, ok := files[f]; ok {
			if err := os.WriteFile(filepath.Join(c.Dir, f), []byte(v), 0o644); err != nil {
				t.Skipf("cannot set the cpu quota: %v", err)
			}
		}
	}
	return &c
}

// Spin starts a child in the cgroup that busy-loops until the test ends,
// and returns its PID: it uses up the quota and is throttled.
func (c *CPU) Spin(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", fmt.Sprintf("echo $$ > '%s' && exec sh -c 'while :; do :; done'",
		filepath.Join(c.Dir, "cgroup.procs")))
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a spinning child: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

func hasV2Controller(root, name string) bool {
	b, err := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
	if err != nil {
		return false
	}
	return slices.Contains(strings.Fields(string(b)), name)
}
