package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	open := ln.Addr().String()

	tests := []struct {
		name    string
		addr    func(t *testing.T) string
		timeout time.Duration
		code    triage.Code
		class   ErrorClass
		errno   error
		status  triage.Status
	}{
		{"connected", func(*testing.T) string { return open }, 0, CodeTCPConnected, ClassNone, nil, triage.OK},
		{"refused", closedPort, 0, CodeTCPRefused, ClassRefused, syscall.ECONNREFUSED, triage.Fail},
		{"accept queue full", fullAcceptQueue, 500 * time.Millisecond, CodeTCPTimeout, ClassTimeout, nil, triage.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr(t)
			r := TCP(context.Background(), TCPOptions{Address: addr, Timeout: tt.timeout})
			require.NoError(t, r.Err)
			require.Len(t, r.Attempts, 1)
			a := r.Attempts[0]
			assert.Equal(t, addr, a.Addr.String())
			assert.Equal(t, tt.class, a.Class)
			assert.Equal(t, tt.class == ClassNone, a.Connected)
			if tt.errno != nil {
				assert.ErrorIs(t, a.Err, tt.errno)
			}
			if tt.class == ClassTimeout {
				assertTimeoutErr(t, a.Err)
			}
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, "probe.tcp", r.Check)
			assert.Equal(t, triage.Target{Host: "127.0.0.1", Port: int(a.Addr.Port()), Addr: a.Addr}, r.Target)
			require.Len(t, r.Findings, 1)
			f := r.Findings[0]
			assert.Equal(t, tt.code, f.Code)
			assert.Equal(t, "127.0.0.1", f.Evidence.String("addr"))
			port, _ := f.Evidence.Int("port")
			assert.Equal(t, int64(a.Addr.Port()), port)
			_, ok := f.Evidence.Lookup("elapsed_ns")
			assert.True(t, ok)
			assert.NotEmpty(t, f.Command)
		})
	}
}

func TestTCPIPv6(t *testing.T) {
	ipv6Loopback(t)
	ln, err := net.Listen("tcp6", "[::1]:0")
	require.NoError(t, err)
	defer ln.Close()
	r := TCP(context.Background(), TCPOptions{Address: ln.Addr().String()})
	require.NoError(t, r.Err)
	require.Len(t, r.Attempts, 1)
	assert.True(t, r.Attempts[0].Addr.Addr().Is6())
	assert.True(t, r.Has(CodeTCPConnected))

	r = TCP(context.Background(), TCPOptions{Address: ln.Addr().String(), Network: "tcp4"})
	assert.ErrorIs(t, r.Err, triage.ErrInvalid)
}

// dualZone is a name with an IPv4 and an IPv6 loopback address, as
// localhost has on many hosts (not all: some /etc/hosts give it only
// 127.0.0.1).
var dualZone = map[string][]netip.Addr{
	"dual.triage.test.": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
}

