package logscan

import (
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/triagekit/triage"
)

// Signal is a known operational failure found in the logs, counted per
// target.
type Signal struct {
	// Code is the finding code the signal raises, such as
	// [CodeDependencyRefused].
	Code triage.Code `json:"code"`
	// Target is what failed: host:port for connections and upstreams, the
	// name for DNS failures, a path for a full disk, a device for I/O
	// errors, the listener for SYN floods (a port on older kernels,
	// address:port on newer ones), a process for the OOM killer, the pool
	// name for pools; "unknown" when the lines did not say.
	Target string `json:"target"`
	// Count is how many lines (a stack trace counts once) showed it.
	Count int `json:"count"`
	// First and Last are the earliest and latest timestamps seen; zero
	// when no line had one.
	First time.Time `json:"first_seen,omitzero"`
	Last  time.Time `json:"last_seen,omitzero"`
	// PID is the process the kernel's OOM killer killed last; 0 otherwise.
	PID int `json:"pid,omitempty"`
	// Cgroup is the cgroup of the task the OOM killer killed, from the
	// kernel's oom-kill line (task_memcg), as /proc/PID/cgroup names it;
	// empty when the line was not in the window or the kernel is older
	// than 4.19. Kills in different cgroups are different signals.
	Cgroup string `json:"cgroup,omitempty"`
	// NoLiveUpstreams counts nginx "no live upstreams" lines among an
	// [CodeUpstreamRefused] signal's.
	NoLiveUpstreams int `json:"no_live_upstreams,omitempty"`
	// Example is the most recent line showing it.
	Example string `json:"example"`
}

// facts are the signal's target under the evidence keys shared by every
// package, so that a classifier reads a port, a path or a name alike
// whatever check saw it: host and port of a dependency or an upstream, the
// name that did not resolve, the path of a full disk, the process the OOM
// killer killed, the port of a SYN flood.
func (s Signal) facts() triage.Evidence {
	hostPort := func() triage.Evidence {
		h, p, err := net.SplitHostPort(s.Target)
		n, perr := strconv.Atoi(p)
		if err != nil || perr != nil {
			return nil
		}
		return triage.Evidence{slog.String(triage.KeyHost, h), slog.Int(triage.KeyPort, n)}
	}
	switch s.Code {
	case CodeDependencyRefused, CodeDependencyTimeout, CodeUpstreamRefused, CodeUpstreamTimeout:
		return hostPort()
	case CodeTooManyOpenFiles:
		if strings.HasPrefix(s.Target, "/") {
			return triage.Evidence{slog.String(triage.KeyPath, s.Target)}
		}
		return hostPort()
	case CodeDiskFull:
		if strings.HasPrefix(s.Target, "/") {
			return triage.Evidence{slog.String(triage.KeyPath, s.Target)}
		}
	case CodeDNSFailure:
		if s.Target != "unknown" {
			return triage.Evidence{slog.String(triage.KeyName, s.Target)}
		}
	case CodeKernelConntrackFull:
		if n, ok := strings.CutPrefix(s.Target, "netns "); ok {
			if ino, err := strconv.ParseUint(n, 10, 64); err == nil {
				// Whether it is the namespace this check runs in: the
				// kernel log is the host's, and its other namespaces
				// are containers' or other tenants'.
				ev := triage.Evidence{slog.Uint64(triage.KeyNetNS, ino)}
				if own, err := ownNetNS(); err == nil {
					ev = append(ev, slog.Bool("netns_own", own == ino))
				}
				return ev
			}
		}
	case CodeKernelOOMKill:
		ev := triage.Evidence{slog.String(triage.KeyProcess, s.Target)}
		if s.Cgroup != "" {
			ev = append(ev, slog.String(triage.KeyCgroup, s.Cgroup))
		}
		return ev
	case CodeKernelSYNFlood:
		// A port on older kernels, address:port on newer ones.
		if n, err := strconv.Atoi(s.Target); err == nil {
			return triage.Evidence{slog.Int(triage.KeyPort, n)}
		}
		if ap, err := netip.ParseAddrPort(s.Target); err == nil {
			return triage.Evidence{slog.String(triage.KeyAddr, ap.Addr().String()), slog.Int(triage.KeyPort, int(ap.Port()))}
		}
	}
	return nil
}

