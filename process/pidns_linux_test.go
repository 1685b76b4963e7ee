//go:build linux

package process

import (
	"context"
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

func TestParseNSpid(t *testing.T) {
	ids, err := parseNSpid([]byte("Name:\tsleep\nNSpid:\t4242\t7\t1\nNSsid:\t1\n"))
	require.NoError(t, err)
	assert.Equal(t, []int{4242, 7, 1}, ids)
	for _, bad := range []string{"Name:\tx\n", "NSpid:\n", "NSpid:\t12\tx\n", "NSpid:\t-3\n"} {
		_, err := parseNSpid([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}
