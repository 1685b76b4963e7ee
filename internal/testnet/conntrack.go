//go:build linux

package testnet

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	conntrackMax   = "/proc/sys/net/netfilter/nf_conntrack_max"
	conntrackCount = "/proc/sys/net/netfilter/nf_conntrack_count"
	conntrackLock  = "/run/triage-test-conntrack.lock"
)

// FillConntrack fills the namespace's connection-tracking table, so that
// the kernel drops every new connection in it: it turns tracking on in
// the namespace, lowers nf_conntrack_max to limit until the test ends,
// and holds connections to addr (a listener in the namespace) open until
// the table takes no more. It returns how many it holds.
//
// nf_conntrack_max is the one limit every namespace shares (each counts
// its own entries against it), and only the host's own namespace can set
// it. So FillConntrack skips the test when the host's namespace tracks
// connections itself, and takes a lock that keeps other test processes
// from lowering it at the same time.
func (n *NS) FillConntrack(t testing.TB, addr string, limit int) int {
	t.Helper()
	RequireIPTables(t)
	orig, err := os.ReadFile(conntrackMax)
	if err != nil {
		t.Skipf("the kernel has no connection tracking to fill: %v", err)
	}
	lock, err := os.OpenFile(conntrackLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Flock(int(lock.Fd()), unix.LOCK_UN) })
	if b, err := os.ReadFile(conntrackCount); err != nil || string(bytes.TrimSpace(b)) != "0" {
		t.Skipf("the host's own namespace tracks connections (%s, %v): a lower nf_conntrack_max would drop its packets too",
			bytes.TrimSpace(b), err)
	}
	// Any rule that matches on the connection state turns tracking on.
	if out, err := n.Command("iptables", "-A", "OUTPUT", "-m", "conntrack", "--ctstate", "NEW,ESTABLISHED", "-j", "ACCEPT").CombinedOutput(); err != nil {
		t.Skipf("iptables has no conntrack match here (%v): %s", err, out)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(conntrackMax, orig, 0o644); err != nil {
			t.Errorf("restoring nf_conntrack_max to %s: %v", bytes.TrimSpace(orig), err)
		}
	})
	if err := os.WriteFile(conntrackMax, []byte(strconv.Itoa(limit)), 0o644); err != nil {
		t.Skipf("cannot set nf_conntrack_max: %v", err)
	}
	held := 0
	for held <= limit {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		c, err := n.DialContext(ctx, "tcp", addr)
		cancel()
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		held++
	}
	if held > limit {
		t.Fatalf("%d connections held in a table of %d: the namespace does not track them", held, limit)
	}
	return held
}
