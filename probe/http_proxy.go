package probe

import (
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/http/httpproxy"
)

// ProxyFromEnvironment returns the proxy choice that the environment env
// (in os.Environ's "KEY=value" form, such as a process's
// /proc/PID/environ) makes for Go's and curl's HTTP clients: HTTP_PROXY
// for http URLs, HTTPS_PROXY for https URLs, none for hosts NO_PROXY
// names; the upper-case name wins over the lower-case one. As with Go's
// clients, requests to localhost and loopback addresses never go through
// a proxy. It returns nil when env names no proxy: every request goes
// direct. Give it to HTTPOptions.Proxy.
func ProxyFromEnvironment(env []string) func(*url.URL) (*url.URL, error) {
	get := func(names ...string) string {
		for _, n := range names {
			for _, kv := range env {
				if k, v, ok := strings.Cut(kv, "="); ok && k == n && v != "" {
					return v
				}
			}
		}
		return ""
	}
	cfg := httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
	}
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		return nil
	}
	return cfg.ProxyFunc()
}

// proxyState is what the proxy of the hop under way said to its CONNECT.
type proxyState struct {
	mu       sync.Mutex
	status   int
	answered bool
}

func (s *proxyState) reset() {
	s.mu.Lock()
	s.status, s.answered = 0, false
	s.mu.Unlock()
}

func (s *proxyState) answer(status int) {
	s.mu.Lock()
	s.status, s.answered = status, true
	s.mu.Unlock()
}

func (s *proxyState) get() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.answered
}

// proxyFailure says whether a proxied hop that failed was failed by its
// proxy, and how. Through a proxy every dial is to the proxy; for an https
// URL the proxy must also answer the CONNECT with 2xx before the target is
// reached at all.
func proxyFailure(h HTTPHop, https bool) (string, bool) {
	if h.Proxy == "" || h.Class == ClassNone || h.Class == ClassCanceled {
		return "", false
	}
	if h.proxyAnswered && (h.proxyStatus < 200 || h.proxyStatus > 299) {
		return "status", true
	}
	dial := h.Phase == phaseDNS.String() || h.Phase == phaseConnect.String()
	if !dial && !(https && !h.proxyAnswered) {
		return "", false
	}
	switch h.Class {
	case ClassRefused:
		return "refused", true
	case ClassTimeout, ClassTLSTimeout, ClassNoFirstByte, ClassDNSTimeout:
		if h.Class == ClassDNSTimeout {
			return "dns", true
		}
		return "timeout", true
	case ClassReset, ClassEmptyReply:
		return "reset", true
	case ClassUnreachable, ClassBlocked:
		return "unreachable", true
	case ClassDNSNotFound, ClassDNSError:
		return "dns", true
	}
	return "error", true
}
