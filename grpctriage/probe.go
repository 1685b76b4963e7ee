package grpctriage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/human"
)

// KindProbe is the Check of [Check]'s results.
const KindProbe = "probe.grpc_health"

// Finding codes of [Check]. Evidence: addr (triage.KeyAddr), service,
// elapsed_ns, and for failures the gRPC code.
const (
	// CodeServing (OK): the service answered SERVING.
	CodeServing triage.Code = "grpc.serving"
	// CodeNotServing (Fail): the service answered NOT_SERVING (or
	// UNKNOWN).
	CodeNotServing triage.Code = "grpc.not_serving"
	// CodeUnknownService (Fail): the server does not know the service
	// asked about (NotFound): a wrong name, or a server that registers
	// it late.
	CodeUnknownService triage.Code = "grpc.unknown_service"
	// CodeUnimplemented (Fail): the server has no health service at all.
	CodeUnimplemented triage.Code = "grpc.unimplemented"
	// CodeUnavailable (Fail): no connection: refused, unreachable, reset
	// (Unavailable).
	CodeUnavailable triage.Code = "grpc.unavailable"
	// CodeTimeout (Fail): no answer before the deadline.
	CodeTimeout triage.Code = "grpc.timeout"
	// CodeError (Fail): any other failure; evidence adds error.
	CodeError triage.Code = "grpc.error"
)

// DefaultTimeout bounds the call when ProbeOptions.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Dialer makes the connection: a *net.Dialer, or one that dials from a
// container's network namespace (container.Container).
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// ProbeOptions says which health service to ask.
type ProbeOptions struct {
	// Address is HOST:PORT.
	Address string
	// Service is the service name to ask about; "" is the server as a
	// whole.
	Service string
	// Timeout bounds the call. If zero, DefaultTimeout.
	Timeout time.Duration
	// Dialer, if not nil, makes the connection.
	Dialer Dialer
}

// ProbeResult is what [Check] saw. Its Check is [KindProbe].
type ProbeResult struct {
	triage.Result
	// Serving is the serving status answered (SERVING, NOT_SERVING ...),
	// empty without an answer.
	Serving string `json:"serving,omitempty"`
	// Code is the gRPC status code of a failed call, empty otherwise.
	Code string `json:"code,omitempty"`
	// Elapsed is how long the call took.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Check asks the grpc.health.v1 service at o.Address about o.Service, in
// plaintext, like grpc_health_probe -addr=ADDR -service=NAME.
func Check(ctx context.Context, o ProbeOptions) ProbeResult {
	r := ProbeResult{Result: triage.Begin(KindProbe, triage.Target{Name: o.Service})}
	r.Finish(probe(ctx, o, &r))
	return r
}

func probe(ctx context.Context, o ProbeOptions, r *ProbeResult) error {
	host, port, err := net.SplitHostPort(o.Address)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("%w: address %q: want HOST:PORT", triage.ErrInvalid, o.Address)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout %s", triage.ErrInvalid, o.Timeout)
	}
	r.Target.Host, r.Target.Port = host, portNumber(port)
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if o.Dialer != nil {
		d := o.Dialer
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		}))
	}
	conn, err := grpc.NewClient("passthrough:///"+o.Address, opts...)
	if err != nil {
		return fmt.Errorf("%w: %v", triage.ErrInvalid, err)
	}
	defer conn.Close()
	start := time.Now()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: o.Service}, grpc.WaitForReady(false))
	r.Elapsed = time.Since(start)
	ev := triage.Evidence{slog.String(triage.KeyAddr, o.Address), slog.String("service", o.Service), slog.Duration("elapsed_ns", r.Elapsed)}
	cmd := fmt.Sprintf("grpc_health_probe -addr=%s -service=%s", human.Quote(o.Address), human.Quote(o.Service))
	what := "the server"
	if o.Service != "" {
		what = "service " + human.Quote(o.Service)
	}
	if err == nil {
		r.Serving = resp.GetStatus().String()
		f := triage.Finding{Code: CodeServing, Status: triage.OK, Evidence: ev, Command: cmd,
			Summary: fmt.Sprintf("%s at %s is %s (%s)", what, o.Address, r.Serving, r.Elapsed.Round(time.Millisecond))}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			f.Code, f.Status = CodeNotServing, triage.Fail
		}
		r.Add(f)
		return nil
	}
	st, _ := status.FromError(err)
	r.Code = st.Code().String()
	ev = append(ev, slog.String("code", r.Code))
	f := triage.Finding{Status: triage.Fail, Evidence: ev, Command: cmd}
	switch {
	case st.Code() == codes.NotFound:
		f.Code, f.Summary = CodeUnknownService, fmt.Sprintf("%s at %s does not know %s", "the health service", o.Address, what)
	case st.Code() == codes.Unimplemented:
		f.Code, f.Summary = CodeUnimplemented, fmt.Sprintf("%s has no grpc.health.v1 service", o.Address)
	case st.Code() == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded):
		f.Code, f.Summary = CodeTimeout, fmt.Sprintf("%s at %s did not answer in %s", what, o.Address, r.Elapsed.Round(time.Millisecond))
	case st.Code() == codes.Unavailable:
		f.Code, f.Summary = CodeUnavailable, fmt.Sprintf("cannot reach %s: %s", o.Address, st.Message())
	default:
		f.Code, f.Summary = CodeError, fmt.Sprintf("health check of %s at %s failed: %s", what, o.Address, st.Message())
		f.Evidence = append(f.Evidence, slog.String("error", st.Message()))
	}
	r.Add(f)
	return nil
}

func portNumber(p string) int {
	var n int
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0
		}
	}
	return n
}
