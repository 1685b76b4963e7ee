package logscan

import (
	"regexp"
	"strings"

	"github.com/triagekit/triage"
)

// Proxies other than nginx log an upstream's failure in their access
// log, as a code on the request's line, rather than as an error line:
// haproxy as the session's termination state, envoy as response flags.
var (
	// haproxy's HTTP log (option httplog) and TCP log (option tcplog):
	// "... [date] frontend backend/server Tq/Tw/Tc/Tr/Ta status bytes
	// cookie cookie TERM ..." and "... [date] frontend backend/server
	// Tw/Tc/Tt bytes TE ...". The termination state's first letter says
	// who ended the session (S the server, s a server-side timeout), the
	// second in which phase (C connect, H headers, D data, Q queue).
	reHAProxyHTTP = regexp.MustCompile(`\] \S+ (\S+/\S+) -?\d+/-?\d+/-?\d+/-?\d+/\+?-?\d+ (\d{3}) \+?\d+ \S+ \S+ ([A-Za-z-]{2})[A-Za-z-]{2} `)
	reHAProxyTCP  = regexp.MustCompile(`\] \S+ (\S+/\S+) -?\d+/-?\d+/\+?-?\d+ \+?\d+ ([A-Za-z-]{2}) `)
	// haproxy's own alerts about servers and backends.
	reHAProxyDown   = regexp.MustCompile(`Server (\S+/\S+) is DOWN, reason: ([^,]+)`)
	reHAProxyNoSrv  = regexp.MustCompile(`backend '?([^' ]+)'? has no server available`)
	reEnvoyFlags    = regexp.MustCompile(`" (\d{3}) ([A-Z]{2,4}(?:,[A-Z]{2,4})*) `)
	reEnvoyUpstream = regexp.MustCompile(`"((?:\d{1,3}\.){3}\d{1,3}:\d+|\[[0-9a-fA-F:.]+\]:\d+)"\s*$`)
)

// proxyLiterals gate the lines worth the proxies' regular expressions.
var proxyLiterals = []string{
	"<NOSRV>", "SC-", "sC-", "SH-", "sH-", "SD-", "sD-", "sQ-", " SC ", " sC ", " SD ", " sD ",
	"is DOWN", "no server available", " UF ", " UH ", " UT ", " URX ", " UO ", "UF,", "UH,",
}

// detectProxy reads an upstream failure off a haproxy or envoy line:
// the code, and the upstream (host:port when the line has it, the
// backend/server otherwise). ok is false for any other line, client-side
// terminations included.
func detectProxy(s string) (code triage.Code, target string, ok bool) {
	if strings.Contains(s, "is DOWN") {
		if m := reHAProxyDown.FindStringSubmatch(s); m != nil {
			if strings.Contains(strings.ToLower(m[2]), "timeout") {
				return CodeUpstreamTimeout, m[1], true
			}
			return CodeUpstreamRefused, m[1], true
		}
	}
	if strings.Contains(s, "no server available") {
		if m := reHAProxyNoSrv.FindStringSubmatch(s); m != nil {
			return CodeUpstreamRefused, m[1] + "/<NOSRV>", true
		}
	}
	if strings.Contains(s, "] ") && strings.Contains(s, "/") {
		var srv, term string
		if m := reHAProxyHTTP.FindStringSubmatch(s); m != nil {
			srv, term = m[1], m[3]
		} else if m := reHAProxyTCP.FindStringSubmatch(s); m != nil {
			srv, term = m[1], m[2]
		}
		if srv != "" {
			if strings.HasSuffix(srv, "/<NOSRV>") && term[0] != 'C' && term[0] != 'c' {
				// No server of the backend was up to take the request.
				return CodeUpstreamRefused, srv, true
			}
			switch {
			case term[0] == 'S' && (term[1] == 'C' || term[1] == 'H' || term[1] == 'D'):
				// The server refused, reset or closed before answering.
				return CodeUpstreamRefused, srv, true
			case term[0] == 's' && strings.IndexByte("CHDQ", term[1]) >= 0:
				// A server-side timeout: connecting, waiting for its
				// headers or data, or in its queue.
				return CodeUpstreamTimeout, srv, true
			}
			return "", "", false
		}
	}
	if m := reEnvoyFlags.FindStringSubmatch(s); m != nil {
		target := "unknown"
		if u := reEnvoyUpstream.FindStringSubmatch(s); u != nil {
			target = u[1]
		}
		for _, f := range strings.Split(m[2], ",") {
			switch f {
			case "UT":
				return CodeUpstreamTimeout, target, true
			case "UF", "UH", "URX", "UO":
				return CodeUpstreamRefused, target, true
			}
		}
	}
	return "", "", false
}