// A name with two addresses is tried on each: a listener on IPv4 only
// connects on one and is refused on the other, which is a Warn, since a
// client that falls back still gets through.
func TestTCPEveryAddress(t *testing.T) {
	ipv6Loopback(t)
	res := dnsZone(t, dualZone)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	r := TCP(context.Background(), TCPOptions{Address: "dual.triage.test.:" + port, Resolver: res})
	require.NoError(t, r.Err)
	assert.Equal(t, "dual.triage.test.", r.Target.Host)
	assert.ElementsMatch(t, dualZone["dual.triage.test."], r.Addrs)
	assert.Positive(t, r.DNS)
	assert.Equal(t, ClassNone, r.DNSClass)
	require.Len(t, r.Attempts, 2)
	for _, a := range r.Attempts {
		if a.Addr.Addr().Is4() {
			assert.True(t, a.Connected, "error: %v", a.Err)
		} else {
			assert.Equal(t, ClassRefused, a.Class)
			assert.ErrorIs(t, a.Err, syscall.ECONNREFUSED)
		}
	}
	require.Len(t, r.Findings, 2)
	f, ok := r.Find(CodeTCPRefused)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Warn, f.Status)
	assert.Equal(t, "::1", f.Evidence.String("addr"))
	assert.Equal(t, "dual.triage.test.", f.Evidence.String("host"))
	assert.Contains(t, f.Summary, "another address of the host connected")
	f, ok = r.Find(CodeTCPConnected)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, "127.0.0.1", f.Evidence.String("addr"))
	assert.Equal(t, triage.Warn, r.Status)
	assert.Equal(t, "127.0.0.1:"+port, r.Target.Addr.String(), "the address that connected decides")

	// Asked for one family, only its address is tried.
	r = TCP(context.Background(), TCPOptions{Address: "dual.triage.test.:" + port, Network: "tcp6", Resolver: res})
	require.NoError(t, r.Err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("::1")}, r.Addrs)
	assert.True(t, r.Has(CodeTCPRefused))
	assert.Equal(t, triage.Fail, r.Status, "no other address connected")
}

func TestTCPDNS(t *testing.T) {
	tests := []struct {
		name  string
		rcode int
		code  triage.Code
		class ErrorClass
	}{
		{"nxdomain", 3, CodeTCPDNSNotFound, ClassDNSNotFound},
		{"servfail", 2, CodeTCPDNSError, ClassDNSError},
		{"no answer", -1, CodeTCPDNSTimeout, ClassDNSTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := dnsServer(t, tt.rcode)
			within(t, 700*time.Millisecond, func(ctx context.Context) {
				r := TCP(ctx, TCPOptions{Address: "nosuch.triage.test.:80", Resolver: res})
				require.NoError(t, r.Err)
				assert.Equal(t, tt.class, r.DNSClass)
				assert.Empty(t, r.Attempts)
				assert.Equal(t, triage.Fail, r.Status)
				f, ok := r.Find(tt.code)
				require.True(t, ok, "findings: %v", r.Findings)
				assert.Equal(t, "nosuch.triage.test.", f.Evidence.String("host"))
			})
		})
	}
}

// The target drops SYNs (its accept queue is full): TCP returns by the
// context's deadline, far below its own per-address timeout.
func TestTCPReturnsByDeadline(t *testing.T) {
	addr := fullAcceptQueue(t)
	within(t, 300*time.Millisecond, func(ctx context.Context) {
		r := TCP(ctx, TCPOptions{Address: addr, Timeout: time.Minute})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeTCPTimeout))
		assertTimeoutErr(t, r.Attempts[0].Err)
	})
}

func TestTCPCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := TCP(ctx, TCPOptions{Address: "127.0.0.1:1"})
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, triage.Unknown, r.Status)
	assert.Empty(t, r.Findings)
}

func TestTCPInvalid(t *testing.T) {
	for _, o := range []TCPOptions{
		{},
		{Address: "127.0.0.1"},
		{Address: ":80"},
		{Address: "127.0.0.1:0"},
		{Address: "127.0.0.1:70000"},
		{Address: "127.0.0.1:http"},
		{Address: "127.0.0.1:80", Network: "udp"},
		{Address: "127.0.0.1:80", Timeout: -time.Second},
		{Address: "[::1]:80", Network: "tcp4"},
	} {
		t.Run(fmt.Sprintf("%q/%s", o.Address, o.Network), func(t *testing.T) {
			r := TCP(context.Background(), o)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
		})
	}
}

