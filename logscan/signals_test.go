package logscan

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		kernel bool
		code   triage.Code
		target string
	}{
		{"go dial refused", "request failed: dial tcp 10.0.0.5:5432: connect: connection refused", false, CodeDependencyRefused, "10.0.0.5:5432"},
		{"go dial v6 refused", "dial tcp [::1]:6379: connect: connection refused", false, CodeDependencyRefused, "[::1]:6379"},
		{"node refused", "Error: connect ECONNREFUSED 127.0.0.1:6379", false, CodeDependencyRefused, "127.0.0.1:6379"},
		{"python refused", "HTTPConnectionPool(host='orders', port=8080): Max retries exceeded with url: /x (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))", false, CodeDependencyRefused, "orders:8080"},
		{"postgres refused", `connection to server at "db.internal" (10.0.0.9), port 5432 failed: Connection refused`, false, CodeDependencyRefused, "db.internal:5432"},
		{"java url refused", "Connect to http://payments:8443 failed: Connection refused", false, CodeDependencyRefused, "payments:8443"},
		{"go io timeout", "dial tcp 10.0.0.7:443: i/o timeout", false, CodeDependencyTimeout, "10.0.0.7:443"},
		{"go deadline url", `Get "https://api.example.com/v1": context deadline exceeded`, false, CodeDependencyTimeout, "api.example.com:443"},
		{"java read timeout", "java.net.SocketTimeoutException: Read timed out", false, CodeDependencyTimeout, "unknown"},
		{"python read timeout", "HTTPConnectionPool(host='search', port=9200): Read timed out. (read timeout=5)", false, CodeDependencyTimeout, "search:9200"},
		{"nginx refused", `connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://127.0.0.2:8081/", host: "x"`, false, CodeUpstreamRefused, "127.0.0.2:8081"},
		{"nginx timeout", `upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, upstream: "http://127.0.0.3:8082/"`, false, CodeUpstreamTimeout, "127.0.0.3:8082"},
		{"nginx connect timeout", `connect() failed (110: Connection timed out) while connecting to upstream, upstream: "http://10.1.1.1:80/"`, false, CodeUpstreamTimeout, "10.1.1.1:80"},
		{"nginx no live", `no live upstreams while connecting to upstream, client: 127.0.0.1, upstream: "http://backend/"`, false, CodeUpstreamRefused, "backend"},
		{"envoy", "upstream connect error or disconnect/reset before headers. reset reason: connection failure", false, CodeUpstreamRefused, "unknown"},
		{"go dns", "dial tcp: lookup db.internal on 127.0.0.53:53: no such host", false, CodeDNSFailure, "db.internal"},
		{"java dns", "java.net.UnknownHostException: payments.svc: Name or service not known", false, CodeDNSFailure, "payments.svc"},
		{"node dns", "getaddrinfo ENOTFOUND redis.local", false, CodeDNSFailure, "redis.local"},
		{"python dns", "NameResolutionError: Failed to resolve 'auth' ([Errno -3] Temporary failure in name resolution)", false, CodeDNSFailure, "auth"},
		{"hikari", "HikariPool-1 - Connection is not available, request timed out after 30000ms.", false, CodePoolExhausted, "HikariPool-1"},
		{"sqlalchemy", "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30", false, CodePoolExhausted, "QueuePool"},
		{"postgres clients", "FATAL: sorry, too many clients already", false, CodePoolExhausted, "unknown"},
		{"go redis pool", "redis: connection pool timeout", false, CodePoolExhausted, "unknown"},
		{"disk full", "write /var/lib/app/data.db: no space left on device", false, CodeDiskFull, "/var/lib/app/data.db"},
		{"fds", "http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 5ms", false, CodeTooManyOpenFiles, "[::]:8080"},
		{"java oom", "java.lang.OutOfMemoryError: Java heap space", false, CodeOutOfMemory, "unknown"},
		{"go oom", "fatal error: runtime: out of memory", false, CodeOutOfMemory, "unknown"},
		{"kernel oom", "Out of memory: Killed process 4321 (java) total-vm:1234kB, anon-rss:999kB", true, CodeKernelOOMKill, "java"},
		{"syslog kernel oom", "Nov 25 07:58:42 host kernel: [123.4] Killed process 99 (node) total-vm:1kB", false, CodeKernelOOMKill, "node"},
		{"syn flood", "TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.  Check SNMP counters.", true, CodeKernelSYNFlood, "8080"},
		{"syn flood v6", "TCP: request_sock_TCPv6: Possible SYN flooding on port [::]:443. Sending cookies.", true, CodeKernelSYNFlood, "[::]:443"},
		{"conntrack", "nf_conntrack: nf_conntrack: table full, dropping packet", true, CodeKernelConntrackFull, "nf_conntrack"},
		{"conntrack netns", "nf_conntrack: nf_conntrack: table full in netns 4026532178, dropping packet", true, CodeKernelConntrackFull, "netns 4026532178"},
		{"blk io", "blk_update_request: I/O error, dev sda, sector 123456 op 0x1:(WRITE)", true, CodeKernelIOError, "sda"},
		{"buffer io", "Buffer I/O error on dev nvme0n1p1, logical block 42, lost async page write", true, CodeKernelIOError, "nvme0n1p1"},
		{"ext4", "EXT4-fs error (device vdb1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0", true, CodeKernelIOError, "vdb1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := detect(tt.line, tt.kernel)
			var found *hit
			for i := range hits {
				if hits[i].code == tt.code {
					found = &hits[i]
				}
			}
			if assert.NotNil(t, found, "hits: %+v", hits) {
				want := tt.target
				if want == "unknown" {
					want = ""
				}
				if found.target != "" || want != "" {
					assert.Equal(t, want, found.target)
				}
			}
		})
	}
	t.Run("timestamps are not targets", func(t *testing.T) {
		assert.Empty(t, hostTarget(`{"time":"2026-11-25T07:58:42Z","msg":"x timed out"}`))
		assert.Empty(t, hostTarget("at com.example.Main.run(Main.java:42)"))
	})
	t.Run("plain lines say nothing", func(t *testing.T) {
		assert.Empty(t, detect("GET /health 200 3ms", false))
	})
}

