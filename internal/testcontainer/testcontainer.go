//go:build linux

// Package testcontainer makes throwaway containers for tests: a process
// in network and mount namespaces of its own, as a container runtime
// makes them, held open with the container package.
package testcontainer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triagekit/triage/container"
)

// New starts a process in a network and mount namespace of its own after
// running setup in it (a shell fragment: mount a volume, bind-mount its
// resolv.conf, add iptables rules), with its loopback up, and returns it
// held open. The process and the namespaces go when the test ends. It
// skips the test when not root or when unshare(1) or ip(8) are missing.
func New(t testing.TB, setup string) *container.Container {
	t.Helper()
	return start(t, setup, false)
}

// NewNetNS makes a named network namespace with ip netns (a file under
// /var/run/netns, as CNI plugins make them for pods), with its loopback
// up, and returns its name and it held open. It is deleted when the test
// ends. It skips the test when not root or when ip(8) is missing.
func NewNetNS(t testing.TB) (string, *container.Container) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip")
	}
	name := fmt.Sprintf("triage-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a named network namespace here: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s link set lo up: %v: %s", name, err, out)
	}
	ctr, err := container.OpenNetNS("/var/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctr.Close() })
	return name, ctr
}

var netnsSeq atomic.Int64

// SecondSleep is a setup fragment for NewPID that starts a second sleep
// in the container and waits until it runs as sleep, so that a test that
// counts the container's sleeps does not race its exec.
const SecondSleep = `sleep 600 & until [ "$(cat /proc/$!/comm 2>/dev/null)" = sleep ]; do :; done`

// NewPID is New with a PID namespace of its own too: the container's
// processes number themselves from 1, as in a container runtime's, and
// the one held is its PID 1.
func NewPID(t testing.TB, setup string) *container.Container {
	t.Helper()
	return start(t, setup, true)
}

func start(t testing.TB, setup string, pidns bool) *container.Container {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make namespaces")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	if out, err := exec.Command("unshare", "--net", "--mount", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make namespaces here: %v: %s", err, out)
	}
	if setup == "" {
		setup = "true"
	}
	script := "set -e; ip link set lo up; " + setup + "; echo ready; exec sleep 600"
	args := []string{"--net", "--mount", "--propagation", "private"}
	if pidns {
		// unshare forks the namespace's PID 1, waits for it, and kills
		// it when it is killed itself.
		args = append(args, "--pid", "--fork", "--kill-child", "--mount-proc")
	}
	cmd := exec.Command("unshare", append(args, "sh", "-c", script)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("the container's setup failed: %q %v %s", line, err, stderr.String())
	}
	pid := cmd.Process.Pid
	if pidns {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if err != nil {
			t.Fatalf("the PID 1 of the container: %v", err)
		}
		if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			t.Fatalf("the PID 1 of the container: %q: %v", b, err)
		}
	}
	// "ready" is printed before the shell execs its sleep: a test that
	// looks for the container's processes by name must not race it.
	WaitExec(t, pid, "sleep")
	ctr, err := container.Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctr.Close() })
	return ctr
}

// WaitExec waits until process pid runs the program named comm, or fails
// the test after ten seconds: a shell that prints "ready" and then execs
// its program is still the shell for a moment after.
func WaitExec(t testing.TB, pid int, comm string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(b)) == comm {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not exec %s: comm %q, %v", pid, comm, b, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// Listen listens on addr inside the container's network namespace until
// the test ends.
func Listen(t testing.TB, ctr *container.Container, network, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := ctr.Do(context.Background(), func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	}); err != nil {
		t.Fatalf("listen on %s inside pid %d: %v", addr, ctr.PID(), err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Serve answers 200 "ok" over HTTP on addr inside the container until the
// test ends.
func Serve(t testing.TB, ctr *container.Container, addr string) {
	t.Helper()
	ln := Listen(t, ctr, "tcp", addr)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// HostIPv4 is an IPv4 address of this host other than loopback, for a
// service the host reaches and a container with loopback only does not.
// It skips the test when there is none.
func HostIPv4(t testing.TB) string {
	t.Helper()
	ifas, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifa := range ifas {
		if n, ok := ifa.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no IPv4 address but loopback")
	return ""
}

// ListenPacket opens a datagram socket on addr inside the container's
// network namespace until the test ends; nothing reads it, so what is
// sent there goes unanswered.
func ListenPacket(t testing.TB, ctr *container.Container, network, addr string) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	if err := ctr.Do(context.Background(), func() (err error) {
		pc, err = net.ListenPacket(network, addr)
		return err
	}); err != nil {
		t.Fatalf("listen on %s inside pid %d: %v", addr, ctr.PID(), err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}
