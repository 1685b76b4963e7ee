package classify

import (
	"log/slog"
	"slices"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/container"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/host"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/process"
	"github.com/triagekit/triage/sockstat"
)

// Hypothesis ids. They are API: new ones are added, none is renamed.
const (
	RefusedNoProcess          ID = "refused.no_process"
	RefusedNotListening       ID = "refused.not_listening"
	RefusedWrongAddress       ID = "refused.wrong_address"
	RefusedFirewall           ID = "refused.firewall"
	RefusedNoRoute            ID = "refused.no_route"
	TimeoutPacketDrop         ID = "timeout.packet_drop"
	TimeoutBacklogFull        ID = "timeout.backlog_full"
	TimeoutSlowApp            ID = "timeout.slow_app"
	TimeoutResourceSaturation ID = "timeout.resource_saturation"
	TimeoutDependency         ID = "timeout.dependency"
	TimeoutDNS                ID = "timeout.dns"
	UpstreamRefused           ID = "5xx.upstream_refused"
	UpstreamTimeout           ID = "5xx.upstream_timeout"
	AppError                  ID = "5xx.app_error"
	DiskFullWrites            ID = "5xx.disk_full"
	DependencyDown            ID = "5xx.dependency_down"
	DNSNXDomain               ID = "dns.nxdomain"
	DNSServFail               ID = "dns.servfail"
	DNSUnreachable            ID = "dns.unreachable"
	DNSMismatch               ID = "dns.mismatch"
	DNSHostsOverride          ID = "dns.hosts_override"
	DNSIPv6Broken             ID = "dns.ipv6_broken"
	DiskFull                  ID = "disk.full"
	DiskInodesExhausted       ID = "disk.inodes_exhausted"
	DiskReadOnly              ID = "disk.readonly"
	DiskDeletedOpenFiles      ID = "disk.deleted_open_files"
	ConnTimeWaitExcess        ID = "conn.time_wait_excess"
	ConnSynSentBacklog        ID = "conn.syn_sent_backlog"
	ConnFDExhaustion          ID = "conn.fd_exhaustion"
	ResourceCPUSaturated      ID = "resource.cpu_saturated"
	ResourceMemoryPressure    ID = "resource.memory_pressure"
	ResourceOOMKilled         ID = "resource.oom_killed"
	ResourceThreadSpin        ID = "resource.thread_spin"
	ConnCloseWaitLeak         ID = "conn.close_wait_leak"
	ConnPortsExhausted        ID = "conn.ports_exhausted"
	ConnConntrackFull         ID = "conn.conntrack_full"
	ResourceSwapping          ID = "resource.swapping"
	ResourceCPUThrottled      ID = "resource.cpu_throttled"
	SlowDNS                   ID = "slow.dns"
	SlowConnect               ID = "slow.connect"
	SlowApp                   ID = "slow.app"
	SlowDependency            ID = "slow.dependency"
	SlowResources             ID = "slow.resources"
	TLSCertExpired            ID = "tls.cert_expired"
	TLSNameMismatch           ID = "tls.name_mismatch"
	TLSUnknownAuthority       ID = "tls.unknown_authority"
	ClientAuthRejected        ID = "client.auth_rejected"
	ClientRateLimited         ID = "client.rate_limited"
	ClientProxy               ID = "client.proxy"
)

func sign(c triage.Code, w float64) Sign { return Sign{Code: c, Weight: w} }

// dep is a sign that counts the findings of dependency probes only.
func dep(c triage.Code, w float64) Sign { return Sign{Code: c, Weight: w, Dependency: true} }

// The codes of grpctriage's health probe, which is always a dependency's:
// named here so that the classifier does not depend on gRPC.
const (
	grpcUnavailable triage.Code = "grpc.unavailable"
	grpcNotServing  triage.Code = "grpc.not_serving"
	grpcTimeout     triage.Code = "grpc.timeout"
)

// pinnedOK is an HTTP answer from an address the caller chose (curl
// --resolve): the server works when the name is bypassed, which speaks
// against the refused port being the server's fault.
var pinnedOK = Sign{Code: probe.CodeHTTPOK, Weight: 0.6, When: func(f triage.Finding) bool {
	v, ok := f.Evidence.Lookup(probe.KeyPinned)
	return ok && v.Kind() == slog.KindBool && v.Bool()
}}

// statusIn accepts HTTP findings whose status code is one of codes.
func statusIn(codes ...int64) func(triage.Finding) bool {
	return func(f triage.Finding) bool {
		n, ok := f.Evidence.Int(probe.KeyHTTPStatus)
		return ok && slices.Contains(codes, n)
	}
}

