//go:build linux

package host_test

import (
	"context"
	"fmt"
	"time"

	"github.com/triagekit/triage/host"
)

// The check on a fixture tree of a container whose cgroup is near its
// 1GiB memory limit. Without options it checks this host.
func ExampleCheck() {
	r := host.Check(context.Background(), host.Options{
		ProcRoot: "testdata/container/proc",
		SysRoot:  "testdata/container/sys",
		Window:   time.Millisecond,
	})
	fmt.Println(r.Status, r.Memory.JudgedAgainst)
	for _, f := range r.Findings {
		fmt.Println(f.Status, f.Code)
	}
	// Output:
	// fail cgroup
	// warn host.load_high
	// fail host.memory_low
	// warn host.cpu_pressure
	// fail host.memory_pressure
	// warn host.cgroup_cpu_throttled
	// warn host.cgroup_memory_near_limit
	// warn host.oom_kills
	// ok host.oom_kills
}
