package main

import (
	"context"
	"net/netip"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/sockstat"
)

// planSockstat adds step 3: is the target's port listened to, by whom, on
// which address, how full is its queue and what states do connections to
// it show. sockstat decides whether the target is on this host; one
// elsewhere is looked at as a peer (SYN-SENT towards it). No target means
// the whole host.
func planSockstat(c *config) ([]planned, error) {
	t, err := sockstatTarget(c)
	if err != nil {
		return nil, err
	}
	lookup, err := c.appLookup()
	if err != nil {
		return nil, err
	}
	run := func(ctx context.Context) sockstat.Result {
		if lookup != nil && t.Host != "" && !t.Addr.IsValid() {
			// Aim at the address the application's view resolves the
			// name to, where the request goes: a stale record then shows
			// as nothing listening there while the service listens
			// elsewhere.
			if _, err := netip.ParseAddr(t.Host); err != nil {
				if addrs, err := lookup.LookupHost(ctx, t.Host); err == nil && len(addrs) > 0 {
					t.Addr = netip.AddrPortFrom(addrs[0], uint16(t.Port))
				}
			}
		}
		return sockstat.Check(ctx, sockstat.Options{Target: t, Owners: true, NoNetlink: c.readOnly, NetNS: c.netns()})
	}
	return []planned{{step: stepPorts, check: triage.Func("sockstat", run)}}, nil
}

// sockstatTarget returns the target of -url or -addr; the zero Target
// when neither is set.
func sockstatTarget(c *config) (triage.Target, error) {
	var flag, s string
	switch {
	case c.url != "":
		flag, s = "-url", c.url
	case c.addr != "":
		flag, s = "-addr", c.addr
	default:
		return triage.Target{}, nil
	}
	t, err := triage.ParseTarget(s)
	if err != nil {
		return triage.Target{}, usagef("%s: %v", flag, err)
	}
	return t, nil
}
