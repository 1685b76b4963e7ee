//go:build linux

package process

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// TestPIDNamespace starts a shell as PID 1 of a PID namespace of its
// own, with a sleep beside it, and a sleep on the host too: asked about
// the namespace, the check sees only its processes, by the PIDs the
// namespace gives them.
func TestPIDNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a PID namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
	outside := startChild(t, exec.Command("sleep", "600"))
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sh", "-c", "sleep 600 & echo ready; wait")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Skipf("cannot make a PID namespace: %q %v", line, err)
	}
	// unshare forked the namespace's init: its only child.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children")
	require.NoError(t, err)
	initPID, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err, "%q", b)
	t.Cleanup(func() { _ = syscallKill(initPID) })

	r := Check(context.Background(), Options{PIDNamespaceOf: initPID, Name: "sleep", Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1, "only the namespace's sleep, not pid %d: %+v", outside.Process.Pid, r.Processes)
	p := r.Processes[0]
	assert.Equal(t, 2, p.NSPID, "the sleep is the namespace's second process")
	assert.NotEqual(t, outside.Process.Pid, p.PID)
	assert.Equal(t, initPID, p.PPID)
	assert.Equal(t, p.PID, r.Target.PID, "the target is the PID on this host")

	r = Check(context.Background(), Options{PIDNamespaceOf: initPID, PID: 1, Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	assert.Equal(t, initPID, r.Processes[0].PID)
	assert.Equal(t, 1, r.Processes[0].NSPID)
	assert.Equal(t, "sh", r.Processes[0].Name)

	// No PID 99 in there. Where some process's namespace cannot be read
	// (a host whose init is in another user namespace), that is said
	// instead: it could be the one.
	r = Check(context.Background(), Options{PIDNamespaceOf: initPID, PID: 99, Window: time.Millisecond})
	assert.True(t, r.Has(CodeNotFound) || r.Has(CodePermissionDenied), "%v", r.Findings)
	assert.NotEqual(t, triage.OK, r.Status)
}

func TestParseNSpid(t *testing.T) {
	ids, err := parseNSpid([]byte("Name:\tsleep\nNSpid:\t4242\t7\t1\nNSsid:\t1\n"))
	require.NoError(t, err)
	assert.Equal(t, []int{4242, 7, 1}, ids)
	for _, bad := range []string{"Name:\tx\n", "NSpid:\n", "NSpid:\t12\tx\n", "NSpid:\t-3\n"} {
		_, err := parseNSpid([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
