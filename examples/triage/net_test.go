package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNetUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-head"},
		{"-resolve", "a:80:127.0.0.1"},
		{"-url", "ftp://x/"},
		{"-url", "http://x/", "-resolve", "x:80"},
		{"-url", "http://x/", "-resolve", "x:80:nope"},
		{"-addr", "localhost"},
		{"-addr", "localhost:0"},
		{"-dep", "db"},
		{"-dep", "gopher://x"},
	} {
		t.Run(args[0]+" "+args[len(args)-1], func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, 2, run(context.Background(), args, &out, &errb))
			assert.NotEmpty(t, errb.String())
		})
	}
}

// netCodes runs the command with -json and returns the finding codes per
// check name.
func netCodes(t *testing.T, args ...string) map[string][]string {
	t.Helper()
	var out, errb bytes.Buffer
	run(context.Background(), append([]string{"-json", "-timeout", "5s"}, args...), &out, &errb)
	var rep struct {
		Results []struct {
			Check    string `json:"check"`
			Findings []struct {
				Code string `json:"code"`
			} `json:"findings"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "stdout: %s\nstderr: %s", out.String(), errb.String())
	codes := map[string][]string{}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			kind, _, _ := strings.Cut(r.Check, " ")
			codes[kind] = append(codes[kind], f.Code)
		}
	}
	return codes
}

func TestNetJSON(t *testing.T) {
	var mu sync.Mutex
	methods := map[string][]string{} // by path
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods[r.URL.Path] = append(methods[r.URL.Path], r.Method)
		mu.Unlock()
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	codes := netCodes(t, "-url", "http://app.triage.invalid:"+port+"/", "-head",
		"-resolve", "app.triage.invalid:"+port+":127.0.0.1",
		"-dep", closed, "-dep", srv.URL+"/fail")
	assert.Contains(t, codes["probe.http"], "http.ok")
	assert.Contains(t, codes["probe.tcp"], "tcp.refused")
	assert.Contains(t, codes["probe.http"], "http.status_5xx")
	mu.Lock()
	assert.Equal(t, []string{"HEAD"}, methods["/"], "-head asks the -url like curl -I")
	assert.Equal(t, []string{"GET"}, methods["/fail"], "a -dep URL is not the -url")
	mu.Unlock()

	codes = netCodes(t, "-addr", srv.Listener.Addr().String())
	assert.Equal(t, []string{"tcp.connected"}, codes["probe.tcp"])
}
