//go:build linux

package container

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnet"
	"github.com/triagekit/triage/internal/testpriv"
)

// helperEnv makes the test binary a helper process: "chroot:DIR" holds
// DIR as its root until its stdin closes; "main:NETNS" calls Do and
// DialContext from its main goroutine.
const helperEnv = "TRIAGE_CONTAINER_HELPER"

func helper() bool {
	v, ok := os.LookupEnv(helperEnv)
	if !ok {
		return false
	}
	switch what, arg, _ := strings.Cut(v, ":"); what {
	case "chroot":
		if err := unix.Chroot(arg); err != nil {
			fmt.Println("chroot:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
	case "main":
		// On the main thread, with one P: the goroutines Do starts are
		// run here first whenever they can be.
		runtime.GOMAXPROCS(1)
		before := threadNetNSOf("/proc/self/ns/net")
		c, err := OpenNetNS(arg)
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		for range 50 {
			_ = c.Do(context.Background(), func() error { return nil })
			_, _ = c.DialContext(context.Background(), "tcp", "127.0.0.1:1")
		}
		c.Close()
		fmt.Printf("main thread kept its namespace: %v\n", threadNetNSOf("/proc/self/ns/net") == before)
	}
	os.Exit(0)
	return true
}

func netInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Stat(path, &st))
	return st.Ino
}

// threadNetNSOf is the inode of the namespace file name.
func threadNetNSOf(name string) uint64 {
	var st unix.Stat_t
	if unix.Stat(name, &st) != nil {
		return 0
	}
	return st.Ino
}

// TestMainThreadNeverEnters runs Do and DialContext from a process's main
// goroutine with one P, where the goroutines they start land on the main
// thread whenever the runtime lets them: the main thread, which
// /proc/self shows, must stay in its own namespace.
func TestMainThreadNeverEnters(t *testing.T) {
	ns := testnet.New(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=main:"+ns.Path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "main thread kept its namespace: true")
}

// threadNetNS is the network namespace of the thread running the caller.
func threadNetNS() uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/thread-self/ns/net", &st) != nil {
		return 0
	}
	return st.Ino
}

func TestNetNSDial(t *testing.T) {
	ns := testnet.New(t)
	c, err := OpenNetNS(ns.Path)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, netInode(t, ns.Path), c.NetNS())
	assert.Zero(t, c.PID())
	_, err = c.Root()
	assert.ErrorIs(t, err, triage.ErrInvalid, "a named namespace has no root")

	// A listener made inside, on the namespace's own loopback.
	var ln net.Listener
	require.NoError(t, c.Do(context.Background(), func() (err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}))
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("inside\n"))
			conn.Close()
		}
	}()
	conn, err := c.DialContext(context.Background(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	require.NoError(t, err)
	assert.Equal(t, "inside\n", line)

	// The host's loopback has no such listener: the same address from
	// here is refused (or, rarely, someone else's).
	if hc, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		hc.Close()
		t.Logf("the host happens to listen on %s too", ln.Addr())
	} else {
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	}

	// The namespace file, as sockstat takes it.
	assert.Equal(t, c.NetNS(), netInode(t, c.NetNSPath()))
}

// TestDoNeverLeaksTheNamespace runs many Do calls while other goroutines
// keep looking at their thread's namespace: none of them may ever find
// itself inside, and the threads Do used end with it.
func TestDoNeverLeaksTheNamespace(t *testing.T) {
	ns := testnet.New(t)
	c, err := OpenNetNS(ns.Path)
	require.NoError(t, err)
	defer c.Close()
	inside := c.NetNS()
	host := threadNetNS()
	require.NotEqual(t, inside, host)

	threads0 := countThreads(t)
	var leaked, looked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if threadNetNS() == inside {
					leaked.Add(1)
				}
				looked.Add(1)
			}
		}()
	}
	var sawInside atomic.Int64
	var dw sync.WaitGroup
	for range 4 {
		dw.Add(1)
		go func() {
			defer dw.Done()
			for range 50 {
				_ = c.Do(context.Background(), func() error {
					if threadNetNS() == inside {
						sawInside.Add(1)
					}
					return nil
				})
			}
		}()
	}
	dw.Wait()
	close(stop)
	wg.Wait()
	assert.Equal(t, int64(200), sawInside.Load(), "every Do ran inside")
	assert.Zero(t, leaked.Load(), "of %d looks from other goroutines", looked.Load())
	assert.Equal(t, host, threadNetNS())
	// Each Do's thread ended with it: 200 calls did not leave 200 threads.
	assert.Less(t, countThreads(t), threads0+20, "threads before: %d", threads0)
}

func countThreads(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	return len(ents)
}

func TestDoPanicAndErrors(t *testing.T) {
	ns := testnet.New(t)
	c, err := OpenNetNS(ns.Path)
	require.NoError(t, err)
	err = c.Do(context.Background(), func() error { panic("boom") })
	assert.ErrorContains(t, err, "boom")
	want := errors.New("mine")
	assert.ErrorIs(t, c.Do(context.Background(), func() error { return want }), want)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	assert.ErrorIs(t, c.Do(ctx, func() error { ran = true; return nil }), context.Canceled)
	assert.False(t, ran)

	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "twice")
	assert.ErrorIs(t, c.Do(context.Background(), func() error { return nil }), os.ErrClosed)
	_, err = c.DialContext(context.Background(), "tcp", "127.0.0.1:1")
	assert.ErrorIs(t, err, os.ErrClosed)
}

