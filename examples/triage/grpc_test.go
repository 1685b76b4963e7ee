package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestGRPCDependency: a dependency whose gRPC health service says its
// payments service is not serving, probed with -dep grpc://.
func TestGRPCDependency(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer()
	hs := grpchealth.NewServer()
	hs.SetServingStatus("payments", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	done := make(chan struct{})
	go func() { _ = s.Serve(ln); close(done) }()
	defer func() { s.Stop(); <-done }()

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-timeout", "5s", "-path", t.TempDir(), "-dep", "grpc://" + ln.Addr().String() + "/payments"}, &out, &errb)
	var doc struct {
		Hypotheses []struct {
			ID string `json:"id"`
		} `json:"hypotheses"`
		Results []struct {
			Check  string `json:"check"`
			Status string `json:"status"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), errb.String())
	assert.Equal(t, exitTrouble, code, out.String())
	require.NotEmpty(t, doc.Hypotheses, out.String())
	assert.Equal(t, "5xx.dependency_down", doc.Hypotheses[0].ID)
	var seen bool
	for _, r := range doc.Results {
		if r.Check == "probe.grpc_health" {
			seen = true
			assert.Equal(t, "fail", r.Status)
		}
	}
	assert.True(t, seen, out.String())

	errb.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"-dep", "grpc://no-port/x"}, &out, &errb), errb.String())
}
