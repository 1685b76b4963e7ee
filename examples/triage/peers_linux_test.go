//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testhaproxy"
)

// hungBackend accepts HTTP requests and never answers them.
func hungBackend(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	release := make(chan struct{})
	var once sync.Once
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		once.Do(func() { close(release) })
		_ = srv.Close()
	})
	return ln.Addr().String()
}

// TestIntegrationProxyWaitingOnItsUpstream: real haproxy waits on a hung
// backend longer than triage waits. Its log says nothing yet, and a TCP
// connect to the backend works; the backend found from haproxy's own
// connections and asked the request itself does not answer either, so
// the blame goes to the dependency, not to the proxy behind triage's own
// deadline.
func TestIntegrationProxyWaitingOnItsUpstream(t *testing.T) {
	backend := hungBackend(t)
	p := testhaproxy.Start(t, testhaproxy.Options{Server: backend, ServerTimeout: 30 * time.Second})

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "4s", "-url", "http://" + p.Addr + "/orders", "-log", p.Log}, &out, &errb)
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), errb.String())
	assert.Equal(t, "timeout", rep.Symptom)
	var found bool
	for _, r := range rep.Results {
		if r.Name == "dependency "+backend+" (found)" {
			found = true
			var codes []string
			for _, f := range r.Findings {
				codes = append(codes, f.Code)
			}
			assert.Contains(t, codes, "http.no_first_byte")
		}
	}
	require.True(t, found, "the backend is found from haproxy's connections: %s", out.String())
	require.NotEmpty(t, rep.Hypotheses)
	assert.Equal(t, "timeout.dependency", rep.Hypotheses[0].ID, "ranking: %v", hypotheses(rep))
	assert.Equal(t, exitTrouble, code)

	// Named with -dep HOST:PORT, the backend passes a TCP connect; the
	// found probe still asks it the request, and the blame stays.
	out.Reset()
	code = run(context.Background(), []string{"-json", "-timeout", "4s", "-url", "http://" + p.Addr + "/orders", "-dep", backend}, &out, &errb)
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), errb.String())
	require.NotEmpty(t, rep.Hypotheses)
	assert.Equal(t, "timeout.dependency", rep.Hypotheses[0].ID, "ranking: %v", hypotheses(rep))
	assert.Equal(t, exitTrouble, code)

	// The text names the found dependency in the dependencies step.
	out.Reset()
	run(context.Background(), []string{"-timeout", "4s", "-url", "http://" + p.Addr + "/orders"}, &out, &errb)
	_, deps, ok := strings.Cut(out.String(), "6 dependencies\n")
	require.True(t, ok, out.String())
	assert.Contains(t, deps, backend, out.String())
}

// TestIntegrationDependencyFoundFromConnections: a service answers 500
// while its database is gone; nobody named the database, but the
// service's pooled connection to it is still there. The database is
// found from the service's connections, probed, refuses, and is blamed.
func TestIntegrationDependencyFoundFromConnections(t *testing.T) {
	db, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dbAddr := db.Addr().String()
	pooled, err := net.Dial("tcp", dbAddr)
	require.NoError(t, err)
	defer pooled.Close()
	served, err := db.Accept()
	require.NoError(t, err)
	// The database goes away: its end closes, the pool's stays open
	// (CLOSE-WAIT), and nothing listens any more.
	served.Close()
	db.Close()

	app, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database unavailable", http.StatusInternalServerError)
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(app) }()
	defer srv.Close()

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "5s", "-url", "http://" + app.Addr().String() + "/orders"}, &out, &errb)
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), errb.String())
	assert.Equal(t, "5xx", rep.Symptom)
	var found bool
	for _, r := range rep.Results {
		if r.Name == "dependency "+dbAddr+" (found)" {
			found = true
			require.NotEmpty(t, r.Findings)
			assert.Equal(t, "tcp.refused", r.Findings[0].Code)
		}
		assert.NotEqual(t, "dependency "+app.Addr().String()+" (found)", r.Name, "the target is not its own dependency")
	}
	require.True(t, found, "the database is found from the service's connections: %s", out.String())
	require.NotEmpty(t, rep.Hypotheses)
	assert.Equal(t, "5xx.dependency_down", rep.Hypotheses[0].ID, "ranking: %v", hypotheses(rep))
	assert.Equal(t, exitTrouble, code)
}
