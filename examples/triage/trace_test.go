package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/probe"
)

// The -url request's traceparent is found in the service's log.
func TestTraceFollowsTheRequestIntoTheLog(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "app.log")
	f, err := os.Create(logPath)
	require.NoError(t, err)
	defer f.Close()
	var mu sync.Mutex
	var seen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp := r.Header.Get("Traceparent")
		mu.Lock()
		seen = tp
		fmt.Fprintf(f, `{"time":%q,"level":"error","msg":"order failed","traceparent":%q}`+"\n", time.Now().Format(time.RFC3339Nano), tp)
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "10s", "-url", srv.URL + "/orders", "-log", logPath}, &out, &errb)
	assert.Equal(t, 1, code)
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), errb.String())
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, seen, "the request carried a traceparent")
	traceID := strings.Split(seen, "-")[1]
	found, probed := false, false
	for _, r := range rep.Results {
		if r.Check == probe.KindHTTP {
			// The request's result names the trace id the server got.
			probed = true
			var res probe.HTTPResult
			require.NoError(t, r.typed(&res))
			require.Len(t, res.Attempts, 1)
			a := res.Attempts[0]
			assert.Equal(t, traceID, a.TraceID)
			require.NotEmpty(t, a.Hops)
			assert.Equal(t, seen, a.Hops[0].TraceParent)
			require.NotEmpty(t, r.Findings)
			assert.Equal(t, traceID, r.Findings[0].Evidence["trace_id"])
		}
		if r.Check != "logscan" {
			continue
		}
		for _, f := range r.Findings {
			if f.Code == "log.trace_found" {
				found = true
				assert.Contains(t, f.Summary, traceID)
			}
		}
	}
	assert.True(t, found, "log.trace_found in %s", out.String())
	assert.True(t, probed, "probe.http in %s", out.String())
}

// TestHungRequestStillReadsTheLogs: when the request hangs for the whole
// run, the log check does not wait for it past half of the time left, so
// what the logs already say (a database out of connections) is found and
// names the cause.
func TestHungRequestStillReadsTheLogs(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "app.log")
	line := time.Now().Format("2006-01-02 15:04:05.000") + " ERROR [pool-3] o.h.e.j.s.SqlExceptionHelper - FATAL: sorry, too many clients already\n"
	require.NoError(t, os.WriteFile(logPath, []byte(line), 0o644))
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "3s", "-url", srv.URL + "/orders", "-log", logPath}, &out, &errb)
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), errb.String())
	var logCodes []string
	for _, r := range rep.Results {
		if r.Check == "logscan" {
			assert.Empty(t, r.Error, "the log check had time to finish")
			for _, f := range r.Findings {
				logCodes = append(logCodes, f.Code)
			}
		}
	}
	assert.Contains(t, logCodes, "log.pool_exhausted")
	require.NotEmpty(t, rep.Hypotheses, out.String())
	assert.Equal(t, "timeout.dependency", rep.Hypotheses[0].ID)
	assert.Equal(t, exitTrouble, code)
}
