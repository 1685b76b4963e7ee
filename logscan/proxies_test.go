package logscan

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/triagekit/triage"
)

// TestDetectProxies reads upstream failures off haproxy and envoy lines.
// The haproxy lines are as haproxy 2.6 writes them (option httplog and
// tcplog, raw format); the envoy lines follow its documented default
// access log format, with %RESPONSE_FLAGS% after the status and
// %UPSTREAM_HOST% last.
func TestDetectProxies(t *testing.T) {
	tests := []struct {
		line   string
		code   triage.Code
		target string
	}{
		{`127.0.0.1:48314 [03/Dec/2026:18:03:06.112] fe app/srv1 0/0/-1/-1/2 503 217 - - SC-- 1/1/0/0/0 0/0 "GET /orders HTTP/1.1"`, CodeUpstreamRefused, "app/srv1"},
		{`127.0.0.1:48314 [03/Dec/2026:18:03:06.112] fe app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET /orders HTTP/1.1"`, CodeUpstreamRefused, "app/<NOSRV>"},
		{`127.0.0.1:48314 [03/Dec/2026:18:03:06.112] fe app/srv1 0/0/0/-1/1001 504 198 - - sH-- 1/1/0/0/0 0/0 "GET /orders HTTP/1.1"`, CodeUpstreamTimeout, "app/srv1"},
		{`127.0.0.1:48314 [03/Dec/2026:18:03:06.112] fe app/srv1 0/0/-1/-1/500 503 217 - - sC-- 1/1/0/0/0 0/0 "GET /orders HTTP/1.1"`, CodeUpstreamTimeout, "app/srv1"},
		{`Dec  3 18:03:06 lb haproxy[811]: 10.0.0.5:51234 [03/Dec/2026:18:03:06.112] fe app/srv2 0/0/0/-1/12 502 209 - - SH-- 3/3/1/0/0 0/0 "POST /pay HTTP/1.1"`, CodeUpstreamRefused, "app/srv2"},
		{`127.0.0.1:40000 [03/Dec/2026:18:03:06.112] db_fe db/pg1 1/-1/5003 0 sC 1/1/0/0/3 0/0`, CodeUpstreamTimeout, "db/pg1"},
		{`Server app/srv1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms.`, CodeUpstreamRefused, "app/srv1"},
		{`Server app/srv1 is DOWN, reason: Layer7 timeout, check duration: 2001ms.`, CodeUpstreamTimeout, "app/srv1"},
		{`[ALERT]    (11177) : backend 'app' has no server available!`, CodeUpstreamRefused, "app/<NOSRV>"},
		{`[2026-12-03T18:00:00.000Z] "GET /orders HTTP/1.1" 503 UF 0 91 2 - "-" "curl/8.0" "5f1c0d2e" "api" "10.0.0.7:8080"`, CodeUpstreamRefused, "10.0.0.7:8080"},
		{`[2026-12-03T18:00:00.000Z] "GET /orders HTTP/1.1" 503 UH 0 19 0 - "-" "curl/8.0" "5f1c0d2e" "api" "-"`, CodeUpstreamRefused, "unknown"},
		{`[2026-12-03T18:00:00.000Z] "GET /orders HTTP/1.1" 504 UT 0 24 15001 - "-" "curl/8.0" "5f1c0d2e" "api" "10.0.0.7:8080"`, CodeUpstreamTimeout, "10.0.0.7:8080"},
	}
	for _, tt := range tests {
		code, target, ok := detectProxy(tt.line)
		assert.True(t, ok, tt.line)
		assert.Equal(t, tt.code, code, tt.line)
		assert.Equal(t, tt.target, target, tt.line)
	}
	// The client ended these, or nothing failed: not the upstream's fault.
	for _, line := range []string{
		`127.0.0.1:48302 [03/Dec/2026:18:03:05.711] fe fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>"`,
		`127.0.0.1:48314 [03/Dec/2026:18:03:06.112] fe app/srv1 0/0/0/-1/30000 408 0 - - cD-- 1/1/0/0/0 0/0 "GET /orders HTTP/1.1"`,
		`127.0.0.1:48314 [03/Dec/2026:18:03:06.112] fe app/srv1 0/0/0/1/2 200 120 - - ---- 1/1/0/0/0 0/0 "GET /orders HTTP/1.1"`,
		`[2026-12-03T18:00:00.000Z] "GET /orders HTTP/1.1" 200 - 0 91 2 1 "-" "curl/8.0" "5f1c0d2e" "api" "10.0.0.7:8080"`,
		`[2026-12-03T18:00:00.000Z] "GET /orders HTTP/1.1" 0 DC 0 0 2 - "-" "curl/8.0" "5f1c0d2e" "api" "10.0.0.7:8080"`,
	} {
		_, _, ok := detectProxy(line)
		assert.False(t, ok, line)
	}
}
