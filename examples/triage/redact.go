package main

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/triagekit/triage"
)

// redactor replaces the addresses and host names of a report with
// stand-ins, the same one for the same original everywhere, so that a
// report pasted into a ticket still reads (these two failures are the
// same host) without naming the network: IPv4 addresses become
// 192.0.2.N or 198.51.100.N, IPv6 addresses 2001:db8::N, names
// hostN.example. Loopback, unspecified and link-local addresses and
// localhost are kept: they say nothing about the network and a lot about
// the fault.
type redactor struct {
	addrs map[netip.Addr]string
	given map[string]bool // the stand-ins handed out, never replaced again
	names map[string]string
	// byName matches the known names, longest first, as whole names.
	byName *regexp.Regexp
}

var (
	reIPv4 = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	reIPv6 = regexp.MustCompile(`\b(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}\b`)
)

// newRedactor learns the names to replace: those the command line gave
// and those the results were aimed at.
func newRedactor(c *config, results []triage.Outcome) *redactor {
	r := &redactor{addrs: map[netip.Addr]string{}, given: map[string]bool{}, names: map[string]string{}}
	var names []string
	add := func(h string) {
		h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
		if h == "" || h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return
		}
		if _, err := netip.ParseAddr(h); err == nil {
			return
		}
		if !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	addURL := func(s string) {
		if u, err := url.Parse(s); err == nil {
			add(u.Hostname())
		}
	}
	hostOf := func(hp string) string {
		if i := strings.LastIndexByte(hp, ':'); i > 0 {
			return hp[:i]
		}
		return hp
	}
	addURL(c.url)
	add(hostOf(c.addr))
	add(c.dns)
	for _, d := range c.dep {
		if strings.Contains(d, "://") {
			addURL(d)
		} else {
			add(hostOf(d))
		}
	}
	for _, rs := range c.resolve {
		add(strings.SplitN(rs, ":", 2)[0])
	}
	for _, o := range results {
		t := o.Common().Target
		add(t.Host)
		add(t.Name)
		addURL(t.URL)
	}
	// Longest first, so that api.corp.example is not taken for corp.example.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for i, n := range names {
		r.names[n] = fmt.Sprintf("host%d.example", i+1)
	}
	if len(names) > 0 {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = regexp.QuoteMeta(n)
		}
		r.byName = regexp.MustCompile(`(?i)(^|[^A-Za-z0-9.-])(` + strings.Join(quoted, "|") + `)(\.?)($|[^A-Za-z0-9-])`)
	}
	return r
}

// keep reports whether an address stays as it is.
func keep(a netip.Addr) bool {
	return a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()
}

func (r *redactor) addr(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil || keep(a.Unmap()) || r.given[s] {
		return s
	}
	a = a.Unmap()
	if v, ok := r.addrs[a]; ok {
		return v
	}
	n := len(r.addrs) + 1
	var v string
	switch {
	case a.Is4() && n < 255:
		v = fmt.Sprintf("192.0.2.%d", n)
	case a.Is4():
		v = fmt.Sprintf("198.51.100.%d", n%254+1)
	default:
		v = fmt.Sprintf("2001:db8::%x", n)
	}
	r.addrs[a], r.given[v] = v, true
	return v
}

// redact replaces the names and addresses in b.
func (r *redactor) redact(b []byte) []byte {
	s := string(b)
	if r.byName != nil {
		s = r.byName.ReplaceAllStringFunc(s, func(m string) string {
			sub := r.byName.FindStringSubmatch(m)
			return sub[1] + r.names[strings.ToLower(sub[2])] + sub[3] + sub[4]
		})
	}
	s = reIPv6.ReplaceAllStringFunc(s, func(m string) string {
		if strings.Count(m, ":") < 2 || !strings.ContainsAny(m, "0123456789abcdefABCDEF") {
			return m
		}
		return r.addr(m)
	})
	s = reIPv4.ReplaceAllStringFunc(s, r.addr)
	return []byte(s)
}
