package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/grpctriage"
	"github.com/triagekit/triage/internal/procfs"
	"github.com/triagekit/triage/probe"
)

// planNet reproduces the request: -url like curl -v (or curl -I with
// -head, curl --resolve with -resolve), or a TCP connect to -addr when
// there is no URL. Each -dep is probed as a dependency: a URL with the
// HTTP check (rate limiting and its own 5xx included), HOST:PORT with
// the TCP check.
func planNet(c *config) ([]planned, error) {
	var out []planned
	if c.head && c.url == "" {
		return nil, usagef("-head needs -url")
	}
	if len(c.resolve) > 0 && c.url == "" {
		return nil, usagef("-resolve needs -url")
	}
	for _, r := range c.resolve {
		if !netValidResolve(r) {
			return nil, usagef("-resolve %q: want HOST:PORT:ADDR, such as api.example.com:443:10.0.0.7", r)
		}
	}
	lookup, err := c.appLookup()
	if err != nil {
		return nil, err
	}
	if c.readOnly {
		// Every probe sends traffic.
		return nil, nil
	}
	switch {
	case c.url != "":
		if err := netValidURL(c.url); err != nil {
			return nil, usagef("-url %q: %v", triage.Redact(c.url), err)
		}
		opts := probe.HTTPOptions{URL: c.url, Resolve: append([]string(nil), c.resolve...), Lookup: lookup,
			Slow: c.slow, Proxy: c.proxy(), Dialer: c.dialer()}
		if c.head {
			opts.Method = "HEAD"
		}
		check := netHTTPCheck(requestName, opts)
		if c.trace != nil {
			opts.Header = http.Header{"Traceparent": {c.trace.parent}}
			check = c.trace.wrap(netHTTPCheck(requestName, opts))
		}
		out = append(out, planned{step: stepDNSHTTP, check: check, target: true})
	case c.addr != "":
		if err := netValidHostPort(c.addr); err != nil {
			return nil, usagef("-addr %q: %v", c.addr, err)
		}
		out = append(out, planned{step: stepDNSHTTP, check: netTCPCheck(requestName, c.addr, lookup, c.dialer()), target: true})
	}
	for _, d := range c.dep {
		if rest, ok := strings.CutPrefix(d, "grpc://"); ok {
			// grpc://HOST:PORT[/SERVICE]: the dependency's grpc.health.v1
			// service, as grpc_health_probe asks it.
			addr, service, _ := strings.Cut(rest, "/")
			if err := netValidHostPort(addr); err != nil {
				return nil, usagef("-dep %q: want grpc://HOST:PORT[/SERVICE]: %v", d, err)
			}
			opts := grpctriage.ProbeOptions{Address: addr, Service: service}
			if dl := c.dialer(); dl != nil {
				opts.Dialer = dl
			}
			out = append(out, planned{step: stepDependencies, check: triage.Func("dependency "+d, func(ctx context.Context) grpctriage.ProbeResult {
				return grpctriage.Check(ctx, opts)
			})})
			continue
		}
		if strings.Contains(d, "://") {
			if err := netValidURL(d); err != nil {
				return nil, usagef("-dep %q: %v", triage.Redact(d), err)
			}
			out = append(out, planned{step: stepDependencies, check: netHTTPCheck("dependency "+triage.Redact(d), probe.HTTPOptions{URL: d, Lookup: lookup,
				Slow: c.slow, Proxy: c.proxy(), Dialer: c.dialer()})})
			continue
		}
		if err := netValidHostPort(d); err != nil {
			return nil, usagef("-dep %q: want HOST:PORT or a URL: %v", triage.Redact(d), err)
		}
		out = append(out, planned{step: stepDependencies, check: netTCPCheck("dependency "+d, d, lookup, c.dialer())})
	}
	return out, nil
}

// requestName names the probe of -url or -addr: its findings decide the
// symptom.
const requestName = "request"

func netHTTPCheck(name string, opts probe.HTTPOptions) triage.Check {
	return triage.Func(name, func(ctx context.Context) probe.HTTPResult {
		return probe.HTTP(ctx, opts)
	})
}

func netTCPCheck(name, addr string, lookup probe.Lookup, d probe.Dialer) triage.Check {
	return triage.Func(name, func(ctx context.Context) probe.TCPResult {
		return probe.TCP(ctx, probe.TCPOptions{Address: addr, Lookup: lookup, Dialer: d})
	})
}

// appLookup is the application's view of names when -resolv-conf or
// proxy is the proxy choice of the application's HTTP clients: that of
// the first -pid's environment, read from /proc/PID/environ, or when there
// is no -pid or it cannot be read, of this process's own environment, as
// curl would. Nil (direct) with -no-proxy.
func (c *config) proxy() func(*url.URL) (*url.URL, error) {
	if c.noProxy {
		return nil
	}
	if len(c.pid) > 0 {
		// A file the process controls: bounded, and never blocking.
		if b, err := procfs.ReadFileMax(fmt.Sprintf("/proc/%d/environ", c.pid[0]), 1<<20); err == nil {
			return probe.ProxyFromEnvironment(strings.Split(string(b), "\x00"))
		}
	}
	return probe.ProxyFromEnvironment(os.Environ())
}

// -hosts-file name another's files (a container's): the request and the
// dependencies resolve through them, as the application would, not
// through this host's resolver. Nil when neither is given.
func (c *config) appLookup() (probe.Lookup, error) {
	if c.resolvConf == "" && c.hostsFile == "" && c.ctr == nil {
		return nil, nil
	}
	for _, f := range []struct{ flag, path string }{{"-resolv-conf", c.resolvConf}, {"-hosts-file", c.hostsFile}} {
		if f.path == "" {
			continue
		}
		if st, err := os.Stat(f.path); err != nil || !st.Mode().IsRegular() {
			return nil, usagef("%s %q is not a readable file", f.flag, f.path)
		}
	}
	l, err := dnscheck.AppLookupVia(c.hostsFile, c.resolvConf, c.dnsDialer())
	if err != nil {
		return nil, usagef("%v", err)
	}
	return probe.LookupFunc(l), nil
}

func netValidURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the URL, password and all: the caller
		// names it redacted.
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return usagef("want an http or https URL with a host")
	}
	return nil
}

func netValidHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseUint(port, 10, 16); host == "" || err != nil || n == 0 {
		return usagef("want HOST:PORT with a port number")
	}
	return nil
}

func netValidResolve(s string) bool {
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" {
		return false
	}
	port, addrs, ok := strings.Cut(rest, ":")
	if !ok || addrs == "" {
		return false
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return false
	}
	for _, a := range strings.Split(addrs, ",") {
		if net.ParseIP(strings.Trim(a, "[]")) == nil {
			return false
		}
	}
	return true
}
