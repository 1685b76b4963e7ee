package triage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/triagekit/triage"
)

// PortResult is what a check package's typed result looks like: the
// common part embedded, typed fields beside it.
type PortResult struct {
	triage.Result
	Port int `json:"port"`
}

func checkPort(ctx context.Context, port int) PortResult {
	r := PortResult{Result: triage.Begin("port", triage.Target{Host: "localhost", Port: port}), Port: port}
	r.Add(triage.Finding{
		Code:     "example.no_listener",
		Status:   triage.Fail,
		Summary:  fmt.Sprintf("nothing listens on :%d", port),
		Evidence: triage.Evidence{slog.Int("port", port)},
		Command:  fmt.Sprintf("ss -lntp 'sport = :%d'", port),
	})
	r.Finish(nil)
	return r
}

func ExampleRunner() {
	checks := []triage.Check{
		triage.Func("port", func(ctx context.Context) PortResult { return checkPort(ctx, 8080) }),
		{Name: "permission", Run: func(ctx context.Context) triage.Outcome {
			var r triage.Result
			r.Finish(fmt.Errorf("reading /proc/1/fd: %w", os.ErrPermission))
			return &r
		}},
		{Name: "broken", Run: func(ctx context.Context) triage.Outcome { panic("bug") }},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	for _, o := range (triage.Runner{Concurrency: 2}).Run(ctx, checks...) {
		r := o.Common()
		fmt.Printf("%s: %s", r.Label(), r.Status)
		for _, f := range r.Findings {
			fmt.Printf(" [%s]", f.Code)
		}
		switch {
		case errors.Is(r.Err, os.ErrPermission):
			fmt.Print(" (no permission)")
		case errors.Is(r.Err, triage.ErrPanic):
			fmt.Print(" (panicked)")
		}
		if p, ok := o.(*PortResult); ok {
			fmt.Printf(" port=%d", p.Port)
		}
		fmt.Println()
	}
	// Output:
	// port: fail [example.no_listener] port=8080
	// permission: unknown (no permission)
	// broken: unknown (panicked)
}

func ExampleFinding() {
	f := triage.Finding{
		Code:     "disk.inodes_low",
		Status:   triage.Warn,
		Summary:  "/var/log: 96% of inodes used",
		Evidence: triage.Evidence{slog.String("path", "/var/log"), slog.Float64("inodes_used_pct", 96)},
		Command:  "df -i /var/log",
	}
	b, _ := json.Marshal(f)
	fmt.Println(string(b))
	pct, _ := f.Evidence.Float("inodes_used_pct")
	fmt.Println(f, pct)
	// Output:
	// {"code":"disk.inodes_low","status":"warn","summary":"/var/log: 96% of inodes used","evidence":{"path":"/var/log","inodes_used_pct":96},"command":"df -i /var/log"}
	// warn disk.inodes_low: /var/log: 96% of inodes used 96
}

func ExampleResult_json() {
	r := checkPort(context.Background(), 9000)
	r.Duration = 1500 * time.Microsecond
	b, _ := json.Marshal(&r)
	fmt.Println(string(b))
	// Output:
	// {"check":"port","target":{"host":"localhost","port":9000},"status":"fail","findings":[{"code":"example.no_listener","status":"fail","summary":"nothing listens on :9000","evidence":{"port":9000},"command":"ss -lntp 'sport = :9000'"}],"duration_ns":1500000,"port":9000}
}
