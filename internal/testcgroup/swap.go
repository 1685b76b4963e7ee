//go:build linux

package testcgroup

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// walkEnv makes a test binary that calls [Child] first in its TestMain the
// memory walker [Memory.Walk] starts.
const walkEnv = "TRIAGE_TESTCGROUP_WALK"

// Swap turns on a swap file of size bytes for the rest of the test, under
// /var/tmp (a disk filesystem; tmpfs cannot hold swap). It skips the test
// when not root, when mkswap or swapon are missing, or when the kernel or
// the filesystem refuse the file.
func Swap(t testing.TB, size int64) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to turn swap on")
	}
	for _, tool := range []string{"mkswap", "swapon", "swapoff"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux) to turn swap on", tool)
		}
	}
	f, err := os.CreateTemp("/var/tmp", "triage-test-swap-")
	if err != nil {
		t.Skipf("no disk filesystem for a swap file: %v", err)
	}
	name := f.Name()
	t.Cleanup(func() { _ = os.Remove(name) })
	// A swap file must have its blocks allocated: write it, do not
	// truncate it to size.
	buf := make([]byte, 1<<20)
	for n := int64(0); n < size && err == nil; n += int64(len(buf)) {
		_, err = f.Write(buf)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Skipf("cannot write a swap file: %v", err)
	}
	if err := os.Chmod(name, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkswap", name).CombinedOutput(); err != nil {
		t.Skipf("mkswap %s: %v: %s", name, err, out)
	}
	if out, err := exec.Command("swapon", name).CombinedOutput(); err != nil {
		t.Skipf("the kernel does not take a swap file here: swapon %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("swapoff", name).CombinedOutput(); err != nil {
			t.Errorf("swapoff %s: %v: %s", name, err, out)
		}
	})
}

// AllowSwap lets the cgroup's processes swap without bound, so that past
// its memory limit they swap instead of being killed.
func (m *Memory) AllowSwap(t testing.TB) {
	t.Helper()
	file, val := "memory.swap.max", "max"
	if m.Version == 1 {
		file, val = "memory.memsw.limit_in_bytes", "-1"
	}
	if err := os.WriteFile(filepath.Join(m.Dir, file), []byte(val), 0o644); err != nil {
		t.Skipf("the kernel does not account swap for cgroups: %v", err)
	}
}

// Walk starts a child in the cgroup that holds size bytes of anonymous
// memory and reads one byte of every page of it, pass after pass, until
// the test ends, and returns its PID once its memory is written. With
// size above the cgroup's limit and swap allowed, it swaps for as long as
// it runs. The test binary's TestMain must call [Child] first.
func (m *Memory) Walk(t testing.TB, size int64) int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), walkEnv+"="+strconv.FormatInt(size, 10), "GOMAXPROCS=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Pages are charged to the cgroup that first touches them: the child
	// allocates only once it is inside and told to go.
	if err := m.Add(cmd.Process.Pid); err != nil {
		t.Fatalf("moving the walker into %s: %v", m.Dir, err)
	}
	if _, err := in.Write([]byte("go\n")); err != nil {
		t.Fatalf("starting the walker: %v", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("the memory walker did not get ready (%q, %v)", line, err)
	}
	return cmd.Process.Pid
}

// Child runs the test binary as the memory walker when [Memory.Walk]
// started it, and reports whether it did; TestMain returns when it did.
func Child() bool {
	v := os.Getenv(walkEnv)
	if v == "" {
		return false
	}
	size, err := strconv.ParseInt(v, 10, 64)
	if err != nil || size <= 0 {
		fmt.Fprintln(os.Stderr, "bad walker size", v)
		os.Exit(2)
	}
	walk(int(size))
	return true
}

func walk(size int) {
	const page = 4096
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		os.Exit(2)
	}
	mem := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(mem); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(mem); j++ {
			mem[i+j] = byte(v >> (8 * j))
		}
	}
	fmt.Println("ready")
	parent := os.Getppid()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) && os.Getppid() == parent {
		var sum byte
		for i := 0; i < len(mem); i += page {
			sum += mem[i]
		}
		walked.Store(uint32(sum))
		time.Sleep(20 * time.Millisecond)
	}
	os.Exit(0)
}

// walked keeps the walk's sum where the compiler cannot drop the reads.
var walked atomic.Uint32
