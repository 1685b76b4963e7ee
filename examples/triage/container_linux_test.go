//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/container"
	"github.com/triagekit/triage/internal/testcgroup"
)

// fakeContainer starts a process in a network and mount namespace of its
// own, as a container runtime would, after running setup in it (a shell
// fragment: bind-mount its resolv.conf, add its iptables rules), and
// returns it held open. Its loopback is up.
func fakeContainer(t *testing.T, setup string) *container.Container {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make namespaces")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	script := "set -e; ip link set lo up; " + setup + "; echo ready; exec sleep 600"
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Skipf("cannot make a container here: %q %v %s", line, err, stderr.String())
	}
	ctr, err := container.Open(cmd.Process.Pid)
	require.NoError(t, err)
	t.Cleanup(func() { ctr.Close() })
	return ctr
}

// serveInside serves HTTP on addr in the container's network namespace.
func serveInside(t *testing.T, ctr *container.Container, addr string) {
	t.Helper()
	var ln net.Listener
	require.NoError(t, ctr.Do(context.Background(), func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// hostIPv4 is an IPv4 address of this host other than loopback.
func hostIPv4(t *testing.T) string {
	t.Helper()
	ifas, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, ifa := range ifas {
		if n, ok := ifa.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no IPv4 address but loopback")
	return ""
}

type containerDoc struct {
	Input struct {
		Container struct {
			PID   int    `json:"pid"`
			NetNS uint64 `json:"netns"`
		} `json:"container"`
	} `json:"input"`
	Verdict    string `json:"verdict"`
	Symptom    string `json:"symptom"`
	Hypotheses []struct {
		ID   string   `json:"id"`
		Next []string `json:"next"`
	} `json:"hypotheses"`
}

func triageJSON(t *testing.T, args ...string) (containerDoc, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(args, "-json", "-timeout", "8s"), &out, &errb)
	var doc containerDoc
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), "exit %d: %s", code, errb.String())
	return doc, code, out.String()
}

func top(d containerDoc) string {
	if len(d.Hypotheses) == 0 {
		return ""
	}
	return d.Hypotheses[0].ID
}

// TestContainer diagnoses faults of a container through -container PID:
// every check made from inside its namespaces, 127.0.0.1 its loopback,
// its resolv.conf the application's.
func TestContainer(t *testing.T) {
	t.Run("healthy service on its own loopback", func(t *testing.T) {
		ctr := fakeContainer(t, "true")
		serveInside(t, ctr, "127.0.0.1:8080")
		pid := strconv.Itoa(ctr.PID())
		doc, code, out := triageJSON(t, "-container", pid, "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, exitHealthy, code, out)
		assert.Equal(t, "none", doc.Symptom, out)
		assert.Empty(t, doc.Hypotheses, out)
		assert.Equal(t, ctr.PID(), doc.Input.Container.PID, out)
		assert.Equal(t, ctr.NetNS(), doc.Input.Container.NetNS, out)
		sch, err := jsonschema.NewCompiler().Compile(filepath.Join("..", "..", "schema", "report.schema.json"))
		require.NoError(t, err)
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		require.NoError(t, err)
		assert.NoError(t, sch.Validate(v), out)

		// From the host, the same URL is the host's loopback, where
		// nothing listens on that port (the report must say something
		// else entirely).
		if c, err := net.Dial("tcp", "127.0.0.1:8080"); err == nil {
			c.Close()
			t.Log("the host listens on 127.0.0.1:8080 too; skipping the host's view")
			return
		}
		doc, _, out = triageJSON(t, "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, "refused", doc.Symptom, out)
	})
	t.Run("service on another port", func(t *testing.T) {
		ctr := fakeContainer(t, "true")
		serveInside(t, ctr, "127.0.0.1:8081")
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "refused", doc.Symptom, out)
		assert.Equal(t, "refused.not_listening", top(doc), out)
		// What to run next looks at the container's sockets, not the
		// host's.
		assert.Contains(t, doc.Hypotheses[0].Next, "nsenter -t "+strconv.Itoa(ctr.PID())+" -n ss -lntp 'sport = :8080'", out)
	})
	t.Run("iptables drops in its namespace", func(t *testing.T) {
		if _, err := exec.LookPath("iptables"); err != nil {
			t.Skip("needs iptables")
		}
		ctr := fakeContainer(t, "iptables -A INPUT -p tcp --dport 8080 -j DROP")
		serveInside(t, ctr, "127.0.0.1:8080")
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-url", "http://127.0.0.1:8080/")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "timeout", doc.Symptom, out)
		assert.Equal(t, "timeout.packet_drop", top(doc), out)
	})
	t.Run("an address only the host reaches", func(t *testing.T) {
		ip := hostIPv4(t)
		ln, err := net.Listen("tcp", ip+":0")
		require.NoError(t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		ctr := fakeContainer(t, "true") // loopback only: no route out
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-url", "http://"+ln.Addr().String()+"/")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "refused", doc.Symptom, out)
		assert.Equal(t, "refused.no_route", top(doc), out)
		assert.Contains(t, out, "container.reach_differs", "the host reaches it: %s", out)
	})
	t.Run("its resolver never answers, the host's does", func(t *testing.T) {
		// The container's resolv.conf names a server on its own loopback
		// that takes queries and never answers; the host's is untouched.
		dir := t.TempDir()
		rc := filepath.Join(dir, "resolv.conf")
		require.NoError(t, os.WriteFile(rc, []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644))
		ctr := fakeContainer(t, "mount --bind "+rc+" /etc/resolv.conf")
		var pc net.PacketConn
		require.NoError(t, ctr.Do(context.Background(), func() (err error) {
			pc, err = net.ListenPacket("udp", "127.0.0.1:53")
			return err
		}))
		t.Cleanup(func() { pc.Close() })
		serveInside(t, ctr, "127.0.0.1:8080")
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-url", "http://api.internal:8080/")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "timeout", doc.Symptom, out)
		assert.Equal(t, "timeout.dns", top(doc), out)
	})
}

// TestContainerFiles: -path and -log name the container's filesystems and
// files, which this host does not see.
func TestContainerFiles(t *testing.T) {
	t.Run("a volume full only inside", func(t *testing.T) {
		ctr := fakeContainer(t, "mkdir -p /mnt/triage-data && mount -t tmpfs -o size=1m volume /mnt/triage-data && (head -c 2m /dev/zero > /mnt/triage-data/fill || true)")
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-path", "/mnt/triage-data")
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "disk.full", top(doc), out)
	})
	t.Run("its log names a refused dependency", func(t *testing.T) {
		line := time.Now().UTC().Format(time.RFC3339) + ` ERROR order 17: dial tcp 10.20.0.5:5432: connect: connection refused`
		ctr := fakeContainer(t, "mkdir -p /mnt/triage-log && mount -t tmpfs logs /mnt/triage-log && echo '"+line+"' > /mnt/triage-log/app.log")
		doc, _, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()), "-log", "/mnt/triage-log/app.log")
		assert.Contains(t, out, "10.20.0.5:5432", "the container's log was read")
		assert.Equal(t, "5xx.dependency_down", top(doc), out)
		// On this host the file does not exist.
		_, err := os.Stat("/mnt/triage-log/app.log")
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("its cgroup near its memory limit", func(t *testing.T) {
		m := testcgroup.NewMemory(t, 64<<20)
		ctr := fakeContainer(t, m.EnterScript()+" && mount -t tmpfs -o size=100m shm /dev/shm && head -c 60m /dev/zero > /dev/shm/hold")
		doc, code, out := triageJSON(t, "-container", strconv.Itoa(ctr.PID()))
		assert.Equal(t, exitTrouble, code, out)
		assert.Equal(t, "resource.memory_pressure", top(doc), out)
	})
}

// TestContainerUsage: a process that is not there is a usage error, and
// the flags that would read the host's files instead of the container's
// are refused.
func TestContainerUsage(t *testing.T) {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	for _, args := range [][]string{
		{"-container", strconv.Itoa(cmd.Process.Pid)},
		{"-container", "-3"},
		{"-container", "1", "-journal-dir", "/var/log/journal"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errb.String())
		assert.Contains(t, errb.String(), "-container", args)
	}
}
