// Package grpctriage speaks grpc.health.v1 for triage, both ways.
//
// Serving: [Sync] keeps a google.golang.org/grpc/health.Server (gRPC's
// own implementation of Check, Watch and List) in step with a
// health.Handler: the service "" is the handler's readiness, and each
// check's name is a service whose status is what /readyz/<name> answers.
// Kubernetes' gRPC probes and grpc_health_probe then read the same
// verdict as the HTTP endpoints, refreshed by the same cached rounds.
//
// Probing: [Check] reproduces a gRPC health call against a dependency,
// as grpc_health_probe or grpcurl would, and classifies what went wrong
// the way the probe package does for TCP and HTTP: not serving, unknown
// service, unavailable (refused, unreachable), timeout.
//
// It is a separate package so that the core does not depend on gRPC.
package grpctriage
