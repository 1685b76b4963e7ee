package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLookupDialsAreNotTheRequest: an application lookup that dials its
// nameserver (here one that refuses) under the request's context must
// not pass for the request's own connection: not in the address tried,
// not in the curl line's --resolve, not as a connect failure.
func TestLookupDialsAreNotTheRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	nameserver := ln.Addr().String()
	ln.Close() // nothing listens: the nameserver refuses
	lookup := LookupFunc(func(ctx context.Context, host string) ([]netip.Addr, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", nameserver)
		if err == nil {
			c.Close()
			return nil, errors.New("unexpected answer")
		}
		return nil, &net.DNSError{Err: "resolver failed", Name: host, Server: nameserver}
	})
	r := HTTP(context.Background(), HTTPOptions{URL: "http://api.internal:8080/", Lookup: lookup})
	require.NotEmpty(t, r.Findings)
	f := r.Findings[0]
	assert.NotContains(t, f.Command, "--resolve", "no address was resolved: %s", f.Command)
	assert.False(t, r.Target.Addr.IsValid(), "the nameserver is not the target: %v", r.Target.Addr)
	assert.False(t, strings.Contains(f.Summary, nameserver), "the summary names the nameserver as the request's address: %s", f.Summary)
	t.Log(f.Code, f.Summary)
}