func TestSignalFacts(t *testing.T) {
	tests := []struct {
		code   triage.Code
		target string
		want   map[string]any
	}{
		{CodeDependencyRefused, "10.0.0.5:5432", map[string]any{triage.KeyHost: "10.0.0.5", triage.KeyPort: int64(5432)}},
		{CodeUpstreamTimeout, "[::1]:8081", map[string]any{triage.KeyHost: "::1", triage.KeyPort: int64(8081)}},
		{CodeUpstreamRefused, "backend", nil},
		{CodeDependencyTimeout, "unknown", nil},
		{CodeDNSFailure, "db.internal", map[string]any{triage.KeyName: "db.internal"}},
		{CodeDNSFailure, "unknown", nil},
		{CodeDiskFull, "/var/lib/app/data.db", map[string]any{triage.KeyPath: "/var/lib/app/data.db"}},
		{CodeDiskFull, "unknown", nil},
		{CodeTooManyOpenFiles, "redis:6379", map[string]any{triage.KeyHost: "redis", triage.KeyPort: int64(6379)}},
		{CodeKernelOOMKill, "java", map[string]any{triage.KeyProcess: "java"}},
		{CodeKernelSYNFlood, "8080", map[string]any{triage.KeyPort: int64(8080)}},
		{CodeKernelSYNFlood, "127.0.0.1:8080", map[string]any{triage.KeyAddr: "127.0.0.1", triage.KeyPort: int64(8080)}},
		{CodeKernelIOError, "vdb", nil},
		{CodePoolExhausted, "HikariPool-1", nil},
		{CodeKernelConntrackFull, "nf_conntrack", nil},
		// No namespace of this host has inode 1: not the check's own.
		{CodeKernelConntrackFull, "netns 1", map[string]any{triage.KeyNetNS: uint64(1), "netns_own": false}},
	}
	for _, tt := range tests {
		t.Run(string(tt.code)+" "+tt.target, func(t *testing.T) {
			var got map[string]any
			for _, a := range (Signal{Code: tt.code, Target: tt.target}).facts() {
				if got == nil {
					got = map[string]any{}
				}
				got[a.Key] = a.Value.Any()
			}
			assert.Equal(t, tt.want, got)
		})
	}
	// The namespace the check runs in is its own.
	own, err := ownNetNS()
	if err != nil {
		t.Skipf("no namespace to read here: %v", err)
	}
	ev := (Signal{Code: CodeKernelConntrackFull, Target: fmt.Sprintf("netns %d", own)}).facts()
	v, ok := ev.Lookup("netns_own")
	require.True(t, ok)
	assert.True(t, v.Bool())
}
