//go:build linux

package host

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
)

// TestIntegrationCPUImbalance pins a busy loop to one core, as a
// single-threaded service running flat out is: over the window that core
// is busy while the cores together are not, and the check names it. On a
// host whose other cores are busy too there is no imbalance to see, and
// the test says so and skips.
func TestIntegrationCPUImbalance(t *testing.T) {
	var set unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &set))
	if set.Count() < 2 {
		t.Skipf("needs two cores to run on, has %d", set.Count())
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("needs taskset (util-linux)")
	}
	core := -1
	for i := range 1024 {
		if set.IsSet(i) {
			core = i // the last core this process may use
		}
	}
	loop := exec.Command("taskset", "-c", strconv.Itoa(core), "sh", "-c", "while :; do :; done")
	require.NoError(t, loop.Start())
	t.Cleanup(func() { _ = loop.Process.Kill(); _ = loop.Wait() })
	time.Sleep(100 * time.Millisecond) // past taskset's exec, at full speed

	r := Check(context.Background(), Options{Window: time.Second})
	require.NoError(t, r.Err)
	var hot *CoreStats
	for i := range r.CPU.PerCore {
		if r.CPU.PerCore[i].CPU == core {
			hot = &r.CPU.PerCore[i]
		}
	}
	require.NotNil(t, hot, "cpu%d among %+v", core, r.CPU.PerCore)
	th := Thresholds{}.withDefaults()
	if r.CPU.BusyPct >= th.CPUBusyPct*2/3 {
		// On a busy host (and one whose CPU quota the load exhausts, where
		// even the loop's core idles while throttled) there is nothing to
		// tell apart.
		t.Skipf("the other cores were busy too (%.0f%% together): no imbalance to see", r.CPU.BusyPct)
	}
	assert.GreaterOrEqual(t, hot.BusyPct, 90.0, "the loop's core is busy the whole window")
	f, ok := r.Find(CodeCPUImbalance)
	require.True(t, ok, "cpu%d %.0f%%, %.0f%% together: %v", core, hot.BusyPct, r.CPU.BusyPct, r.Findings)
	assert.Equal(t, triage.Warn, f.Status)
	n, _ := f.Evidence.Int("cpu")
	assert.Equal(t, int64(core), n, f.Summary)
}
