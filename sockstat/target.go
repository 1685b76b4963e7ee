package sockstat

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// aimAt returns c with Options.Target turned into the sockets it stands
// for: a local port and address when the target is on this host (in the
// namespace rd reads), a peer otherwise. It fails only when the context
// ends while the name resolves.
func (c config) aimAt(ctx context.Context, rd reader) (config, error) {
	if !c.aim {
		return c, nil
	}
	c.aim = false
	t := c.target
	if t.Host == "" && t.Port == 0 && !t.Addr.IsValid() {
		return c, nil // a target sockstat has no question about
	}
	port := t.Port
	if port == 0 {
		port = int(t.Addr.Port())
	}
	if t.Port == 0 {
		c.target.Port = port
	}
	addrs, err := c.resolve(ctx)
	if err != nil {
		return c, err
	}
	if len(addrs) == 0 {
		if t.Host == "" {
			c.sel = newSelection(port, netip.Addr{}, 0) // a port alone is this host's
		} else {
			c.sel = newSelection(0, netip.Addr{}, port) // no address to tell by
		}
		return c, nil
	}
	local := false
	mine := rd.localAddrs()
	for _, a := range addrs {
		if a.IsLoopback() || a.IsUnspecified() || mine[a.WithZone("")] {
			local = true
			break
		}
	}
	if !local {
		c.sel = newSelection(0, addrs[0], port)
		c.target.Addr = netip.AddrPortFrom(addrs[0], uint16(port))
		return c, nil
	}
	c.sel = newSelection(port, netip.Addr{}, 0)
	if len(addrs) == 1 {
		c.addr = addrs[0]
		c.target.Addr = netip.AddrPortFrom(addrs[0], uint16(port))
	}
	return c, nil
}

// resolve returns the target's addresses, unmapped: its Addr, its Host
// as a literal, or what the Host resolves to. None when the name does not
// resolve; an error only when the context ended.
func (c config) resolve(ctx context.Context) ([]netip.Addr, error) {
	t := c.target
	if t.Addr.IsValid() {
		return []netip.Addr{t.Addr.Addr().Unmap()}, nil
	}
	if t.Host == "" {
		return nil, nil
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(t.Host, "["), "]")); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	res := c.resolver
	if res == nil {
		res = net.DefaultResolver
	}
	found, err := res.LookupNetIP(ctx, "ip", t.Host)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("sockstat: resolving %q: %w", t.Host, cerr)
		}
		return nil, nil
	}
	addrs := make([]netip.Addr, 0, len(found))
	for _, a := range found {
		addrs = append(addrs, a.Unmap())
	}
	return addrs, nil
}
