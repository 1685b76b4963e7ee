package grpctriage

import (
	"context"
	"time"

	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/triagekit/triage/health"
)

// DefaultInterval is how often [Sync] reads the handler's snapshot when
// its interval is zero.
const DefaultInterval = time.Second

// Sync sets srv's serving statuses from h's snapshot every interval until
// ctx ends: "" is SERVING when the handler is ready and NOT_SERVING
// otherwise, and each check's name the same for that check, so that Check,
// Watch and List answer as /readyz and /readyz/<check> do. Reading the
// snapshot may start a refresh, as a probe's request does; it never waits
// for one longer than the handler's Timeout. Before the first snapshot
// every status is NOT_SERVING. When ctx ends, srv is shut down: every
// service NOT_SERVING, as gRPC's health server does when a process stops.
func Sync(ctx context.Context, h *health.Handler, srv *grpchealth.Server, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	srv.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if s, ok := h.Snapshot(ctx); ok {
			apply(srv, s)
		}
		select {
		case <-ctx.Done():
			srv.Shutdown()
			return
		case <-t.C:
		}
	}
}

func apply(srv *grpchealth.Server, s health.Snapshot) {
	srv.SetServingStatus("", servingStatus(s.Ready))
	for _, name := range s.Checks() {
		ready, _ := s.CheckReady(name)
		srv.SetServingStatus(name, servingStatus(ready))
	}
}

func servingStatus(ready bool) healthpb.HealthCheckResponse_ServingStatus {
	if ready {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}
