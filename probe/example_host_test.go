//go:build linux

package probe_test

import (
	"context"
	"fmt"
	"time"

	"github.com/triagekit/triage/probe"
)

// The host check on a fixture tree of a container whose cgroup is near
// its 1GiB memory limit. Without options it checks this host.
func ExampleHost() {
	r := probe.Host(context.Background(), probe.HostOptions{
		ProcRoot: "testdata/host/container/proc",
		SysRoot:  "testdata/host/container/sys",
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

// The process check by pidfile, on a fixture tree. Against the live
// system, leave ProcRoot empty.
func ExampleProcess() {
	r := probe.Process(context.Background(), probe.ProcessOptions{
		Pidfile:  "testdata/pidfile.odd",
		ProcRoot: "testdata/proc",
		Window:   time.Millisecond,
	})
	for _, p := range r.Processes {
		fmt.Printf("pid %d %q state %s, %d/%d fds\n", p.PID, p.Name, p.State, p.FDs, p.FDLimit)
	}
	for _, f := range r.Findings {
		if f.Code == probe.CodeProcessRunning {
			fmt.Println(f.Status, f.Code) // its summary has the uptime
			continue
		}
		fmt.Println(f.Status, f.Code, f.Summary)
	}
	// Output:
	// pid 4242 "my (odd) srv" state S, 9/10 fds
	// ok process.running
	// warn process.fds_near_limit pid 4242 (my (odd) srv) has 9 open files of its soft limit 10 (90.0%)
}
