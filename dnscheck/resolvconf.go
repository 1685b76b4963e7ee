package dnscheck

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Stub resolver defaults, as glibc and Go's resolver apply them when
// resolv.conf says nothing.
const (
	defaultNdots    = 1
	defaultTimeout  = 5 * time.Second
	defaultAttempts = 2
	maxNdots        = 15
	maxTimeout      = 30 * time.Second
	maxAttempts     = 5
)

// ResolvConf is what a resolv.conf file tells the stub resolver.
type ResolvConf struct {
	// Nameservers are the servers in file order, as host:port with port
	// 53, joined with net.JoinHostPort ("[::1]:53"). Lines whose address
	// does not parse are skipped, as the C library does.
	Nameservers []string `json:"nameservers"`
	// Search is the search list; "domain X" sets it to X. The last
	// search or domain line wins.
	Search []string `json:"search,omitempty"`
	// Ndots is options ndots:N (default 1, at most 15): names with fewer
	// dots are tried under the search list first.
	Ndots int `json:"ndots"`
	// Timeout is options timeout:N (default 5s, at most 30s).
	Timeout time.Duration `json:"timeout_ns"`
	// Attempts is options attempts:N (default 2, at most 5).
	Attempts int `json:"attempts"`
	// Rotate is options rotate: servers are used round robin.
	Rotate bool `json:"rotate,omitempty"`
	// Options holds the other options as written (edns0, trust-ad ...).
	Options []string `json:"options,omitempty"`
}

// ParseResolvConf reads a resolv.conf file. It is lenient like the C
// library: unknown keywords and malformed values are ignored, so the only
// errors are r's. Values missing from the file get the resolver's
// defaults; an empty Nameservers means the file names none (the resolver
// then asks the local host).
func ParseResolvConf(r io.Reader) (ResolvConf, error) {
	c := ResolvConf{Ndots: defaultNdots, Timeout: defaultTimeout, Attempts: defaultAttempts}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			c.parseLine(line)
		}
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
	}
}

func (c *ResolvConf) parseLine(line string) {
	if i := strings.IndexAny(line, "#;"); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return
	}
	switch f[0] {
	case "nameserver":
		if len(f) < 2 {
			return
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			return
		}
		c.Nameservers = append(c.Nameservers, net.JoinHostPort(a.String(), "53"))
	case "domain":
		if len(f) < 2 {
			return
		}
		c.Search = []string{f[1]}
	case "search":
		c.Search = append([]string(nil), f[1:]...)
	case "options":
		for _, o := range f[1:] {
			c.parseOption(o)
		}
	}
}

func (c *ResolvConf) parseOption(o string) {
	name, val, _ := strings.Cut(o, ":")
	n, err := strconv.Atoi(val)
	valid := err == nil && n >= 0
	switch name {
	case "ndots":
		if valid {
			c.Ndots = min(n, maxNdots)
		}
	case "timeout":
		if valid {
			c.Timeout = min(time.Duration(min(n, 3600))*time.Second, maxTimeout)
		}
	case "attempts":
		if valid {
			c.Attempts = min(n, maxAttempts)
		}
	case "rotate":
		c.Rotate = true
	default:
		c.Options = append(c.Options, o)
	}
}

// Candidates returns the names the stub resolver looks up for name, in
// order, under this file's search list and ndots. A name with a trailing
// dot is fully qualified and skips the list. Names are returned fully
// qualified.
func (c ResolvConf) Candidates(name string) []string {
	if name == "" {
		return nil
	}
	if strings.HasSuffix(name, ".") {
		return []string{name}
	}
	fq := name + "."
	if len(c.Search) == 0 {
		return []string{fq}
	}
	out := make([]string, 0, len(c.Search)+1)
	first := strings.Count(name, ".") >= c.Ndots
	if first {
		out = append(out, fq)
	}
	for _, s := range c.Search {
		s = strings.TrimSuffix(s, ".")
		if s == "" {
			continue
		}
		out = append(out, fq+s+".")
	}
	if !first {
		out = append(out, fq)
	}
	return out
}