func TestClassifyDialErr(t *testing.T) {
	op := func(errno error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	tests := []struct {
		name string
		err  error
		want ErrorClass
	}{
		{"nil", nil, ClassNone},
		{"refused", op(syscall.ECONNREFUSED), ClassRefused},
		{"reset", op(syscall.ECONNRESET), ClassReset},
		{"host unreachable", op(syscall.EHOSTUNREACH), ClassUnreachable},
		{"network unreachable", op(syscall.ENETUNREACH), ClassUnreachable},
		{"ports exhausted", op(syscall.EADDRNOTAVAIL), ClassPortsExhausted},
		{"eacces", op(syscall.EACCES), ClassBlocked},
		{"eperm", op(syscall.EPERM), ClassBlocked},
		{"etimedout", op(syscall.ETIMEDOUT), ClassTimeout},
		{"deadline", &net.OpError{Op: "dial", Err: context.DeadlineExceeded}, ClassTimeout},
		{"i/o timeout", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, ClassTimeout},
		{"canceled", &net.OpError{Op: "dial", Err: context.Canceled}, ClassCanceled},
		{"dns not found", &net.OpError{Op: "dial", Err: &net.DNSError{Name: "x", IsNotFound: true}}, ClassDNSNotFound},
		{"dns timeout", &net.DNSError{Name: "x", IsTimeout: true}, ClassDNSTimeout},
		{"dns servfail", &net.DNSError{Name: "x", Err: "server misbehaving"}, ClassDNSError},
		{"other", errors.New("something"), ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, classifyDialErr(tt.err))
		})
	}
}

func TestErrorClassCode(t *testing.T) {
	for _, c := range []ErrorClass{ClassRefused, ClassTimeout, ClassReset, ClassUnreachable,
		ClassPortsExhausted, ClassBlocked, ClassDNSNotFound, ClassDNSTimeout, ClassDNSError} {
		assert.Equal(t, triage.Code("tcp."+string(c)), c.Code(), c)
	}
	for _, c := range []ErrorClass{ClassTLSUnknownAuthority, ClassTLSExpired, ClassTLSNameMismatch,
		ClassTLSTimeout, ClassTLSError, ClassNoFirstByte, ClassBodyStalled, ClassEmptyReply} {
		assert.Equal(t, triage.Code("http."+string(c)), c.Code(), c)
	}
	assert.Empty(t, ClassNone.Code())
	assert.Empty(t, ClassCanceled.Code())
}

// assertTimeoutErr checks that err says a deadline passed. Depending on
// where the dial was when the deadline hit, it matches
// context.DeadlineExceeded or os.ErrDeadlineExceeded; both are net.Error
// timeouts.
func assertTimeoutErr(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if assert.ErrorAs(t, err, &ne) {
		assert.True(t, ne.Timeout())
	}
}

// TestLookupReplacesTheResolver: a Lookup decides where a name goes, for
// TCP and for every HTTP hop, and a name it does not know is the DNS
// failure it is, not a dial error.
func TestLookupReplacesTheResolver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ln := srv.Listener
	port := ln.Addr().(*net.TCPAddr).Port
	lookup := LookupFunc(func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "app.lookup.test" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	r := TCP(ctx, TCPOptions{Address: net.JoinHostPort("app.lookup.test", strconv.Itoa(port)), Lookup: lookup})
	assert.True(t, r.Has(CodeTCPConnected), "%v", r.Findings)
	r = TCP(ctx, TCPOptions{Address: net.JoinHostPort("gone.lookup.test", strconv.Itoa(port)), Lookup: lookup})
	assert.True(t, r.Has(CodeTCPDNSNotFound), "%v", r.Findings)

	h := HTTP(ctx, HTTPOptions{URL: fmt.Sprintf("http://app.lookup.test:%d/", port), Lookup: lookup})
	require.True(t, h.Has(CodeHTTPOK), "%v", h.Findings)
	f, _ := h.Find(CodeHTTPOK)
	assert.Contains(t, f.Command, fmt.Sprintf("--resolve app.lookup.test:%d:127.0.0.1", port), "curl goes where the probe went")
	_, pinned := f.Evidence.Lookup(KeyPinned)
	assert.False(t, pinned, "the application's view is not a caller's pin")
}
