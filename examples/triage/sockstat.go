package main

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/sockstat"
)

// planSockstat adds step 3: is the target's port listened to, by whom, on
// which address, how full is its queue and what states do connections to
// it show. A target elsewhere is looked at as a peer (SYN-SENT towards
// it); no target means the whole host.
func planSockstat(c *config) ([]planned, error) {
	host, port, err := sockstatTarget(c)
	if err != nil {
		return nil, err
	}
	run := func(ctx context.Context) sockstat.Result {
		o := sockstat.Options{Owners: true}
		if host != "" {
			addr, local := localTarget(ctx, host)
			switch {
			case local:
				o.Port, o.Addr = port, addr
			case addr.IsValid():
				o.Peer, o.PeerPort = addr, port
			default:
				o.PeerPort = port
			}
		}
		return sockstat.Check(ctx, o)
	}
	return []planned{{step: stepPorts, check: triage.Func("sockstat", run)}}, nil
}

// sockstatTarget returns the host and port of -url or -addr; "" when
// neither is set.
func sockstatTarget(c *config) (string, int, error) {
	switch {
	case c.url != "":
		u, err := url.Parse(c.url)
		if err != nil || u.Host == "" {
			return "", 0, usagef("-url %q: not an absolute URL", c.url)
		}
		p := u.Port()
		if p == "" {
			switch strings.ToLower(u.Scheme) {
			case "http", "ws":
				p = "80"
			case "https", "wss":
				p = "443"
			default:
				return "", 0, usagef("-url %q: no port and unknown scheme %q", c.url, u.Scheme)
			}
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, usagef("-url %q: bad port %q", c.url, p)
		}
		return u.Hostname(), n, nil
	case c.addr != "":
		h, p, err := net.SplitHostPort(c.addr)
		if err != nil {
			return "", 0, usagef("-addr %q: want HOST:PORT", c.addr)
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, usagef("-addr %q: bad port %q", c.addr, p)
		}
		if h == "" {
			h = "localhost"
		}
		return h, n, nil
	}
	return "", 0, nil
}

// localTarget resolves host and reports whether it is on this host: a
// loopback address, an address of a local interface, or a name resolving
// to one. addr is the local address (or the first resolved one when not
// local); invalid when the name does not resolve, and when it resolves to
// several addresses, since a client tries them all and any listener will
// do.
func localTarget(ctx context.Context, host string) (addr netip.Addr, local bool) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		res, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return netip.Addr{}, false
		}
		for _, a := range res {
			addrs = append(addrs, a.Unmap())
		}
	}
	if len(addrs) == 0 {
		return netip.Addr{}, false
	}
	mine := map[netip.Addr]bool{}
	if ifas, err := net.InterfaceAddrs(); err == nil {
		for _, ifa := range ifas {
			if p, err := netip.ParsePrefix(ifa.String()); err == nil {
				mine[p.Addr().Unmap()] = true
			}
		}
	}
	for _, a := range addrs {
		if a.IsLoopback() || a.IsUnspecified() || mine[a.WithZone("")] {
			if len(addrs) > 1 {
				return netip.Addr{}, true
			}
			return a, true
		}
	}
	return addrs[0], false
}
