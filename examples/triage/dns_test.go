package main

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The planned checks are not run here: they would ask this host's
// resolvers. dnscheck's own tests run them against loopback servers.
func TestPlanDNS(t *testing.T) {
	tests := []struct {
		name  string
		c     config
		plans int
		usage bool
	}{
		{name: "nothing asked", c: config{}},
		{name: "url host is a name", c: config{url: "https://api.example.com:8443/health"}, plans: 1},
		{name: "url host is an address", c: config{url: "http://10.0.0.7/"}},
		{name: "url host is an IPv6 address", c: config{url: "http://[2001:db8::1]:8080/"}},
		{name: "explicit name", c: config{dns: "db.internal", dnsServer: listFlag{"10.0.0.2", "[::1]:5353"}}, plans: 1},
		{name: "server without a name", c: config{dnsServer: listFlag{"10.0.0.2:53"}}, usage: true},
		{name: "bad server", c: config{dns: "db.internal", dnsServer: listFlag{"dns.google"}}, usage: true},
		{name: "address as name", c: config{dns: "10.0.0.7"}, usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := planDNS(&tt.c)
			if tt.usage {
				var ue usageError
				assert.True(t, errors.As(err, &ue), "want a usage error, got %v", err)
				return
			}
			require.NoError(t, err)
			require.Len(t, ps, tt.plans)
			for _, p := range ps {
				assert.Equal(t, stepDNSHTTP, p.step)
				assert.Equal(t, "dnscheck", p.check.Name)
			}
		})
	}
}

func TestURLPort(t *testing.T) {
	for in, want := range map[string]int{"https://a.example/": 443, "http://a.example/": 80, "http://a.example:8080/": 8080, "ftp://a.example/": 0} {
		u := mustURL(t, in)
		assert.Equal(t, want, urlPort(u), in)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
