package logscan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/triagekit/triage/logscan"
)

func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "logscan-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.log")
	os.WriteFile(path, []byte(`2026-11-25T07:58:00Z INFO listening on :8080
2026-11-25T07:58:01Z ERROR charge failed: dial tcp 10.0.0.5:5432: connect: connection refused
2026-11-25T07:58:02Z ERROR charge failed: dial tcp 10.0.0.5:5432: connect: connection refused
{"time":"2026-11-25T07:58:03Z","level":"error","msg":"checkout failed","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}
`), 0o644)

	r := logscan.Check(context.Background(), logscan.Options{
		Files:   []string{path},
		Since:   10 * time.Minute,
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		Now:     func() time.Time { return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC) },
	})
	fmt.Println(r.Status, r.Lines, "lines")
	for _, s := range r.Signatures {
		fmt.Printf("%d× %s\n", s.Count, s.Pattern)
	}
	for _, f := range r.Findings {
		fmt.Println(f.Status, f.Code+":", f.Summary)
	}
	fmt.Println(r.Trace[0].Message)
	// Output:
	// fail 4 lines
	// 2× charge failed: dial tcp <ip>: connect: connection refused
	// 1× checkout failed
	// warn log.errors: 3 error lines in 4 lines, 2 signatures; top (2×): charge failed: dial tcp <ip>: connect: connection refused
	// fail log.dependency_refused: 2 connections refused by 10.0.0.5:5432, last at 2026-11-25T07:58:02Z
	// ok log.trace_found: 1 line carries trace 4bf92f3577b34da6a3ce929d0e0e4736 (1 error) in 1 source
	// checkout failed
}

// The routine's "journalctl -u svc --since '10 minutes ago'" plus the
// kernel log, which explains timeouts (conntrack, SYN floods) and write
// failures (I/O errors).
func ExampleCheck_journal() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := logscan.Check(ctx, logscan.Options{
		Units:  []string{"api.service"},
		Kernel: true,
		Since:  10 * time.Minute,
	})
	for _, f := range r.Findings {
		fmt.Println(f)
	}
	if r.Err != nil {
		fmt.Println("could not tell:", r.Err)
	}
}

func ExampleTail() {
	dir, _ := os.MkdirTemp("", "logscan-tail")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.log")
	os.WriteFile(path, []byte(`2026-11-25T07:58:00Z INFO listening on :8080
2026-11-25T07:58:01Z WARN slow query took 1200ms
{"time":"2026-11-25T07:58:02Z","level":"error","msg":"payment failed","trace_id":"4bf92f35"}
`), 0o644)

	lines, err := logscan.Tail(context.Background(), path, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range lines {
		fmt.Printf("%s %s %q trace=%q\n", l.Time.UTC().Format(time.TimeOnly), l.Level, l.Message, l.TraceID)
	}
	// Output:
	// 07:58:01 warn "slow query took 1200ms" trace=""
	// 07:58:02 error "payment failed" trace="4bf92f35"
}
