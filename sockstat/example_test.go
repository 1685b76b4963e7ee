package sockstat_test

import (
	"context"
	"fmt"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/sockstat"
)

// Is anything listening on 127.0.0.1:8080, and what do the connection
// states say? The /proc tree here is a fixture; leave ProcRoot empty to
// look at this host.
func ExampleCheck() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := sockstat.Check(ctx, sockstat.Options{
		Port:     8080,
		ProcRoot: "testdata/proc",
		Sample:   -1, // one reading of the counters, no sample window
	})
	for _, f := range r.Findings {
		fmt.Println(f.Status, f.Code, f.Summary)
	}
	// Output:
	// ok sockstat.listening listening on 127.0.0.1:8080
	// warn sockstat.syn_sent_backlog 6 connections to 10.0.0.9 stuck in SYN-SENT: the peer or the network drops SYNs
	// warn sockstat.close_wait_leak 12 sockets in CLOSE-WAIT on local port 8080: the application does not close them
}

// Aimed at what an operator typed: sockstat decides whether the target
// is on this host (is its port listened to, on that address, by whom?)
// or elsewhere (what do the connections towards it show?).
func ExampleCheck_target() {
	t, err := triage.ParseTarget("http://localhost:8080/health")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r := sockstat.Check(ctx, sockstat.Options{Target: t, Owners: true})
	fmt.Println(r.Status, r.Target)
	for _, f := range r.Findings {
		fmt.Println(f.Status, f.Code, f.Summary)
	}
}

// The state histogram of this host, as `ss -s` gives it.
func ExampleSummarize() {
	s, err := sockstat.Summarize(context.Background(), sockstat.Options{ProcRoot: "testdata/proc"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Total, "TCP sockets:", s.States[sockstat.Established], "established,", s.States[sockstat.TimeWait], "in TIME-WAIT")
	// Output: 29 TCP sockets: 5 established, 3 in TIME-WAIT
}

// Listening sockets with their owners, like `ss -lntp`.
func ExampleSockets() {
	l, err := sockstat.Sockets(context.Background(), sockstat.Options{
		States:   []sockstat.State{sockstat.Listen},
		ProcRoot: "testdata/proc",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range l.Sockets {
		fmt.Println(s.State, s.Local, s.RecvQ)
	}
	// Output:
	// LISTEN 127.0.0.1:8080 129
	// LISTEN 0.0.0.0:22 0
	// LISTEN [::]:443 0
}
