//go:build linux

// Package testpriv runs parts of a test without privileges, so that the
// checks' answers to "permission denied" are tested for real: the test
// binary re-executes itself as nobody through setpriv(1) and runs just the
// one test.
package testpriv

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// childEnv names, in the re-executed binary, the test it runs as nobody.
const childEnv = "TRIAGE_TESTPRIV_AS_NOBODY"

// NobodyUID is the user id AsNobody runs as.
const NobodyUID = 65534

// InChild reports whether this process is a test binary re-executed by
// AsNobody. A test uses it to skip the setup only root can do, such as
// starting the root-owned process the check must not see into.
func InChild() bool { return os.Getenv(childEnv) != "" }

// AsNobody runs fn as the user nobody (group nogroup, no supplementary
// groups). Called as root, it copies the test binary to a directory
// nobody can read and runs it under setpriv with only t's test selected,
// env added to its environment; the child's failures fail t and its
// output is logged. In that child, AsNobody calls fn. The test function
// runs from its start in both, so what only the parent must do goes under
// !InChild().
//
// AsNobody skips t when not run as root or when setpriv is missing.
func AsNobody(t *testing.T, fn func(t *testing.T), env ...string) {
	t.Helper()
	if name := os.Getenv(childEnv); name != "" {
		switch {
		case strings.HasPrefix(name, t.Name()+"/"):
			return // the child runs one of t's subtests, not t's own part
		case name != t.Name():
			t.Skipf("the nobody child runs %s only", name)
		}
		if os.Geteuid() != NobodyUID {
			t.Fatalf("running as uid %d, not nobody", os.Geteuid())
		}
		fn(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a test as nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv(1) from util-linux")
	}
	dir := Dir(t)
	bin := filepath.Join(dir, filepath.Base(os.Args[0]))
	copyBinary(t, os.Args[0], bin)
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
		bin, "-test.run="+runPattern(t.Name()), "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), "TMPDIR="+tmp, "HOME="+tmp)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	switch {
	case strings.Contains(string(out), "--- SKIP: "+t.Name()+" "):
		t.Skip("skipped as nobody")
	case err != nil:
		t.Fatalf("the test failed as nobody: %v", err)
	case !strings.Contains(string(out), "--- PASS: "+t.Name()+" "):
		t.Fatalf("the test did not run as nobody")
	}
}

// Dir returns a new directory that nobody can read and search, removed
// when the test ends. It skips t when a directory above it is closed to
// other users.
func Dir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "triage-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			t.Skipf("nobody cannot reach %s: %s is %v", dir, d, st.Mode().Perm())
		}
		if d == "/" {
			return dir
		}
	}
}

// runPattern selects exactly the test or subtest name for -test.run.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func copyBinary(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