// hit is one signal on one line.
type hit struct {
	code   triage.Code
	target string
	pid    int
	noLive bool
	// memcg is the killed task's cgroup from an oom-kill line, which
	// raises no signal of its own.
	memcg string
}

var (
	rePool     = regexp.MustCompile(`(?i)connection is not available, request timed out|queuepool limit|timeout waiting for idle object|pool (?:is )?exhausted|pool exhausted|connection pool timeout|pool timeout|pool timed out|too many clients already|remaining connection slots are reserved|unable to acquire jdbc connection|could not acquire a connection|no available connections? in (?:the )?pool|acquire connection from pool`)
	rePoolName = regexp.MustCompile(`\b([A-Za-z][\w.]*Pool(?:-\d+)?)\b|\bpool(?:[ _]?name)?[=:]\s*"?([\w.-]+)`)

	reUpstreamTimeout = regexp.MustCompile(`(?i)upstream timed out|\(110: [^)]*\) while connecting to upstream|upstream request timeout`)
	reUpstreamRefused = regexp.MustCompile(`(?i)connect\(\) (?:to \S+ )?failed \([^)]*\) while connecting to upstream|no live upstreams|upstream connect error`)
	reUpstreamURL     = regexp.MustCompile(`upstream: "([^"]*)"`)

	reDNS     = regexp.MustCompile(`(?i)no such host|UnknownHostException|name or service not known|temporary failure in name resolution|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|could not resolve host|nodename nor servname|failed to resolve|name resolution failed|server misbehaving|could not translate host name`)
	reDNSName = regexp.MustCompile(`lookup ([^\s:]+)(?: on|:)|UnknownHostException: ([^\s:;,]+)|(?:ENOTFOUND|EAI_AGAIN) ([^\s:;,]+)|Could not resolve host: ([^\s;,]+)|[Ff]ailed to resolve '([^']+)'|host name "([^"]+)"`)

	reOOM  = regexp.MustCompile(`OutOfMemoryError|(?i:out of memory)|\bMemoryError\b|(?i:cannot allocate memory)|ENOMEM|std::bad_alloc|(?i:killed process)`)
	rePath = regexp.MustCompile(`(?:^|[\s"'(=])(/[\w.@+-]+(?:/[\w.@+-]+)*)`)

	reKernelOOM      = regexp.MustCompile(`[Kk]illed process (\d+) \(([^)]*)\)`)
	reKernelOOMCg    = regexp.MustCompile(`oom-kill:.*\btask_memcg=([^,\s]+),.*\bpid=(\d+)`)
	reKernelSYN      = regexp.MustCompile(`Possible SYN flooding on port (\S+?)\.? `)
	reKernelConntrak = regexp.MustCompile(`nf_conntrack: (?:nf_conntrack: )?table full(?: in netns (\d+))?`)
	reKernelIO       = regexp.MustCompile(`I/O error,? (?:on )?dev(?:ice)? ([\w-]+)|Buffer I/O error on dev(?:ice)? ([\w-]+)|EXT[234]-fs error \(device ([\w-]+)\)|XFS \(([\w-]+)\):.*I/O error|critical (?:medium|target) error, dev ([\w-]+)|blk_update_request: I/O error, dev ([\w-]+)`)

	// Where the target of a failed connection is spelled out.
	rePyHost    = regexp.MustCompile(`host='([^']+)', port=(\d+)`)
	rePGServer  = regexp.MustCompile(`server at "([^"]+)"(?: \([^)]*\))?, port (\d+)|on host "([^"]+)"(?: \([^)]*\))? and accepting\s+TCP/IP connections on port (\d+)`)
	reURL       = regexp.MustCompile(`\b(https?|postgres(?:ql)?|mysql|redis|amqp|mongodb|grpc)://(?:[^@/\s"]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?`)
	reHostPort  = regexp.MustCompile(`(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})\b`)
	defaultPort = map[string]string{"http": "80", "https": "443", "postgres": "5432", "postgresql": "5432", "mysql": "3306", "redis": "6379", "amqp": "5672", "mongodb": "27017", "grpc": "443"}
)

