//go:build linux

package testcgroup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

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

// walker is a Perl program (perl-base is part of every Debian system)
// that holds ARGV[0] bytes in one string, of a pattern that differs from
// page to page, and reads one byte of every page, pass after pass, until
// its parent goes or ten minutes pass. Not the test binary: built with
// -race, its shadow memory would be charged to the cgroup too.
const walker = `my $n = shift;
my $p = join "", map { chr(33 + ($_ * 7) % 90) } 0 .. 4098;
my $s = $p x (int($n / 4099) + 1);
substr($s, $n) = "";
$| = 1;
print "ready\n";
my ($pp, $end) = (getppid(), time + 600);
while (time < $end && getppid() == $pp) {
	my $c = 0;
	for (my $i = 0; $i < length($s); $i += 4096) { $c += ord(substr($s, $i, 1)) }
	select(undef, undef, undef, 0.02);
}`

// Walk starts a child in the cgroup that holds size bytes of anonymous
// memory and reads one byte of every page of it, pass after pass, until
// the test ends, and returns its PID once its memory is written. With
// size above the cgroup's limit and swap allowed, it swaps for as long as
// it runs. It skips the test without perl.
func (m *Memory) Walk(t testing.TB, size int64) int {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("needs perl to hold and walk memory")
	}
	return startReady(t, "the memory walker", exec.Command("sh", "-c",
		m.EnterScript()+` && exec perl -e "$1" "$2"`, "sh", walker, strconv.FormatInt(size, 10)))
}
