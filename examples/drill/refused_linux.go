package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/process"
	"github.com/triagekit/triage/sockstat"
)

// setupRefused serves on a port, then restarts the server on another one
// while clients keep dialling the first: connection refused. Both servers
// bind 127.0.0.1, so nothing listens on the old port on any address and
// the classifier should say refused.not_listening; had the server moved
// to another address on the same port, sockstat would report a listener
// elsewhere and the answer would be refused.wrong_address.
//
// The checks are those of the routine's steps 1, 3 and 4: is the process
// alive (process.Check on the restarted server), does anything listen on
// the port (sockstat, like ss -lntp), and what does the client get
// (probe.TCP and probe.HTTP, like curl -v).
func setupRefused(ctx context.Context, l *lab) (*fault, error) {
	old, err := l.startServer(serverOptions{})
	if err != nil {
		return nil, err
	}
	target := old.url("/")
	before, err := works(ctx, probe.HTTPOptions{URL: target})
	if err != nil {
		return nil, err
	}
	old.stop()
	moved, err := l.startServer(serverOptions{})
	if err != nil {
		return nil, err
	}
	if _, err := works(ctx, probe.HTTPOptions{URL: moved.url("/")}); err != nil {
		return nil, err
	}

	f := &fault{
		before: fmt.Sprintf("%s, served by pid %d", before, old.pid),
		broke: fmt.Sprintf("restarted the server as pid %d on %s; clients still dial %s",
			moved.pid, moved.addr, old.addr),
		targets: []string{"probe.tcp", "probe.http"},
		checks: []triage.Check{
			triage.Func("probe.tcp", func(ctx context.Context) probe.TCPResult {
				return probe.TCP(ctx, probe.TCPOptions{Address: old.addr.String(), Timeout: probeTimeout})
			}),
			httpCheck("probe.http", probe.HTTPOptions{URL: target}),
			triage.Func("sockstat", func(ctx context.Context) sockstat.Result {
				return sockstat.Check(ctx, sockstat.Options{Port: int(old.addr.Port()), Addr: old.addr.Addr(), Owners: true})
			}),
			triage.Func("process", func(ctx context.Context) process.Result {
				return process.Check(ctx, process.Options{PID: moved.pid})
			}),
		},
	}
	if where := listensOn(ctx, moved.pid); where != "" {
		f.notes = append(f.notes, where)
	}
	return f, nil
}

// listensOn says where pid listens, as ss -lntp would show it.
func listensOn(ctx context.Context, pid int) string {
	ls, err := sockstat.Sockets(ctx, sockstat.Options{Owners: true, States: []sockstat.State{sockstat.Listen}})
	if err != nil {
		return ""
	}
	var addrs []string
	for _, s := range ls.Sockets {
		if slices.ContainsFunc(s.Processes, func(p sockstat.Process) bool { return p.PID == pid }) {
			addrs = append(addrs, s.Local.String())
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	return fmt.Sprintf("pid %d listens on %s now ($ ss -lntp | grep pid=%d)", pid, strings.Join(addrs, ", "), pid)
}
