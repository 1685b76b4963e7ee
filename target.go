package triage

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Target is what a check was aimed at: the facts that tell a finding about
// the target apart from one about the host in general. A check fills the
// fields it knows; the zero value means "this host, nothing in particular".
//
// The request's target (a URL or an address) fills URL, Host and Port; the
// probe that dialled it adds Addr. A process check fills Process and PID,
// and PID's cgroup fills Cgroup. A DNS check fills Name, a disk or log
// check Paths, a journal check Unit.
type Target struct {
	// URL is the request's URL, with any password removed.
	URL string `json:"url,omitempty"`
	// Host is the host as given: a name or an address literal.
	Host string `json:"host,omitempty"`
	// Port is the TCP port asked for, 0 when none.
	Port int `json:"port,omitempty"`
	// Addr is the address and port that were dialled, after resolution.
	Addr netip.AddrPort `json:"addr,omitzero"`
	// Name is the DNS name asked about.
	Name string `json:"name,omitempty"`
	// Process is the process name asked about.
	Process string `json:"process,omitempty"`
	// PID is the process asked about or found, 0 when none.
	PID int `json:"pid,omitempty"`
	// Cgroup is the cgroup path of PID, as in /proc/PID/cgroup.
	Cgroup string `json:"cgroup,omitempty"`
	// Unit is the systemd unit asked about.
	Unit string `json:"unit,omitempty"`
	// Paths are the files and directories asked about: data directories
	// and logs.
	Paths []string `json:"paths,omitempty"`
}

// IsZero reports whether t names nothing.
func (t Target) IsZero() bool {
	return t.URL == "" && t.Host == "" && t.Port == 0 && !t.Addr.IsValid() && t.Name == "" &&
		t.Process == "" && t.PID == 0 && t.Cgroup == "" && t.Unit == "" && len(t.Paths) == 0
}

// HostPort returns "host:port" for Host and Port, or "" when either is
// missing.
func (t Target) HostPort() string {
	if t.Host == "" || t.Port == 0 {
		return ""
	}
	if strings.Contains(t.Host, ":") {
		return "[" + t.Host + "]:" + strconv.Itoa(t.Port)
	}
	return t.Host + ":" + strconv.Itoa(t.Port)
}

// Merge returns t with every field that t leaves empty taken from o.
func (t Target) Merge(o Target) Target {
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	t.URL, t.Host, t.Name = pick(t.URL, o.URL), pick(t.Host, o.Host), pick(t.Name, o.Name)
	t.Process, t.Cgroup, t.Unit = pick(t.Process, o.Process), pick(t.Cgroup, o.Cgroup), pick(t.Unit, o.Unit)
	if t.Port == 0 {
		t.Port = o.Port
	}
	if !t.Addr.IsValid() {
		t.Addr = o.Addr
	}
	if t.PID == 0 {
		t.PID = o.PID
	}
	for _, p := range o.Paths {
		if !contains(t.Paths, p) {
			t.Paths = append(t.Paths[:len(t.Paths):len(t.Paths)], p)
		}
	}
	return t
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// String returns the most specific name of the target: its URL, its
// host:port, its DNS name, its process, its PID or its first path; "" for
// the zero target.
func (t Target) String() string {
	switch {
	case t.URL != "":
		return t.URL
	case t.HostPort() != "":
		return t.HostPort()
	case t.Addr.IsValid():
		return t.Addr.String()
	case t.Name != "":
		return t.Name
	case t.Process != "":
		return t.Process
	case t.PID != 0:
		return "pid " + strconv.Itoa(t.PID)
	case t.Unit != "":
		return t.Unit
	case len(t.Paths) > 0:
		return t.Paths[0]
	}
	return ""
}

// LogValue lets slog print the fields that are set.
func (t Target) LogValue() slog.Value {
	var as []slog.Attr
	add := func(k, v string) {
		if v != "" {
			as = append(as, slog.String(k, v))
		}
	}
	add("url", t.URL)
	add("host", t.Host)
	if t.Port != 0 {
		as = append(as, slog.Int("port", t.Port))
	}
	if t.Addr.IsValid() {
		add("addr", t.Addr.String())
	}
	add("name", t.Name)
	add("process", t.Process)
	if t.PID != 0 {
		as = append(as, slog.Int("pid", t.PID))
	}
	add("cgroup", t.Cgroup)
	add("unit", t.Unit)
	if len(t.Paths) > 0 {
		as = append(as, slog.Any("paths", t.Paths))
	}
	return slog.GroupValue(as...)
}

// ParseTarget reads what an operator types to name a service: an absolute
// URL ("https://api.example.com/health"; the port defaults by scheme) or a
// "host:port". An empty host in "host:port" means localhost. Bad input
// gives an error matching [ErrInvalid].
func ParseTarget(s string) (Target, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || u.Hostname() == "" {
			return Target{}, fmt.Errorf("%w: %q is not an absolute URL", ErrInvalid, Redact(s))
		}
		p := u.Port()
		if p == "" {
			switch strings.ToLower(u.Scheme) {
			case "http", "ws":
				p = "80"
			case "https", "wss":
				p = "443"
			default:
				return Target{}, fmt.Errorf("%w: %q has no port and an unknown scheme %q", ErrInvalid, Redact(s), u.Scheme)
			}
		}
		n, err := parsePort(p)
		if err != nil {
			return Target{}, fmt.Errorf("%w: %q: %w", ErrInvalid, Redact(s), err)
		}
		return Target{URL: Redact(s), Host: u.Hostname(), Port: n}, nil
	}
	h, p, ok := splitHostPort(s)
	if !ok {
		return Target{}, fmt.Errorf("%w: %q is neither a URL nor HOST:PORT", ErrInvalid, s)
	}
	n, err := parsePort(p)
	if err != nil {
		return Target{}, fmt.Errorf("%w: %q: %w", ErrInvalid, s, err)
	}
	if h == "" {
		h = "localhost"
	}
	return Target{Host: h, Port: n}, nil
}

// splitHostPort splits "host:port", "[v6]:port" and ":port" as
// net.SplitHostPort does. The root package does without net so that a
// program of one check package links statically.
func splitHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", false
		}
		host = host[1 : len(host)-1]
	} else if strings.ContainsAny(host, ":[]") {
		return "", "", false
	}
	return host, port, true
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", p)
	}
	return n, nil
}

// Redact returns a URL with the password of its user information replaced
// by "xxxxx", as net/url does. A string that does not parse as a URL but
// reads "scheme://user:password@..." has its password replaced all the
// same: a typo in a URL must not print the password next to the error.
// Anything else comes back unchanged.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err == nil {
		if u.User == nil {
			return raw
		}
		return u.Redacted()
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(authority[:at], ":")
	if !hasPass {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
