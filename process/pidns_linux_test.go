//go:build linux

package process

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testcontainer"
)

// TestPIDNamespace starts a container whose PID 1 is a sleep, with a
// second sleep beside it, and a sleep on the host too: asked about the
// namespace, the check sees only its processes, by the PIDs the namespace
// gives them.
func TestPIDNamespace(t *testing.T) {
	ctr := testcontainer.NewPID(t, testcontainer.SecondSleep)
	outside := startChild(t, exec.Command("sleep", "600"))
	initPID := ctr.PID()

	r := Check(context.Background(), Options{PIDNamespaceOf: initPID, Name: "sleep", Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 2, "only the namespace's sleeps, not pid %d: %+v", outside.Process.Pid, r.Processes)
	var nsPIDs []int
	for _, p := range r.Processes {
		assert.NotEqual(t, outside.Process.Pid, p.PID)
		nsPIDs = append(nsPIDs, p.NSPID)
	}
	assert.Contains(t, nsPIDs, 1, "its PID 1, numbered as the namespace numbers it")

	r = Check(context.Background(), Options{PIDNamespaceOf: initPID, PID: 1, Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	assert.Equal(t, initPID, r.Processes[0].PID)
	assert.Equal(t, 1, r.Processes[0].NSPID)
	assert.Equal(t, initPID, r.Target.PID, "the target is the PID on this host")

	// No PID 99 in there. Where some process's namespace cannot be read
	// (a host whose init is in another user namespace), that is said
	// instead: it could be the one.
	r = Check(context.Background(), Options{PIDNamespaceOf: initPID, PID: 99, Window: time.Millisecond})
	assert.True(t, r.Has(CodeNotFound) || r.Has(CodePermissionDenied), "%v", r.Findings)
	assert.NotEqual(t, triage.OK, r.Status)
}

// TestPIDNamespaceNested: a container that runs a sandbox of its own (a
// PID namespace nested in its) lists the sandbox's process among its
// own, by the PID it has in the container; a sibling container's
// process is not one of them.
func TestPIDNamespaceNested(t *testing.T) {
	// unshare forks the sandbox's PID 1; wait until it runs sleep.
	ctr := testcontainer.NewPID(t, `unshare --pid --fork sleep 600 & u=$!; `+
		`until c=$(cat /proc/$u/task/$u/children 2>/dev/null) && [ -n "$c" ] && [ "$(cat /proc/${c% }/comm 2>/dev/null)" = sleep ]; do :; done`)
	other := testcontainer.NewPID(t, testcontainer.SecondSleep)

	r := Check(context.Background(), Options{PIDNamespaceOf: ctr.PID(), Name: "sleep", Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 2, "its PID 1 and the sandbox's sleep: %+v", r.Processes)
	var nested Info
	for _, p := range r.Processes {
		assert.NotEqual(t, other.PID(), p.PID)
		if p.PID != ctr.PID() {
			nested = p
		}
	}
	require.NotZero(t, nested.PID)
	ids, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", nested.PID))
	require.NoError(t, err)
	nspid, err := parseNSpid(ids)
	require.NoError(t, err)
	require.Len(t, nspid, 3, "host, container, sandbox")
	assert.Equal(t, nspid[1], nested.NSPID, "its PID as the container numbers it")
	assert.Equal(t, 1, nspid[2])

	// Asked by that PID, it is found.
	r = Check(context.Background(), Options{PIDNamespaceOf: ctr.PID(), PID: nested.NSPID, Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.Len(t, r.Processes, 1)
	assert.Equal(t, nested.PID, r.Processes[0].PID)
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