// detect finds the signals on one physical line. kernel says the line came
// from the kernel log, where "Killed process" is the OOM killer.
func detect(s string, kernel bool) []hit {
	var hits []hit
	add := func(code triage.Code, target string) { hits = append(hits, hit{code: code, target: target}) }
	// Cheap gates first: most lines name none of these, and the
	// regular expressions below are slow next to a substring search.
	lower := strings.ToLower(s)
	has := func(subs ...string) bool {
		for _, x := range subs {
			if strings.Contains(lower, x) {
				return true
			}
		}
		return false
	}

	// Kernel signals, from the kernel log or a syslog file holding it.
	if strings.Contains(s, "oom-kill:") && strings.Contains(s, "task_memcg=") {
		if m := reKernelOOMCg.FindStringSubmatch(s); m != nil {
			if pid, err := strconv.Atoi(m[2]); err == nil && pid > 0 {
				return []hit{{pid: pid, memcg: m[1]}}
			}
		}
	}
	var oomKill []string
	if has("killed process") && (kernel || strings.Contains(s, "kernel:") || strings.Contains(lower, "out of memory")) {
		oomKill = reKernelOOM.FindStringSubmatch(s)
	}
	if m := oomKill; m != nil {
		pid, _ := strconv.Atoi(m[1])
		hits = append(hits, hit{code: CodeKernelOOMKill, target: m[2], pid: pid})
	} else if !kernel && has("memory", "enomem", "bad_alloc", "killed process") && reOOM.MatchString(s) {
		add(CodeOutOfMemory, "")
	}
	if has("syn flooding") {
		if m := reKernelSYN.FindStringSubmatch(s); m != nil {
			add(CodeKernelSYNFlood, strings.TrimRight(m[1], "."))
		}
	}
	if has("table full") {
		// Kernels since 5.14 name the namespace whose table is full.
		if m := reKernelConntrak.FindStringSubmatch(s); m != nil && m[1] != "" {
			add(CodeKernelConntrackFull, "netns "+m[1])
		} else if m != nil {
			add(CodeKernelConntrackFull, "nf_conntrack")
		}
	}
	if has("i/o error", "-fs error", "medium error", "target error") {
		if m := reKernelIO.FindStringSubmatch(s); m != nil {
			add(CodeKernelIOError, firstGroup(m))
		}
	}
	if has("no space left on device", "enospc") {
		add(CodeDiskFull, pathTarget(s))
	}
	if has("too many open files", "emfile") {
		add(CodeTooManyOpenFiles, fdTarget(s))
	}

	// Connection failures: the most specific reading wins, and a
	// proxy's access log line names its upstream's failure exactly.
	if code, target, ok := detectProxy(s); ok {
		add(code, target)
		return hits
	}
	refused := has("refused")
	switch {
	case has("pool", "not available", "idle object", "too many clients", "connection slots", "jdbc connection", "acquire a connection") && !refused && rePool.MatchString(s):
		target := ""
		if m := rePoolName.FindStringSubmatch(s); m != nil {
			target = firstGroup(m)
		}
		add(CodePoolExhausted, target)
	case has("upstream") && reUpstreamTimeout.MatchString(s):
		add(CodeUpstreamTimeout, upstreamTarget(s))
	case has("upstream") && reUpstreamRefused.MatchString(s):
		h := hit{code: CodeUpstreamRefused, target: upstreamTarget(s)}
		h.noLive = strings.Contains(s, "no live upstreams")
		hits = append(hits, h)
	case has("host", "name", "resol", "enotfound", "eai_again", "misbehaving") && reDNS.MatchString(s):
		target := ""
		if m := reDNSName.FindStringSubmatch(s); m != nil {
			target = firstGroup(m)
		}
		if target == "" {
			target = hostTarget(s)
			if h, _, err := net.SplitHostPort(target); err == nil {
				target = h
			}
		}
		add(CodeDNSFailure, target)
	case has("connection refused", "econnrefused"):
		add(CodeDependencyRefused, hostTarget(s))
	case !kernel && has(timeoutWords...):
		add(CodeDependencyTimeout, hostTarget(s))
	}
	return hits
}

