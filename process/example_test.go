//go:build linux

package process_test

import (
	"context"
	"fmt"
	"time"

	"github.com/triagekit/triage/process"
)

// The check by pidfile, on a fixture tree. Against the live system, leave
// ProcRoot empty.
func ExampleCheck() {
	r := process.Check(context.Background(), process.Options{
		Pidfile:  "testdata/pidfile.odd",
		ProcRoot: "testdata/proc",
		Window:   time.Millisecond,
	})
	for _, p := range r.Processes {
		fmt.Printf("pid %d %q state %s, %d/%d fds\n", p.PID, p.Name, p.State, p.FDs, p.FDLimit)
	}
	for _, f := range r.Findings {
		if f.Code == process.CodeRunning {
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
