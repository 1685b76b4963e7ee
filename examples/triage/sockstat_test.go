package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/sockstat"
)

func TestSockstatTarget(t *testing.T) {
	tests := []struct {
		name     string
		c        config
		host     string
		port     int
		usageErr bool
	}{
		{"no target", config{}, "", 0, false},
		{"url with port", config{url: "http://127.0.0.1:8080/health"}, "127.0.0.1", 8080, false},
		{"https default port", config{url: "https://api.example.com/"}, "api.example.com", 443, false},
		{"ipv6 url", config{url: "http://[::1]:9000/"}, "::1", 9000, false},
		{"addr", config{addr: "localhost:5432"}, "localhost", 5432, false},
		{"addr without host", config{addr: ":6379"}, "localhost", 6379, false},
		{"url wins over addr", config{url: "http://127.0.0.1:1/", addr: "x:2"}, "127.0.0.1", 1, false},
		{"relative url", config{url: "/health"}, "", 0, true},
		{"unknown scheme without port", config{url: "redis://cache/"}, "", 0, true},
		{"addr without port", config{addr: "db.internal"}, "", 0, true},
		{"addr port out of range", config{addr: "127.0.0.1:70000"}, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := sockstatTarget(&tt.c)
			if tt.usageErr {
				var ue usageError
				assert.True(t, errors.As(err, &ue), "err %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.host, tg.Host)
			assert.Equal(t, tt.port, tg.Port)
			ps, err := planSockstat(&tt.c)
			require.NoError(t, err)
			require.Len(t, ps, 1)
			assert.Equal(t, stepPorts, ps[0].step)
			assert.Equal(t, "sockstat", ps[0].check.Name)
		})
	}
}

// runSockstat runs the whole command with -json -addr addr and returns
// its exit status and the sockstat record.
func runSockstat(t *testing.T, addr string) (int, triage.Record) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "10s", "-addr", addr}, &out, &errb)
	var rep struct {
		Results []triage.Record `json:"results"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "stdout: %s\nstderr: %s", out.String(), errb.String())
	for _, r := range rep.Results {
		if r.Check == "sockstat" {
			return code, r
		}
	}
	t.Fatalf("no sockstat result in %s", out.String())
	return 0, triage.Record{}
}

func findingIn(t *testing.T, r triage.Record, code triage.Code) triage.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Code == code {
			return f
		}
	}
	t.Fatalf("no %s in %+v", code, r.Findings)
	return triage.Finding{}
}

// TestSockstatEndToEnd runs the command against a local target: a closed
// loopback port, then a listener of this test process.
func TestSockstatEndToEnd(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sockstat reads Linux interfaces only")
	}
	t.Run("closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		require.NoError(t, ln.Close())

		code, r := runSockstat(t, fmt.Sprintf("127.0.0.1:%d", port))
		assert.Equal(t, 1, code, "a refused target is trouble")
		assert.NoError(t, r.Err)
		assert.Equal(t, triage.Fail, r.Status)
		f := findingIn(t, r, sockstat.CodeNoListener)
		p, _ := f.Evidence.Int("port")
		assert.EqualValues(t, port, p)
		assert.Equal(t, "tcp", f.Evidence.String("proto"))
	})

	t.Run("listener of this process", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port

		_, r := runSockstat(t, fmt.Sprintf("127.0.0.1:%d", port))
		assert.NoError(t, r.Err)
		f := findingIn(t, r, sockstat.CodeListening)
		assert.Equal(t, triage.OK, f.Status)
		p, _ := f.Evidence.Int("port")
		assert.EqualValues(t, port, p)
		assert.Equal(t, "127.0.0.1", f.Evidence.String("addr"))
		// The command looks owners up: the owner is this test process.
		pid, ok := f.Evidence.Int("pid")
		require.True(t, ok, "evidence: %v", f.Evidence)
		assert.EqualValues(t, os.Getpid(), pid)
		for _, g := range r.Findings {
			assert.NotEqual(t, sockstat.CodeNoListener, g.Code)
		}
	})
}
