//go:build linux

// Package testnet builds throwaway network namespaces for tests, so that
// faults such as dropped SYNs, REJECT rules or exact socket counts can be
// produced for real without touching the host's own network.
package testnet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var seq atomic.Int64

// NS is a network namespace made for one test. Its loopback is up.
type NS struct {
	Name string // name under /var/run/netns
	Path string // the namespace file, for setns or an option naming a netns
}

// New creates a namespace and removes it when the test ends. It skips the
// test when not root or when ip(8) is missing.
func New(t testing.TB) *NS {
	t.Helper()
	Require(t)
	name := fmt.Sprintf("triage-%d-%d", os.Getpid(), seq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (%v): %s", err, out)
	}
	ns := &NS{Name: name, Path: filepath.Join("/var/run/netns", name)}
	t.Cleanup(func() {
		// Deleting the name is enough: the namespace goes away with its last
		// socket or process.
		_ = exec.Command("ip", "netns", "del", name).Run()
	})
	ns.Exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

// Require skips the test unless it runs as root with ip(8) available.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) from iproute2")
	}
}

// RequireIPTables skips the test when iptables is not installed.
func RequireIPTables(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Skip("needs iptables")
	}
}

// Exec runs a command inside the namespace and fails the test on error.
func (n *NS) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec %s %s %s: %v: %s", n.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Command returns a command that runs inside the namespace.
func (n *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Do runs fn on a locked OS thread switched into the namespace. Sockets fn
// creates belong to the namespace for their whole life, even when used
// later from other goroutines; goroutines fn starts do not run inside it.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := os.Open(n.Path)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %w", n.Name, err)
	}
	defer func() {
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread cannot go back: keep it locked so that it dies
			// with this goroutine instead of serving others.
			runtime.LockOSThread()
		}
	}()
	return fn()
}

// DialContext dials from inside the namespace. It satisfies the Dialer
// options of the probes, so a check can reach what only the namespace
// sees.
func (n *NS) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// Listen listens inside the namespace and closes the listener when the
// test ends.
func (n *NS) Listen(t testing.TB, network, address string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := n.Do(func() (err error) {
		ln, err = net.Listen(network, address)
		return err
	}); err != nil {
		t.Fatalf("listen %s %s in %s: %v", network, address, n.Name, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// Hold accepts every connection ln takes and keeps it open until the
// test ends, as a service that holds its clients' connections does; it
// stops when ln is closed.
func Hold(t testing.TB, ln net.Listener) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
}

// ListenBacklog opens a TCP listener inside the namespace with the given
// accept backlog, which net.Listen does not let a caller choose, and the
// given IPV6_V6ONLY setting (-1 leaves the default). It returns the socket
// and its bound address; the socket closes when the test ends.
func (n *NS) ListenBacklog(t testing.TB, addr string, backlog, v6only int) (int, netip.AddrPort) {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	var fd int
	err := n.Do(func() error {
		fam := unix.AF_INET
		if ap.Addr().Is6() {
			fam = unix.AF_INET6
		}
		var err error
		fd, err = unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if v6only >= 0 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
				return err
			}
		}
		var sa unix.Sockaddr
		if ap.Addr().Is6() {
			sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		} else {
			sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return err
		}
		return unix.Listen(fd, backlog)
	})
	if err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, n.Name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return fd, netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return fd, netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	t.Fatalf("unexpected socket address %T", sa)
	return 0, netip.AddrPort{}
}

// Connect starts a non-blocking IPv4 connect from inside the namespace and
// returns the socket without waiting for the handshake, so a test can
// leave connections in SYN-SENT or fill an accept queue. The socket closes
// when the test ends.
func (n *NS) Connect(t testing.TB, to netip.AddrPort) int {
	t.Helper()
	var fd int
	err := n.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = unix.Connect(fd, &unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().As4()})
		if err != nil && err != unix.EINPROGRESS {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("connect to %s in %s: %v", to, n.Name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// FreePort returns a loopback TCP port nothing listens on right now, for a
// third-party server (nginx, haproxy) the test starts on it.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitDial waits until addr accepts a TCP connection, for at most five
// seconds.
func WaitDial(addr string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
