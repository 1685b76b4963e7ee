package main

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			h, p, err := sockstatTarget(&tt.c)
			if tt.usageErr {
				var ue usageError
				assert.True(t, errors.As(err, &ue), "err %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.host, h)
			assert.Equal(t, tt.port, p)
			ps, err := planSockstat(&tt.c)
			require.NoError(t, err)
			require.Len(t, ps, 1)
			assert.Equal(t, stepPorts, ps[0].step)
			assert.Equal(t, "sockstat", ps[0].check.Name)
		})
	}
}

func TestLocalTarget(t *testing.T) {
	ctx := context.Background()
	a, local := localTarget(ctx, "127.0.0.1")
	assert.True(t, local)
	assert.Equal(t, netip.MustParseAddr("127.0.0.1"), a)
	_, local = localTarget(ctx, "::1")
	assert.True(t, local)
	_, local = localTarget(ctx, "localhost")
	assert.True(t, local, "localhost is on this host, whichever addresses it has")
	a, local = localTarget(ctx, "192.0.2.44") // TEST-NET-1, never local here
	assert.False(t, local)
	assert.Equal(t, netip.MustParseAddr("192.0.2.44"), a)
}
