//go:build linux

package classify

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// cpuServerEnv makes the test binary a service whose every answer costs
// 150 ms of CPU time, for the fault matrix to start as a child process of
// its own (and confine to a cgroup).
const cpuServerEnv = "TRIAGE_TEST_CPU_SERVER"

// runChild runs the test binary as that service when asked to, and
// reports whether it did.
func runChild() bool {
	if os.Getenv(cpuServerEnv) == "" {
		return false
	}
	cpuServer()
	return true
}

func cpuServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	cpu := func() time.Duration {
		var ts unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts)
		return time.Duration(ts.Nano())
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, x := cpu(), 0
		for cpu()-start < 150*time.Millisecond {
			for i := range 10000 {
				x += i * i
			}
		}
		fmt.Fprintf(w, "ok %d\n", x%7)
	})}
	_ = srv.Serve(ln)
}