func TestBadInput(t *testing.T) {
	_, err := Open(0)
	assert.ErrorIs(t, err, triage.ErrInvalid)
	_, err = Open(-5)
	assert.ErrorIs(t, err, triage.ErrInvalid)
	_, err = OpenNetNS("")
	assert.ErrorIs(t, err, triage.ErrInvalid)
	// A regular file is not a namespace.
	f := filepath.Join(t.TempDir(), "netns")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	_, err = OpenNetNS(f)
	assert.ErrorIs(t, err, triage.ErrInvalid)
	// A FIFO does not hold the open.
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o644))
	_, err = OpenNetNS(fifo)
	assert.ErrorIs(t, err, triage.ErrInvalid)
	_, err = OpenNetNS("/nonexistent/netns")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestGone(t *testing.T) {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	_, err := Open(cmd.Process.Pid)
	assert.ErrorIs(t, err, ErrGone)
}

// unshared starts a process in a network and mount namespace of its own,
// with a tmpfs on /mnt that only it sees holding a file, and returns its
// PID.
func unshared(t *testing.T) int {
	t.Helper()
	return unsharedWith(t, `mount -t tmpfs triage-test /mnt && echo hidden > /mnt/only-inside`)
}

// unsharedWith starts a process in a network and mount namespace of its
// own after running setup there, and returns its PID. Its loopback is up.
func unsharedWith(t *testing.T, setup string) int {
	t.Helper()
	testnet.Require(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1) from util-linux")
	}
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c",
		setup+` && ip link set lo up && echo ready && exec sleep 600`)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Skipf("cannot make a namespace with unshare: %q %v", line, err)
	}
	// unshare execs sh, which execs sleep: the PID is the same process.
	return cmd.Process.Pid
}

func TestOpenByPID(t *testing.T) {
	pid := unshared(t)
	c, err := Open(pid)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, pid, c.PID())
	assert.Equal(t, netInode(t, fmt.Sprintf("/proc/%d/ns/net", pid)), c.NetNS())
	root, err := c.Root()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("/proc/%d/root", pid), root)

	// Its file, by the path it uses; the host has none there.
	f, err := c.Open("/mnt/only-inside")
	require.NoError(t, err)
	b, err := io.ReadAll(f)
	f.Close()
	require.NoError(t, err)
	assert.Equal(t, "hidden\n", string(b))
	_, err = os.Stat("/mnt/only-inside")
	assert.ErrorIs(t, err, os.ErrNotExist)

	// Inside its mount namespace, /mnt is that tmpfs.
	var fsType int64
	require.NoError(t, c.Do(context.Background(), func() error {
		var st unix.Statfs_t
		if err := unix.Statfs("/mnt", &st); err != nil {
			return err
		}
		fsType = st.Type
		return nil
	}))
	assert.Equal(t, int64(unix.TMPFS_MAGIC), fsType)
	var host unix.Statfs_t
	if unix.Statfs("/mnt", &host) == nil && host.Type == unix.TMPFS_MAGIC {
		t.Log("this host's /mnt is a tmpfs too")
	}

	// Its loopback has nothing listening where the host may.
	_, err = c.DialContext(context.Background(), "tcp", "127.0.0.1:9")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// TestOpenStaysInsideTheRoot gives a process a root of its own holding
// symbolic links that point at a file of this host: opened by the path
// the process uses, they must not reach it.
func TestOpenStaysInsideTheRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chroot a child")
	}
	secret := filepath.Join(t.TempDir(), "host-secret")
	require.NoError(t, os.WriteFile(secret, []byte("host only\n"), 0o600))
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "resolv.conf"), []byte("nameserver 10.0.0.53\n"), 0o644))
	require.NoError(t, os.Symlink(secret, filepath.Join(root, "etc", "absolute")))
	require.NoError(t, os.Symlink("../../../../.."+secret, filepath.Join(root, "etc", "climbing")))
	require.NoError(t, os.Symlink("/proc/self/root"+secret, filepath.Join(root, "etc", "magic")))

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=chroot:"+root)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)

	c, err := Open(cmd.Process.Pid)
	require.NoError(t, err)
	defer c.Close()
	f, err := c.Open("/etc/resolv.conf")
	require.NoError(t, err)
	b, _ := io.ReadAll(f)
	f.Close()
	assert.Equal(t, "nameserver 10.0.0.53\n", string(b))

	for _, name := range []string{"/etc/absolute", "/etc/climbing", "/etc/magic", "../../.." + secret, secret} {
		f, err := c.Open(name)
		if err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			assert.NotEqual(t, "host only\n", string(b), "%s reached the host's file", name)
			continue
		}
		assert.Error(t, err, name)
	}
	// Through the host's view of its root, the same link does lead out:
	// the reason Open exists.
	b, err = os.ReadFile(filepath.Join(fmt.Sprintf("/proc/%d/root", cmd.Process.Pid), "etc", "absolute"))
	if err == nil {
		assert.Equal(t, "host only\n", string(b))
	}
}

// TestPermission runs Open as nobody against a root process: refused,
// with an error that says so.
func TestPermission(t *testing.T) {
	pid := os.Getenv("TRIAGE_TEST_PID")
	if !testpriv.InChild() {
		sleeper := exec.Command("sleep", "60")
		require.NoError(t, sleeper.Start())
		t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
		pid = strconv.Itoa(sleeper.Process.Pid)
	}
	testpriv.AsNobody(t, func(t *testing.T) {
		n, err := strconv.Atoi(pid)
		require.NoError(t, err)
		_, err = Open(n)
		assert.ErrorIs(t, err, os.ErrPermission)
	}, "TRIAGE_TEST_PID="+pid)
}
