package grpctriage_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/grpctriage"
	"github.com/triagekit/triage/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// settable is a check whose status the test sets.
func settable(name string, st *atomic.Int32) triage.Check {
	return triage.Check{Name: name, Run: func(ctx context.Context) triage.Outcome {
		r := &triage.Result{}
		s := triage.Status(st.Load())
		r.Add(triage.Finding{Code: "test.dep", Status: s, Summary: name + " is " + s.String()})
		r.Finish(nil)
		return r
	}}
}

// serve runs a gRPC server on loopback until the test ends, with hs as
// its health service when not nil, and returns its address.
func serve(t *testing.T, hs *grpchealth.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer()
	if hs != nil {
		healthpb.RegisterHealthServer(s, hs)
	}
	done := make(chan struct{})
	go func() { _ = s.Serve(ln); close(done) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return ln.Addr().String()
}

func client(t *testing.T, addr string) healthpb.HealthClient {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// TestSync serves a handler's checks over grpc.health.v1: the server and
// each check answer as /readyz and /readyz/<check> do, Watch sees the
// change, List names them all.
func TestSync(t *testing.T) {
	var db, cache atomic.Int32
	h := health.New(health.Options{Checks: []triage.Check{settable("db", &db), settable("cache", &cache)}, TTL: 10 * time.Millisecond})
	defer h.Close(context.Background())
	hs := grpchealth.NewServer()
	addr := serve(t, hs)
	ctx, cancel := context.WithCancel(context.Background())
	synced := make(chan struct{})
	go func() { grpctriage.Sync(ctx, h, hs, 20*time.Millisecond); close(synced) }()
	c := client(t, addr)

	statusOf := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		resp, err := c.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			return -1
		}
		return resp.GetStatus()
	}
	require.Eventually(t, func() bool { return statusOf("") == healthpb.HealthCheckResponse_SERVING }, 5*time.Second, 10*time.Millisecond)

	watch, err := c.Watch(ctx, &healthpb.HealthCheckRequest{Service: "db"})
	require.NoError(t, err)
	first, err := watch.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, first.GetStatus())

	db.Store(int32(triage.Fail))
	next, err := watch.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, next.GetStatus(), "Watch sees db fail")
	require.Eventually(t, func() bool { return statusOf("") == healthpb.HealthCheckResponse_NOT_SERVING }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, statusOf("cache"), "the other check still passes")

	list, err := c.List(context.Background(), &healthpb.HealthListRequest{})
	require.NoError(t, err)
	assert.Len(t, list.GetStatuses(), 3, "the server and its two checks: %v", list.GetStatuses())

	cancel()
	<-synced
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, statusOf("cache"), "a stopped sync says nothing serves")
}

// TestProbe reproduces the health call against real servers: serving,
// not serving, an unknown service, no health service, nothing listening,
// and a listener that never speaks.
func TestProbe(t *testing.T) {
	hs := grpchealth.NewServer()
	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("billing", healthpb.HealthCheckResponse_NOT_SERVING)
	addr := serve(t, hs)
	bare := serve(t, nil)

	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	dead.Close()
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	for _, tc := range []struct {
		name   string
		o      grpctriage.ProbeOptions
		code   triage.Code
		status triage.Status
	}{
		{"serving", grpctriage.ProbeOptions{Address: addr, Service: "orders"}, grpctriage.CodeServing, triage.OK},
		{"the server as a whole", grpctriage.ProbeOptions{Address: addr}, grpctriage.CodeServing, triage.OK},
		{"not serving", grpctriage.ProbeOptions{Address: addr, Service: "billing"}, grpctriage.CodeNotServing, triage.Fail},
		{"unknown service", grpctriage.ProbeOptions{Address: addr, Service: "nope"}, grpctriage.CodeUnknownService, triage.Fail},
		{"no health service", grpctriage.ProbeOptions{Address: bare}, grpctriage.CodeUnimplemented, triage.Fail},
		{"nothing listens", grpctriage.ProbeOptions{Address: deadAddr, Timeout: 2 * time.Second}, grpctriage.CodeUnavailable, triage.Fail},
		{"never answers", grpctriage.ProbeOptions{Address: mute.Addr().String(), Timeout: 300 * time.Millisecond}, grpctriage.CodeTimeout, triage.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := grpctriage.Check(context.Background(), tc.o)
			require.NoError(t, r.Err)
			f, ok := r.Find(tc.code)
			require.True(t, ok, "findings: %v", r.Findings)
			assert.Equal(t, tc.status, f.Status)
			assert.Equal(t, tc.status, r.Status)
			assert.Contains(t, f.Command, "grpc_health_probe -addr=")
		})
	}
	for _, o := range []grpctriage.ProbeOptions{{}, {Address: "no-port"}, {Address: addr, Timeout: -1}} {
		r := grpctriage.Check(context.Background(), o)
		assert.ErrorIs(t, r.Err, triage.ErrInvalid, "%+v", o)
		assert.Equal(t, triage.Unknown, r.Status)
	}
}

// TestClassifierKnowsTheCodes: the classifier names these codes without
// importing gRPC; a renamed code here would silently stop counting.
func TestClassifierKnowsTheCodes(t *testing.T) {
	for _, code := range []triage.Code{grpctriage.CodeUnavailable, grpctriage.CodeNotServing, grpctriage.CodeTimeout} {
		r := &triage.Result{Check: grpctriage.KindProbe}
		r.Add(triage.Finding{Code: code, Status: triage.Fail, Summary: "db"})
		r.Finish(nil)
		rep := classify.Classify([]triage.Outcome{r}, classify.Options{})
		top, ok := rep.Top()
		require.True(t, ok, "%s raises nothing", code)
		assert.Equal(t, classify.DependencyDown, top.ID, code)
	}
}