// slowIn accepts http.slow findings whose slowest phase is one of phases.
func slowIn(phases ...string) func(triage.Finding) bool {
	return func(f triage.Finding) bool {
		return slices.Contains(phases, f.Evidence.String(probe.KeyPhase))
	}
}

// DefaultRules returns a fresh copy of the rules Classify uses. Their order
// does not matter: equal scores are never ranked by it.
func DefaultRules() []Rule {
	refused := []Symptom{Refused}
	timeout := []Symptom{Timeout}
	fivexx := []Symptom{Status5xx}
	slow := []Symptom{Slow}
	tlsFailed := []Symptom{TLS}
	fourxx := []Symptom{Status4xx}
	slowNot := func(phases ...string) Sign {
		return Sign{Code: probe.CodeHTTPSlow, Weight: 0.8, When: func(f triage.Finding) bool { return !slowIn(phases...)(f) }}
	}
	return []Rule{
		// slow: the answer came late; the phase that took the time says
		// where to look.
		{
			ID: SlowDNS, Symptoms: slow, Layer: LayerDNS, Weight: 0.85,
			Title: "resolving the name takes the time: a resolver does not answer before another does",
			Support: []Sign{{Code: probe.CodeHTTPSlow, Weight: 1, When: slowIn("dns")}, sign(dnscheck.CodeTimeout, 0.6),
				sign(dnscheck.CodeUnreachable, 0.4), sign(dnscheck.CodeSearchExpansion, 0.3)},
			Against: []Sign{slowNot("dns")},
			Next:    []string{"cat /etc/resolv.conf", "dig {host} A +tries=1 +time=1", "curl -w '%{time_namelookup}\\n' -o /dev/null -s {url}"},
		},
		{
			ID: SlowConnect, Symptoms: slow, Layer: LayerNetwork, Weight: 0.8,
			Title: "connecting takes the time: SYNs are retransmitted or the accept queue is full",
			Support: []Sign{{Code: probe.CodeHTTPSlow, Weight: 1, When: slowIn("connect")}, sign(sockstat.CodeAcceptQueueFull, 0.7),
				sign(sockstat.CodeListenOverflows, 0.6), sign(sockstat.CodeRetransmitsHigh, 0.6), sign(logscan.CodeKernelSYNFlood, 0.5),
				sign(host.CodeNICErrors, 0.5)},
			Against: []Sign{slowNot("connect")},
			Next:    []string{"ss -lnt 'sport = :{port}'", "nstat -az TcpExtListenOverflows TcpRetransSegs", "curl -w '%{time_connect}\\n' -o /dev/null -s {url}"},
		},
		{
			ID: SlowDependency, Symptoms: slow, Layer: LayerDependency, Weight: 0.85,
			Title: "the service waits on a slow dependency before it answers",
			// The request's own wait is no sign of a dependency: only
			// the dependency's own slowness, its timeouts and its pool.
			Support: []Sign{dep(probe.CodeHTTPSlow, 0.9), dep(probe.CodeHTTPNoFirstByte, 0.8), dep(probe.CodeTCPTimeout, 0.6),
				sign(probe.CodeDBPingTimeout, 0.9), sign(probe.CodeDBPoolExhausted, 0.9),
				sign(logscan.CodeDependencyTimeout, 0.8), sign(logscan.CodePoolExhausted, 0.8), sign(logscan.CodeUpstreamTimeout, 0.6)},
			Against:  []Sign{slowNot("wait", "transfer")},
			Explains: []ID{SlowApp},
			Next:     []string{"ss -antp 'dport = :{port}'", "curl -w '%{time_starttransfer}\\n' -o /dev/null -s {url}"},
		},
		{
			ID: SlowApp, Symptoms: slow, Layer: LayerProcess, Weight: 0.75,
			Title:   "the service itself takes the time to answer",
			Support: []Sign{{Code: probe.CodeHTTPSlow, Weight: 0.9, When: slowIn("wait", "transfer")}},
			Against: []Sign{slowNot("wait", "transfer")},
			Next:    []string{"curl -w '%{time_starttransfer} %{time_total}\\n' -o /dev/null -s {url}", "top -H -p {pid}"},
		},
		{
			ID: SlowResources, Symptoms: slow, Layer: LayerResources, Weight: 0.8,
			Title: "the service is starved: its CPU is throttled or saturated, it swaps, or a thread spins",
			// The target's own starvation (its cgroup throttled, its
			// thread spinning) says more than the whole host being busy,
			// which a slow answer of its own code also runs into.
			Support: []Sign{sign(host.CodeCgroupCPUThrottled, 1), sign(process.CodeSwapping, 1), sign(process.CodeThreadHot, 0.8),
				sign(host.CodeSwapping, 0.7), sign(host.CodeCPUSaturated, 0.6), sign(host.CodeCPUPressure, 0.4), sign(host.CodeMemoryPressure, 0.4),
				sign(host.CodeCgroupMemoryNearLimit, 0.5), sign(host.CodeIOWaitHigh, 0.3), sign(host.CodeStealHigh, 0.3),
				sign(host.CodeCPUImbalance, 0.3), sign(host.CodeDiskBusy, 0.3)},
			// No Explains: a starved host does not make the application's
			// own wait less likely; both are shown, the closer the harder
			// to call.
			Next: []string{"top -H -p {pid}", "cat /sys/fs/cgroup/{cgroup}/cpu.stat", "vmstat 1 5"},
		},

		// tls: the certificate fails.
		{
			ID: TLSCertExpired, Symptoms: tlsFailed, Layer: LayerNetwork, Weight: 0.95,
			Title:   "the server's certificate has expired (or is not valid yet)",
			Support: []Sign{sign(probe.CodeHTTPTLSExpired, 1)},
			Next:    []string{"openssl s_client -connect {host}:{port} -servername {host} </dev/null | openssl x509 -noout -dates -subject"},
		},
		{
			ID: TLSNameMismatch, Symptoms: tlsFailed, Layer: LayerNetwork, Weight: 0.95,
			Title:   "the server's certificate is for another name",
			Support: []Sign{sign(probe.CodeHTTPTLSNameMismatch, 1)},
			Next:    []string{"openssl s_client -connect {host}:{port} -servername {host} </dev/null | openssl x509 -noout -ext subjectAltName"},
		},
		{
			ID: TLSUnknownAuthority, Symptoms: tlsFailed, Layer: LayerNetwork, Weight: 0.9,
			Title:   "the server's certificate is signed by an authority the client does not trust",
			Support: []Sign{sign(probe.CodeHTTPTLSUnknownAuthority, 1)},
			Next:    []string{"openssl s_client -connect {host}:{port} -servername {host} -showcerts </dev/null", "ls /etc/ssl/certs | wc -l"},
		},

		// 4xx and the client side.
		{
			ID: ClientAuthRejected, Symptoms: fourxx, Layer: LayerProcess, Weight: 0.9,
			Title:   "the server refuses the client's credentials",
			Support: []Sign{{Code: probe.CodeHTTPStatus4xx, Weight: 1, When: statusIn(401, 403, 407)}},
			Next:    []string{"curl -v -H 'Authorization: ...' {url}"},
		},
		{
			ID: ClientRateLimited, Symptoms: fourxx, Layer: LayerDependency, Weight: 0.9,
			Title:   "the server rate-limits the client",
			Support: []Sign{sign(probe.CodeHTTPRateLimited, 1), dep(probe.CodeHTTPRateLimited, 0.8)},
			Next:    []string{"curl -sv -o /dev/null {url} 2>&1 | grep -i -e '< retry-after' -e '< x-ratelimit' -e '< ratelimit'"},
		},
		{
			// Any symptom: a refusing proxy reads as refused, a hung one
			// as a timeout.
			ID: ClientProxy, Layer: LayerNetwork, Weight: 0.9,
			Title:    "the request goes through a proxy (HTTP_PROXY, HTTPS_PROXY) that fails it",
			Support:  []Sign{sign(probe.CodeHTTPProxyFailed, 1), dep(probe.CodeHTTPProxyFailed, 0.8)},
			Explains: []ID{RefusedNotListening, RefusedFirewall, RefusedNoProcess, TimeoutPacketDrop, TimeoutSlowApp},
			Next:     []string{"tr '\\0' '\\n' < /proc/{pid}/environ | grep -i _proxy", "curl -v --noproxy '*' {url}", "curl -v {url}"},
		},

		// refused: no process, port not open, wrong address, firewall.
		{
			ID: RefusedNoProcess, Symptoms: refused, Layer: LayerProcess, Weight: 0.95,
			Title:    "the service process is not running",
			Support:  []Sign{sign(process.CodeNotFound, 1), sign(process.CodeZombie, 0.8)},
			Against:  []Sign{sign(process.CodeRunning, 0.8), sign(sockstat.CodeListening, 0.6), pinnedOK},
			Explains: []ID{RefusedNotListening, RefusedFirewall, RefusedWrongAddress},
			Next:     []string{"ps aux | grep {process}", "systemctl status {unit}", "journalctl -u {unit} -n 200 --no-pager"},
		},
		{
			ID: RefusedWrongAddress, Symptoms: refused, Layer: LayerNetwork, Weight: 0.9,
			Title:    "the service listens, but on another address than the one dialled",
			Support:  []Sign{sign(sockstat.CodeWrongAddress, 1)},
			Against:  []Sign{sign(sockstat.CodeListening, 0.8)},
			Explains: []ID{RefusedNotListening, RefusedFirewall},
			Next:     []string{"ss -lntp 'sport = :{port}'", "lsof -iTCP:{port} -sTCP:LISTEN -nP"},
		},
		{
			ID: RefusedNotListening, Symptoms: refused, Layer: LayerProcess, Weight: 0.85,
			Title:    "nothing listens on the target port",
			Support:  []Sign{sign(sockstat.CodeNoListener, 1), sign(probe.CodeTCPRefused, 0.4)},
			Against:  []Sign{sign(sockstat.CodeListening, 0.9), pinnedOK},
			Explains: []ID{RefusedFirewall},
			Next:     []string{"ss -lntp 'sport = :{port}'", "lsof -iTCP:{port} -sTCP:LISTEN -nP"},
		},
		{
			ID: RefusedFirewall, Symptoms: refused, Layer: LayerNetwork, Weight: 0.8,
			Title: "a firewall rejects the connection",
			Support: []Sign{sign(probe.CodeTCPBlocked, 1), {Code: sockstat.CodeListening, Weight: 0.85, OK: true}, sign(probe.CodeTCPRefused, 0.2),
				sign(container.CodeReachDiffers, 0.5)},
			Against: []Sign{sign(sockstat.CodeNoListener, 0.9), sign(sockstat.CodeWrongAddress, 0.9), pinnedOK},
			Next:    []string{"iptables -S", "nft list ruleset", "curl -v telnet://{host}:{port}"},
		},
		{
			// ENETUNREACH or EHOSTUNREACH: the connection fails at once,
			// before any SYN is answered; in a container, often a network
			// the host has and it does not.
			ID: RefusedNoRoute, Symptoms: refused, Layer: LayerNetwork, Weight: 0.85,
			Title:   "there is no route to the target: the network or the host is unreachable",
			Support: []Sign{sign(probe.CodeTCPUnreachable, 1), sign(container.CodeReachDiffers, 0.6)},
			Next:    []string{"ip route get {addr}", "ip addr", "ping -c 3 {host}"},
		},

		// timeout: drops, backlog, slow app, saturation, dependency, DNS.
		{
			ID: TimeoutBacklogFull, Symptoms: timeout, Layer: LayerProcess, Weight: 0.9,
			Title:    "the accept queue is full: the service cannot accept fast enough",
			Support:  []Sign{sign(sockstat.CodeAcceptQueueFull, 1), sign(sockstat.CodeListenOverflows, 0.8), sign(logscan.CodeKernelSYNFlood, 0.6)},
			Explains: []ID{TimeoutPacketDrop},
			Next:     []string{"ss -lnt 'sport = :{port}'", "nstat -az TcpExtListenOverflows TcpExtListenDrops"},
		},
		{
			ID: TimeoutDependency, Symptoms: timeout, Layer: LayerDependency, Weight: 0.85,
			Title: "a dependency is slow or its connection pool is exhausted",
			Support: []Sign{sign(probe.CodeDBPoolExhausted, 1), sign(probe.CodeDBPingTimeout, 1), sign(logscan.CodeDependencyTimeout, 0.9),
				sign(logscan.CodePoolExhausted, 0.9), sign(logscan.CodeTimeoutsNoStack, 0.7),
				// A dependency that does not answer in time either: the
				// request waits on it.
				dep(probe.CodeHTTPNoFirstByte, 0.9), dep(probe.CodeTCPTimeout, 0.8), dep(probe.CodeHTTPBodyStalled, 0.6),
				sign(logscan.CodeUpstreamTimeout, 0.7)},
			Explains: []ID{TimeoutSlowApp},
			Next:     []string{"ss -antp 'dport = :{port}'"},
		},
		{
			ID: TimeoutPacketDrop, Symptoms: timeout, Layer: LayerNetwork, Weight: 0.8,
			Title: "packets to the target are dropped: SYNs get no answer",
			Support: []Sign{sign(probe.CodeTCPTimeout, 0.7), sign(sockstat.CodeSynSentBacklog, 0.8), sign(host.CodeNICErrors, 0.4),
				sign(container.CodeReachDiffers, 0.5)},
			Against: []Sign{sign(probe.CodeTCPConnected, 0.8), sign(sockstat.CodeAcceptQueueFull, 0.9)},
			Next:    []string{"ss -ant state syn-sent", "iptables -S", "traceroute -T -p {port} {host}"},
		},
		{
			ID: TimeoutResourceSaturation, Symptoms: timeout, Layer: LayerResources, Weight: 0.75,
			Title: "the host or the service is saturated",
			Support: []Sign{sign(host.CodeCPUSaturated, 1), sign(host.CodeSwapping, 0.9), sign(host.CodeCPUPressure, 0.8),
				sign(host.CodeMemoryPressure, 0.8), sign(host.CodeCgroupCPUThrottled, 0.8), sign(host.CodeMemoryLow, 0.7),
				sign(host.CodeIOPressure, 0.7), sign(host.CodeIOWaitHigh, 0.7), sign(host.CodeDiskBusy, 0.5), sign(host.CodeStealHigh, 0.6), sign(host.CodeLoadHigh, 0.6),
				sign(host.CodeCgroupMemoryNearLimit, 0.6), sign(process.CodeThreadHot, 0.6), sign(process.CodeSwapping, 0.8),
				sign(process.CodeUninterruptible, 0.5)},
			Next: []string{"top -H -p {pid}", "vmstat 1 5", "cat /proc/pressure/cpu /proc/pressure/memory /proc/pressure/io"},
		},
		{
			ID: TimeoutSlowApp, Symptoms: timeout, Layer: LayerProcess, Weight: 0.7,
			Title:   "the service accepts connections but answers too slowly",
			Support: []Sign{sign(probe.CodeHTTPNoFirstByte, 0.9), sign(probe.CodeHTTPBodyStalled, 0.7)},
			Next:    []string{"curl -v -m 10 {url}", "top -H -p {pid}"},
		},
		{
			ID: TimeoutDNS, Symptoms: timeout, Layer: LayerDNS, Weight: 0.8,
			Title:   "name resolution times out",
			Support: []Sign{sign(probe.CodeTCPDNSTimeout, 1), sign(dnscheck.CodeTimeout, 1), sign(dnscheck.CodeSearchExpansion, 0.4)},
			Next:    []string{"dig {host} A +tries=1 +time=2", "cat /etc/resolv.conf"},
		},

		// 5xx: the proxy's upstream refuses or times out, the app fails, the disk is full.
		{
			ID: UpstreamRefused, Symptoms: fivexx, Layer: LayerDependency, Weight: 0.9,
			Title: "the proxy's upstream refuses connections",
			Support: []Sign{sign(logscan.CodeUpstreamRefused, 1), sign(logscan.CodeDependencyRefused, 0.6),
				{Code: probe.CodeHTTPStatus5xx, Weight: 0.5, When: statusIn(502, 503)},
				// The upstream probed on its own refuses too.
				dep(probe.CodeTCPRefused, 0.7), dep(probe.CodeTCPUnreachable, 0.6), dep(probe.CodeTCPReset, 0.5)},
			// A proxy answers 502, 503 or 504 for its upstream; a 500 is
			// the application's own.
			Against: []Sign{{Code: probe.CodeHTTPStatus5xx, Weight: 0.5, When: statusIn(504)},
				{Code: probe.CodeHTTPStatus5xx, Weight: 0.6, When: statusIn(500, 501, 505)}},
			Explains: []ID{AppError},
			Next:     []string{"ss -lntp", "curl -v {url}"},
		},
		{
			ID: UpstreamTimeout, Symptoms: fivexx, Layer: LayerDependency, Weight: 0.9,
			Title: "the proxy's upstream does not answer in time",
			Support: []Sign{sign(logscan.CodeUpstreamTimeout, 1), sign(logscan.CodeDependencyTimeout, 0.5),
				{Code: probe.CodeHTTPStatus5xx, Weight: 0.5, When: statusIn(504)},
				// The upstream probed on its own does not answer either.
				dep(probe.CodeHTTPNoFirstByte, 0.7), dep(probe.CodeTCPTimeout, 0.7)},
			Against: []Sign{{Code: probe.CodeHTTPStatus5xx, Weight: 0.5, When: statusIn(502)},
				{Code: probe.CodeHTTPStatus5xx, Weight: 0.6, When: statusIn(500, 501, 505)}},
			Explains: []ID{AppError},
			Next:     []string{"curl -v -m 10 {url}", "ss -antp state syn-sent"},
		},
		{
			ID: DiskFullWrites, Symptoms: fivexx, Layer: LayerDisk, Weight: 0.9,
			Title: "writes fail because the disk is full",
			Support: []Sign{sign(logscan.CodeDiskFull, 1), sign(diskcheck.CodeFull, 0.7), sign(diskcheck.CodeInodesExhausted, 0.7),
				sign(diskcheck.CodeNotWritable, 0.7), sign(diskcheck.CodeReadOnly, 0.5)},
			Explains: []ID{AppError},
			Next:     []string{"df -h {path}", "df -i {path}"},
		},
		{
			// Without a symptom too: a service that logs a dependency
			// refusing is in trouble before its clients see it.
			ID: DependencyDown, Symptoms: []Symptom{Status5xx, None}, Layer: LayerDependency, Weight: 0.85,
			Title: "a dependency of the application is down",
			Support: []Sign{sign(logscan.CodeDependencyRefused, 0.9), sign(logscan.CodeDependencyTimeout, 0.7),
				sign(logscan.CodePoolExhausted, 0.6), sign(logscan.CodeDNSFailure, 0.5),
				dep(probe.CodeTCPRefused, 0.8), dep(probe.CodeTCPTimeout, 0.7), dep(probe.CodeTCPUnreachable, 0.7),
				dep(probe.CodeHTTPStatus5xx, 0.6), dep(probe.CodeHTTPNoFirstByte, 0.6), sign(probe.CodeDBPingError, 0.9),
				sign(probe.CodeDBPingTimeout, 0.8), sign(probe.CodeDBPoolExhausted, 0.6),
				sign(grpcUnavailable, 0.8), sign(grpcNotServing, 0.8), sign(grpcTimeout, 0.7)},
			// A proxy's 502 and 504 name its upstream, which the upstream
			// rules are about.
			Against: []Sign{sign(logscan.CodeUpstreamRefused, 0.8), sign(logscan.CodeUpstreamTimeout, 0.8),
				{Code: probe.CodeHTTPStatus5xx, Weight: 0.6, When: statusIn(502, 504)}},
			Explains: []ID{AppError},
			Next:     []string{"ss -antp 'dport = :{port}'", "curl -v telnet://{host}:{port}"},
		},
		{
			ID: AppError, Symptoms: fivexx, Layer: LayerProcess, Weight: 0.8,
			Title: "the application itself fails",
			Support: []Sign{sign(logscan.CodeErrors, 0.7),
				{Code: probe.CodeHTTPStatus5xx, Weight: 0.5, When: statusIn(500, 501, 503, 505)}},
			Next: []string{"journalctl -u {unit} -n 200 --no-pager", "curl -v {url}"},
		},

		// dns: no symptom needed.
		{
			ID: DNSNXDomain, Layer: LayerDNS, Weight: 0.85,
			Title:   "the name does not exist",
			Support: []Sign{sign(dnscheck.CodeNXDomain, 1), sign(probe.CodeTCPDNSNotFound, 0.8), sign(logscan.CodeDNSFailure, 0.5)},
			// The request reached the service by that name: whatever a
			// nameserver says, the application resolves it.
			Against: []Sign{sign(probe.CodeTCPConnected, 1), sign(probe.CodeHTTPOK, 1)},
			Next:    []string{"dig {name} A +short", "dig +trace {name}"},
		},
		{
			ID: DNSServFail, Layer: LayerDNS, Weight: 0.8,
			Title:   "the resolver fails to resolve the name",
			Support: []Sign{sign(dnscheck.CodeServFail, 1), sign(dnscheck.CodeRefused, 0.9)},
			Next:    []string{"dig {name} A", "dig +trace {name}"},
		},
		{
			// Nothing answers at the nameserver's address, or there is no
			// route to it: a container whose network lacks the host's, a
			// resolv.conf naming a server that is gone.
			ID: DNSUnreachable, Layer: LayerDNS, Weight: 0.85,
			Title:   "the resolver cannot be reached",
			Support: []Sign{sign(dnscheck.CodeUnreachable, 1), sign(probe.CodeTCPDNSError, 0.4)},
			Next:    []string{"cat /etc/resolv.conf", "dig {name} A", "ip route"},
		},
		{
			ID: DNSHostsOverride, Layer: LayerDNS, Weight: 0.75,
			Title:   "/etc/hosts overrides what DNS says",
			Support: []Sign{sign(dnscheck.CodeHostsOverride, 1)},
			Next:    []string{"getent hosts {name}", "grep -n {name} /etc/hosts"},
		},
		{
			ID: DNSMismatch, Layer: LayerDNS, Weight: 0.65,
			Title:   "resolvers disagree about the name",
			Support: []Sign{sign(dnscheck.CodeMismatch, 1), sign(container.CodeDNSDiffers, 0.8)},
			Next:    []string{"dig {name} A +short", "dig +trace {name}"},
		},
		{
			ID: DNSIPv6Broken, Layer: LayerNetwork, Weight: 0.6,
			Title:   "the name has IPv6 addresses that cannot be reached",
			Support: []Sign{sign(dnscheck.CodeIPv6Unreachable, 1)},
			Next:    []string{"dig {name} AAAA +short", "curl -6 -v {url}"},
		},

		// disk.
		{
			ID: DiskFull, Layer: LayerDisk, Weight: 0.8,
			Title:   "a filesystem is full",
			Support: []Sign{sign(diskcheck.CodeFull, 1), sign(logscan.CodeDiskFull, 0.7), sign(diskcheck.CodeSpaceLow, 0.5), sign(diskcheck.CodeFillingFast, 0.4)},
			Next:    []string{"df -h {path}", "du -xsh {path}/* | sort -h"},
		},
		{
			ID: DiskInodesExhausted, Layer: LayerDisk, Weight: 0.8,
			Title:   "a filesystem is out of inodes",
			Support: []Sign{sign(diskcheck.CodeInodesExhausted, 1), sign(diskcheck.CodeInodesLow, 0.5)},
			Next:    []string{"df -i {path}", "find {path} -xdev -type f | cut -d/ -f2-3 | sort | uniq -c | sort -n | tail"},
		},
		{
			ID: DiskReadOnly, Layer: LayerDisk, Weight: 0.75,
			Title:   "a filesystem is read-only",
			Support: []Sign{sign(diskcheck.CodeReadOnly, 1), sign(logscan.CodeKernelIOError, 0.5)},
			Next:    []string{"findmnt -o TARGET,OPTIONS {path}", "dmesg | tail -50"},
		},
		{
			ID: DiskDeletedOpenFiles, Layer: LayerDisk, Weight: 0.6,
			Title:   "deleted files still held open take space",
			Support: []Sign{sign(diskcheck.CodeDeletedOpen, 1)},
			Next:    []string{"lsof -nP +L1"},
		},

		// connections.
		{
			ID: ConnFDExhaustion, Layer: LayerProcess, Weight: 0.75,
			Title:   "the service runs out of file descriptors",
			Support: []Sign{sign(process.CodeFDsNearLimit, 1), sign(logscan.CodeTooManyOpenFiles, 1)},
			Next:    []string{"ls /proc/{pid}/fd | wc -l", "grep 'open files' /proc/{pid}/limits"},
		},
		{
			ID: ConnTimeWaitExcess, Layer: LayerNetwork, Weight: 0.6,
			Title:   "short-lived connections pile up in TIME-WAIT: no keep-alive or pooling",
			Support: []Sign{sign(sockstat.CodeTimeWaitExcess, 1), sign(probe.CodeTCPPortsExhausted, 0.8), sign(sockstat.CodeEphemeralPortsLow, 0.6)},
			Next:    []string{"ss -s", "ss -ant state time-wait | awk '{print $4}' | sort | uniq -c | sort -n | tail"},
		},
		{
			ID: ConnCloseWaitLeak, Layer: LayerProcess, Weight: 0.65,
			Title:   "connections pile up in CLOSE-WAIT: the application does not close what its peers closed",
			Support: []Sign{sign(sockstat.CodeCloseWaitLeak, 1)},
			Next:    []string{"ss -tnp state close-wait 'sport = :{port}'", "ls /proc/{pid}/fd | wc -l"},
		},
		{
			ID: ConnPortsExhausted, Layer: LayerNetwork, Weight: 0.8,
			Title:    "ephemeral ports are used up: new outgoing connections fail with EADDRNOTAVAIL",
			Support:  []Sign{sign(probe.CodeTCPPortsExhausted, 1), dep(probe.CodeTCPPortsExhausted, 1), sign(sockstat.CodeEphemeralPortsLow, 0.7)},
			Explains: []ID{ConnTimeWaitExcess},
			Next:     []string{"sysctl net.ipv4.ip_local_port_range", "ss -s", "ss -tan state time-wait | wc -l"},
		},
		{
			ID: ConnConntrackFull, Layer: LayerNetwork, Weight: 0.85,
			Title:   "the kernel drops packets: its connection-tracking table is full",
			Support: []Sign{sign(sockstat.CodeConntrackFull, 1), sign(logscan.CodeKernelConntrackFull, 1)},
			// The dropped SYNs are what a packet drop or a slow connect
			// saw; the full table says why.
			Explains: []ID{TimeoutPacketDrop, SlowConnect},
			Next:     []string{"sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max", "dmesg -T | grep -i conntrack"},
		},
		{
			ID: ConnSynSentBacklog, Layer: LayerNetwork, Weight: 0.6,
			Title:   "connections wait in SYN-SENT: the peer does not answer or the network drops",
			Support: []Sign{sign(sockstat.CodeSynSentBacklog, 1)},
			Next:    []string{"ss -ant state syn-sent"},
		},

		// resources.
		{
			ID: ResourceOOMKilled, Layer: LayerResources, Weight: 0.75,
			Title:   "processes are killed for lack of memory",
			Support: []Sign{sign(host.CodeOOMKills, 1), sign(logscan.CodeKernelOOMKill, 1), sign(logscan.CodeOutOfMemory, 0.8)},
			Next:    []string{"dmesg -T | grep -i 'killed process'", "journalctl -k -g oom --no-pager"},
		},
		{
			// One thread at a full core is a loop, not load: name it and
			// dump its stack with the tool of its runtime.
			ID: ResourceThreadSpin, Layer: LayerProcess, Weight: 0.7,
			Title:   "one thread of the service spins at a full core",
			Support: []Sign{sign(process.CodeThreadHot, 1)},
			Next: []string{"top -H -p {pid}", "cat /proc/{pid}/task/{tid}/stack",
				"gdb -p {pid} -batch -ex 'thread apply all bt'", "jstack {pid}   # Java", "py-spy dump --pid {pid}   # Python",
				"kill -QUIT {pid}   # Go: prints every goroutine's stack, and exits"},
		},
		{
			// The service's own pages coming back from swap are the latency;
			// the host swapping is the same seen from afar. It is the more
			// precise form of resource.memory_pressure ("memory is short"),
			// as a full disk is of an application error: that one stays
			// in the list, lowered, to say which limit pushed the pages out.
			ID: ResourceSwapping, Layer: LayerResources, Weight: 0.65,
			Title:    "memory pages go to swap and come back from disk, and latency jumps",
			Support:  []Sign{sign(process.CodeSwapping, 1), sign(host.CodeSwapping, 0.8)},
			Explains: []ID{ResourceMemoryPressure},
			Next: []string{"vmstat 1 5", "grep -e VmSwap -e Name /proc/{pid}/status", "ps -o pid,maj_flt,rss,cmd -p {pid}",
				"cat /sys/fs/cgroup/{cgroup}/memory.max /sys/fs/cgroup/{cgroup}/memory.swap.current", "free -h"},
		},
		{
			// The quota caps the service whatever else the host runs: the
			// cause of its own to fix, before the host's load.
			ID: ResourceCPUThrottled, Layer: LayerResources, Weight: 0.75,
			Title:    "the service's cgroup uses up its CPU quota and is throttled",
			Support:  []Sign{sign(host.CodeCgroupCPUThrottled, 1)},
			Explains: []ID{ResourceCPUSaturated},
			Next:     []string{"cat /sys/fs/cgroup/{cgroup}/cpu.max /sys/fs/cgroup/{cgroup}/cpu.stat"},
		},
		{
			ID: ResourceMemoryPressure, Layer: LayerResources, Weight: 0.6,
			Title: "memory is short: swapping or reclaim stalls",
			Support: []Sign{sign(host.CodeSwapping, 1), sign(host.CodeMemoryPressure, 0.9), sign(host.CodeMemoryLow, 0.8),
				sign(host.CodeCgroupMemoryNearLimit, 0.8)},
			Next: []string{"free -h", "vmstat 1 5", "cat /proc/pressure/memory"},
		},
		{
			ID: ResourceCPUSaturated, Layer: LayerResources, Weight: 0.6,
			Title: "the CPU is saturated",
			Support: []Sign{sign(host.CodeCPUSaturated, 1), sign(host.CodeCgroupCPUThrottled, 0.8), sign(host.CodeCPUPressure, 0.7),
				sign(process.CodeThreadHot, 0.5), sign(host.CodeLoadHigh, 0.5)},
			Next: []string{"top -b -n 1 | head -20", "top -H -p {pid}"},
		},
	}
}