// timeoutWords are how lines say something timed out, in lower case.
var timeoutWords = []string{"i/o timeout", "timed out", "etimedout", "deadline exceeded", "timeoutexception",
	"timeout exceeded", "request timeout", "gateway timeout", "timeout while", "read timeout", "connect timeout"}

// isTimeout reports whether a line speaks of a timeout.
func isTimeout(s string) bool {
	if !strings.Contains(s, "time") && !strings.Contains(s, "Time") && !strings.Contains(s, "TIME") && !strings.Contains(s, "deadline") {
		return false
	}
	lower := strings.ToLower(s)
	for _, w := range timeoutWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

func firstGroup(m []string) string {
	for _, g := range m[1:] {
		if g != "" {
			return g
		}
	}
	return ""
}

// hostTarget pulls host:port out of a line, or "" when it names none.
func hostTarget(s string) string {
	if t := dialTarget(s); t != "" {
		return t
	}
	if strings.Contains(s, "host='") {
		if m := rePyHost.FindStringSubmatch(s); m != nil {
			return net.JoinHostPort(m[1], m[2])
		}
	}
	if strings.Contains(s, "port") {
		if m := rePGServer.FindStringSubmatch(s); m != nil {
			if m[1] != "" {
				return net.JoinHostPort(m[1], m[2])
			}
			return net.JoinHostPort(m[3], m[4])
		}
	}
	if strings.Contains(s, "://") {
		if t := urlTarget(s); t != "" {
			return t
		}
	}
	if strings.IndexByte(s, ':') < 0 {
		return ""
	}
	for _, m := range reHostPort.FindAllStringSubmatch(s, -1) {
		host := strings.Trim(m[1], "[]")
		if !hasLetterOrDot(host) || len(host) >= 10 && isDigit(host[0]) && host[4] == '-' || strings.HasSuffix(host, ".java") || strings.HasSuffix(host, ".go") || strings.HasSuffix(host, ".py") {
			continue // a clock, or a source file and line
		}
		if p, err := strconv.Atoi(m[2]); err != nil || p == 0 || p > 65535 {
			continue
		}
		return net.JoinHostPort(host, m[2])
	}
	return ""
}

func hasLetterOrDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if isLetter(s[i]) || s[i] == '.' || s[i] == ':' {
			return true
		}
	}
	return false
}

// urlTarget returns host:port of the first URL in s, with the scheme's
// default port when none is given.
func urlTarget(s string) string {
	m := reURL.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	port := m[3]
	if port == "" {
		port = defaultPort[strings.ToLower(m[1])]
	}
	return net.JoinHostPort(strings.Trim(m[2], "[]"), port)
}

func upstreamTarget(s string) string {
	if m := reUpstreamURL.FindStringSubmatch(s); m != nil {
		// nginx writes the peer of a failed connection with its port
		// (http://127.0.0.1:9099/); a URL without one names an upstream
		// block (http://backend/, "no live upstreams"), not a host on the
		// scheme's port.
		if u := reURL.FindStringSubmatch(m[1]); u != nil && u[3] == "" {
			return strings.Trim(u[2], "[]")
		}
		if t := urlTarget(m[1]); t != "" {
			return t
		}
	}
	return hostTarget(s)
}

func pathTarget(s string) string {
	for _, m := range rePath.FindAllStringSubmatch(s, -1) {
		if m[1] != "/" {
			return m[1]
		}
	}
	return ""
}

func fdTarget(s string) string {
	if t := pathTarget(s); t != "" {
		return t
	}
	return hostTarget(s)
}

// dialTarget reads the address of Go's "dial tcp 10.0.0.5:5432: connect:
// ..." errors.
func dialTarget(s string) string {
	i := strings.Index(s, "dial tcp")
	if i < 0 {
		i = strings.Index(s, "dial udp")
	}
	if i < 0 {
		return ""
	}
	rest := s[i+len("dial tcp"):]
	if len(rest) > 0 && (rest[0] == '4' || rest[0] == '6') {
		rest = rest[1:]
	}
	if !strings.HasPrefix(rest, " ") {
		return "" // "dial tcp: lookup ...": no address
	}
	rest = rest[1:]
	end := strings.Index(rest, ": ")
	if end < 0 {
		end = len(rest)
	}
	addr := rest[:end]
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return ""
	}
	return addr
}
