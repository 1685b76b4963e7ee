package main

import (
	"context"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/window"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/sockstat"
)

// maxFound bounds the dependencies probed without being named.
const maxFound = 8

// proxies are the programs whose peers are upstreams that speak HTTP
// when the request does: those are probed with the request's method and
// path, since a hung upstream still accepts TCP connections.
var proxies = []string{"haproxy", "nginx", "envoy", "traefik", "caddy", "httpd", "apache2", "varnishd"}

// discovery finds the dependencies of the target's process while the
// request is in flight (a proxy connects to its upstream only while it
// serves one), and probes each of them as a dependency.
type discovery struct {
	wg   sync.WaitGroup
	plan []planned
	out  []triage.Outcome
}

// discover starts looking, for the -url or -addr target whose port a
// process of this host listens on, or for the first -pid. wait returns
// the probes of what was found, in the dependencies step.
func discover(ctx context.Context, c *config) *discovery {
	d := &discovery{}
	t, err := sockstatTarget(c)
	if err != nil || (t.Port == 0 && len(c.pid) == 0) || c.readOnly {
		return d
	}
	// What -dep already probes: URLs with HTTP, HOST:PORT with a TCP
	// connect (which a proxy's hung upstream passes: the found probe
	// asks it the request as well).
	named := map[string]string{}
	for _, dep := range c.dep {
		if u, err := url.Parse(dep); err == nil && u.Host != "" && strings.Contains(dep, "://") {
			named[u.Host] = "http"
		} else {
			named[dep] = "tcp"
		}
	}
	d.wg.Go(func() { d.run(ctx, c, t, named) })
	return d
}

func (d *discovery) wait() ([]planned, []triage.Outcome) {
	d.wg.Wait()
	return d.plan, d.out
}

func (d *discovery) run(ctx context.Context, c *config, t triage.Target, named map[string]string) {
	// The processes behind the target: a -pid, or every owner of the
	// listener (a proxy's workers share it with their master, and the
	// workers hold the upstream connections).
	var pids []int
	name := ""
	if len(c.pid) > 0 {
		pids = []int{c.pid[0]}
	} else {
		l, err := sockstat.Sockets(ctx, sockstat.Options{Port: t.Port, States: []sockstat.State{sockstat.Listen}, Owners: true, NetNS: c.netns()})
		if err != nil {
			return
		}
		for _, s := range l.Sockets {
			for _, p := range s.Processes {
				if !slices.Contains(pids, p.PID) {
					pids, name = append(pids, p.PID), p.Name
				}
			}
		}
	}
	if len(pids) == 0 {
		return
	}
	// Look a few times while the request is in flight: the first look
	// finds a pool's standing connections, later ones a proxy's
	// connection for this request.
	var peers []sockstat.Peer
	for _, after := range []time.Duration{150 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
		if window.Wait(ctx, after) != nil {
			return
		}
		for _, pid := range pids {
			if ps, err := sockstat.Peers(ctx, sockstat.Options{NetNS: c.netns()}, pid); err == nil {
				peers = append(peers, ps...)
			}
		}
		if len(peers) > 0 {
			break
		}
	}
	seen := map[netip.AddrPort]bool{}
	peers = slices.DeleteFunc(peers, func(p sockstat.Peer) bool {
		dup := seen[p.Addr]
		seen[p.Addr] = true
		return dup
	})
	viaHTTP := slices.Contains(proxies, name) && c.url != ""
	var checks []triage.Check
	for _, p := range peers {
		a := p.Addr.String()
		how, isNamed := named[a]
		if len(checks) == maxFound || p.Addr.Port() == 53 || isTargetAddr(p.Addr, t) || (isNamed && (how == "http" || !viaHTTP)) {
			continue
		}
		checks = append(checks, foundCheck(ctx, c, a, viaHTTP))
	}
	if len(checks) == 0 {
		return
	}
	d.out = triage.Runner{}.Run(ctx, checks...)
	for _, ch := range checks {
		d.plan = append(d.plan, planned{step: stepDependencies, check: ch})
	}
}

// isTargetAddr reports whether a is the target itself (a process that
// talks to its own listener).
func isTargetAddr(a netip.AddrPort, t triage.Target) bool {
	if int(a.Port()) != t.Port {
		return false
	}
	return (t.Addr.IsValid() && t.Addr.Addr().Unmap() == a.Addr()) || t.Host == a.Addr().String() || t.Host == "localhost" && a.Addr().IsLoopback()
}

// foundCheck probes a dependency found from the target's connections:
// with the request's method and path when the target is a proxy and the
// request is HTTP, otherwise with a TCP connect. It takes at most half of
// the time left, so that its answer is in before the run's deadline.
func foundCheck(ctx context.Context, c *config, addr string, http bool) triage.Check {
	name := "dependency " + addr + " (found)"
	timeout := window.Fit(ctx, 5*time.Second)
	if http && c.url != "" {
		if u, err := url.Parse(c.url); err == nil {
			u.Scheme, u.Host, u.User = "http", addr, nil
			if strings.HasPrefix(c.url, "https:") {
				// A proxy that ends TLS speaks plain HTTP to its
				// upstreams more often than not; a TLS upstream fails
				// this probe, which still says it answers.
				u.Scheme = "http"
			}
			opts := probe.HTTPOptions{URL: u.String(), Timeout: timeout, Dialer: c.dialer()}
			if c.head {
				opts.Method = "HEAD"
			}
			return netHTTPCheck(name, opts)
		}
	}
	return triage.Func(name, func(ctx context.Context) probe.TCPResult {
		return probe.TCP(ctx, probe.TCPOptions{Address: addr, Timeout: timeout, Dialer: c.dialer()})
	})
}