// derive reads the symptom off the TCP and HTTP findings: an HTTP 5xx
// answer first, then a refused connection, then a timeout in any phase.
func derive(obs []observed, from []string) Symptom {
	var refused, timeout, tlsFailed, fourxx, slow bool
	for _, o := range obs {
		if !requestProbe(o, from) {
			continue
		}
		switch o.f.Code {
		case probe.CodeHTTPStatus5xx:
			return Status5xx
		case probe.CodeTCPRefused, probe.CodeTCPBlocked, probe.CodeTCPUnreachable:
			refused = true
		case probe.CodeTCPTimeout, probe.CodeTCPDNSTimeout, probe.CodeHTTPTLSTimeout, probe.CodeHTTPNoFirstByte, probe.CodeHTTPBodyStalled:
			timeout = true
		case probe.CodeHTTPTLSExpired, probe.CodeHTTPTLSNameMismatch, probe.CodeHTTPTLSUnknownAuthority:
			tlsFailed = true
		case probe.CodeHTTPStatus4xx, probe.CodeHTTPRateLimited:
			fourxx = true
		case probe.CodeHTTPSlow:
			slow = true
		case probe.CodeHTTPProxyFailed:
			// What the client saw from the proxy.
			switch o.f.Evidence.String(probe.KeyProxyFailure) {
			case "timeout", "dns":
				timeout = true
			case "status":
				if n, _ := o.f.Evidence.Int(probe.KeyHTTPStatus); n >= 500 {
					return Status5xx
				}
				fourxx = true
			default:
				refused = true
			}
		}
	}
	switch {
	case refused:
		return Refused
	case timeout:
		return Timeout
	case tlsFailed:
		return TLS
	case fourxx:
		return Status4xx
	case slow:
		return Slow
	}
	return None
}
