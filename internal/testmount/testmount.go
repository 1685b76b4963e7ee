//go:build linux

// Package testmount makes mounts for tests: tmpfs filesystems filled or
// limited on purpose, seen only by the test that makes them.
package testmount

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// privateEnv names, in the re-executed test binary, the test that runs in
// a mount namespace of its own.
const privateEnv = "TRIAGE_TEST_MOUNT_NS"

// Private runs the calling top-level test again in a child test process
// with a mount namespace of its own, so that the mounts it makes (full,
// read-only, stuck) are never seen by anything else on the machine, such
// as another package's tests listing every filesystem. It returns true in
// the child, where the test goes on; in the parent it reports the child's
// outcome and returns false. It skips the test when not root.
func Private(t *testing.T) bool {
	t.Helper()
	if os.Getenv(privateEnv) == t.Name() {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make mounts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), privateEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	t.Logf("child in its own mount namespace:\n%s", out)
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Skipf("cannot start a child in a new mount namespace: %v", err)
		}
		t.Fatalf("child failed: %v", err)
	}
	if bytes.Contains(out, []byte("--- SKIP: "+t.Name())) {
		t.Skip("skipped in the child, see the log")
	}
	return false
}

// Tmpfs mounts a tmpfs with opts (such as "size=1m" or "nr_inodes=64") on
// a new temporary directory and unmounts it when the test ends. It skips
// the test when the mount is refused.
func Tmpfs(t testing.TB, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("triage-test", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { Unmount(t, dir) })
	return dir
}

// Unmount unmounts dir, detaching it when something still holds it so
// the directory can go.
func Unmount(t testing.TB, dir string) {
	if err := unix.Unmount(dir, 0); err != nil {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	}
}
