package health_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
)

func Example() {
	// The checks come from configuration, never from the request.
	disk := triage.Check{Name: "disk", Run: func(ctx context.Context) triage.Outcome {
		r := &triage.Result{}
		r.Add(triage.Finding{Code: "disk.full", Status: triage.Fail, Summary: "/var/log is 100% full"})
		r.Finish(nil)
		return r
	}}
	h := health.New(health.Options{
		Checks: []triage.Check{disk},
		// Only callers with the token see reasons and hypotheses.
		Details: func(r *http.Request) bool { return r.Header.Get("X-Token") == "let-me-see" },
	})
	mux := http.NewServeMux()
	mux.Handle("/livez", h)
	mux.Handle("/readyz", h)
	mux.Handle("/health", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{"/livez", "/readyz?verbose"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d\n%s", path, resp.StatusCode, body)
	}
	// Output:
	// /livez 200
	// ok
	// /readyz?verbose 503
	// [-]disk failed
	// readyz check failed
}

// The handler mounted under /healthz/, as a Kubernetes probe would call
// it: one check alone, and readiness with a check left out.
func Example_mount() {
	check := func(name string, st triage.Status) triage.Check {
		return triage.Check{Name: name, Run: func(ctx context.Context) triage.Outcome {
			r := &triage.Result{}
			r.Add(triage.Finding{Code: "example." + triage.Code(name), Status: st, Summary: name + " is " + st.String()})
			r.Finish(nil)
			return r
		}}
	}
	h := health.New(health.Options{Checks: []triage.Check{
		check("db", triage.OK),
		check("cache", triage.Fail),
	}})
	mux := http.NewServeMux()
	mux.Handle("/healthz/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{"/healthz/readyz/db", "/healthz/readyz?verbose", "/healthz/readyz?verbose&exclude=cache"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d\n%s", path, resp.StatusCode, body)
	}
	// Output:
	// /healthz/readyz/db 200
	// ok
	// /healthz/readyz?verbose 503
	// [+]db ok
	// [-]cache failed
	// readyz check failed
	// /healthz/readyz?verbose&exclude=cache 200
	// [+]db ok
	// [+]cache excluded: ok
	// readyz check passed
}
