package main

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/dnscheck"
)

// planDNS resolves -dns NAME, or the -url host when it is a name, through
// the application's view and every resolver (resolv.conf's and each
// -dns-server), compared. When the name comes from -url, its addresses are
// dialled on the URL's port to catch "works on IPv4, hangs on IPv6".
// -resolv-conf and -hosts-file replace this host's files, to judge a
// container's from outside it.
func planDNS(c *config) ([]planned, error) {
	name := strings.TrimSpace(c.dns)
	port := 0
	if c.url != "" {
		u, err := url.Parse(c.url)
		if err == nil && u.Hostname() != "" {
			host := u.Hostname()
			if _, err := netip.ParseAddr(host); err != nil && (name == "" || strings.EqualFold(strings.TrimSuffix(name, "."), host)) {
				name = host
				port = urlPort(u)
			}
		}
	}
	if name == "" && c.url == "" && c.addr != "" {
		// -addr HOST:PORT with a name: the request resolves it too.
		if h, p, err := net.SplitHostPort(c.addr); err == nil {
			if _, err := netip.ParseAddr(h); err != nil && h != "" {
				name = h
				port, _ = strconv.Atoi(p)
			}
		}
	}
	if name == "" {
		for _, f := range []struct {
			flag string
			set  bool
		}{{"-dns-server", len(c.dnsServer) > 0}, {"-resolv-conf", c.resolvConf != "" && c.ctr == nil}, {"-hosts-file", c.hostsFile != "" && c.ctr == nil}} {
			// With -container the files are the container's own, read
			// for the request whether or not a name is asked about.
			if f.set {
				return nil, usagef("%s needs -dns NAME, or a -url or -addr whose host is a name", f.flag)
			}
		}
		return nil, nil
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return nil, usagef("-dns %s: give a name, not an address", name)
	}
	for _, s := range c.dnsServer {
		if !validServer(s) {
			return nil, usagef("-dns-server %q: want ADDR or ADDR:PORT, such as 10.0.0.2:53 or [::1]:53", s)
		}
	}
	if c.readOnly {
		// The check queries nameservers.
		return nil, nil
	}
	opts := dnscheck.Options{Name: name, Servers: append([]string(nil), c.dnsServer...), Port: port,
		ResolvConf: c.resolvConf, HostsFile: c.hostsFile, Dialer: c.dnsDialer()}
	for _, f := range []struct{ flag, path string }{{"-resolv-conf", c.resolvConf}, {"-hosts-file", c.hostsFile}} {
		if f.path == "" {
			continue
		}
		if st, err := os.Stat(f.path); err != nil || st.IsDir() {
			return nil, usagef("%s %q is not a readable file", f.flag, f.path)
		}
	}
	return []planned{{
		step: stepDNSHTTP,
		check: triage.Func("dnscheck", func(ctx context.Context) dnscheck.Result {
			return dnscheck.Check(ctx, opts)
		}),
	}}, nil
}

func validServer(s string) bool {
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return true
	}
	ap, err := netip.ParseAddrPort(s)
	return err == nil && ap.Port() != 0
}

func urlPort(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}
