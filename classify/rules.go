package classify

import (
	"log/slog"
	"slices"

	"github.com/triagekit/triage"
)

// Hypothesis ids. They are API: new ones are added, none is renamed.
const (
	RefusedNoProcess          ID = "refused.no_process"
	RefusedNotListening       ID = "refused.not_listening"
	RefusedWrongAddress       ID = "refused.wrong_address"
	RefusedFirewall           ID = "refused.firewall"
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
	DNSNXDomain               ID = "dns.nxdomain"
	DNSServFail               ID = "dns.servfail"
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
)

// Finding codes the default rules read. They are the constants the check
// packages export; classify names them here so that importing it does not
// pull in every check package. A test holds them equal.
const (
	hostCPUSaturated          triage.Code = "host.cpu_saturated"
	hostIOWaitHigh            triage.Code = "host.iowait_high"
	hostStealHigh             triage.Code = "host.steal_high"
	hostLoadHigh              triage.Code = "host.load_high"
	hostMemoryLow             triage.Code = "host.memory_low"
	hostSwapping              triage.Code = "host.swapping"
	hostCPUPressure           triage.Code = "host.cpu_pressure"
	hostMemoryPressure        triage.Code = "host.memory_pressure"
	hostIOPressure            triage.Code = "host.io_pressure"
	hostCgroupCPUThrottled    triage.Code = "host.cgroup_cpu_throttled"
	hostCgroupMemoryNearLimit triage.Code = "host.cgroup_memory_near_limit"
	hostOOMKills              triage.Code = "host.oom_kills"

	processRunning         triage.Code = "process.running"
	processNotFound        triage.Code = "process.not_found"
	processZombie          triage.Code = "process.zombie"
	processUninterruptible triage.Code = "process.uninterruptible"
	processFDsNearLimit    triage.Code = "process.fds_near_limit"
	processThreadHot       triage.Code = "process.thread_hot"

	tcpConnected      triage.Code = "tcp.connected"
	tcpRefused        triage.Code = "tcp.refused"
	tcpTimeout        triage.Code = "tcp.timeout"
	tcpBlocked        triage.Code = "tcp.blocked"
	tcpPortsExhausted triage.Code = "tcp.ports_exhausted"
	tcpDNSNotFound    triage.Code = "tcp.dns_not_found"
	tcpDNSTimeout     triage.Code = "tcp.dns_timeout"

	httpOK          triage.Code = "http.ok"
	httpStatus5xx   triage.Code = "http.status_5xx"
	httpTLSTimeout  triage.Code = "http.tls_timeout"
	httpNoFirstByte triage.Code = "http.no_first_byte"
	httpBodyStalled triage.Code = "http.body_stalled"

	dbPingTimeout   triage.Code = "db.ping_timeout"
	dbPoolExhausted triage.Code = "db.pool_exhausted"

	sockListening       triage.Code = "sockstat.listening"
	sockNoListener      triage.Code = "sockstat.no_listener"
	sockWrongAddress    triage.Code = "sockstat.wrong_address"
	sockAcceptQueueFull triage.Code = "sockstat.accept_queue_full"
	sockListenOverflows triage.Code = "sockstat.listen_overflows"
	sockSynSentBacklog  triage.Code = "sockstat.syn_sent_backlog"
	sockTimeWaitExcess  triage.Code = "sockstat.time_wait_excess"
	sockEphemeralLow    triage.Code = "sockstat.ephemeral_ports_low"

	dnsNXDomain        triage.Code = "dns.nxdomain"
	dnsServFail        triage.Code = "dns.servfail"
	dnsTimeout         triage.Code = "dns.timeout"
	dnsMismatch        triage.Code = "dns.mismatch"
	dnsHostsOverride   triage.Code = "dns.hosts_override"
	dnsIPv6Unreachable triage.Code = "dns.ipv6_unreachable"
	dnsSearchExpansion triage.Code = "dns.search_expansion"

	diskSpaceLow        triage.Code = "disk.space_low"
	diskFull            triage.Code = "disk.full"
	diskInodesLow       triage.Code = "disk.inodes_low"
	diskInodesExhausted triage.Code = "disk.inodes_exhausted"
	diskReadOnly        triage.Code = "disk.readonly"
	diskNotWritable     triage.Code = "disk.not_writable"
	diskFillingFast     triage.Code = "disk.filling_fast"
	diskDeletedOpen     triage.Code = "disk.deleted_open"

	logErrors            triage.Code = "log.errors"
	logTimeoutsNoStack   triage.Code = "log.timeouts_no_stack"
	logDependencyRefused triage.Code = "log.dependency_refused"
	logDependencyTimeout triage.Code = "log.dependency_timeout"
	logUpstreamRefused   triage.Code = "log.upstream_refused"
	logUpstreamTimeout   triage.Code = "log.upstream_timeout"
	logDiskFull          triage.Code = "log.disk_full"
	logTooManyOpenFiles  triage.Code = "log.too_many_open_files"
	logOutOfMemory       triage.Code = "log.out_of_memory"
	logPoolExhausted     triage.Code = "log.pool_exhausted"
	logDNSFailure        triage.Code = "log.dns_failure"
	logKernelOOMKill     triage.Code = "log.kernel_oom_kill"
	logKernelSYNFlood    triage.Code = "log.kernel_syn_flood"
	logKernelIOError     triage.Code = "log.kernel_io_error"
)

func sign(c triage.Code, w float64) Sign { return Sign{Code: c, Weight: w} }

// pinnedOK is an HTTP answer from an address the caller chose (curl
// --resolve): the server works when the name is bypassed, which speaks
// against the refused port being the server's fault.
var pinnedOK = Sign{Code: httpOK, Weight: 0.6, When: func(f triage.Finding) bool {
	v, ok := f.Evidence.Lookup("pinned")
	return ok && v.Kind() == slog.KindBool && v.Bool()
}}

// statusIn accepts findings whose "status" evidence is one of codes.
func statusIn(codes ...int64) func(triage.Finding) bool {
	return func(f triage.Finding) bool {
		n, ok := f.Evidence.Int("status")
		return ok && slices.Contains(codes, n)
	}
}

// DefaultRules returns a fresh copy of the rules Classify uses, in the
// order that breaks ties.
func DefaultRules() []Rule {
	refused := []Symptom{Refused}
	timeout := []Symptom{Timeout}
	fivexx := []Symptom{Status5xx}
	return []Rule{
		// refused: no process, port not open, wrong address, firewall.
		{
			ID: RefusedNoProcess, Symptoms: refused, Layer: LayerProcess, Weight: 0.95,
			Title:    "the service process is not running",
			Support:  []Sign{sign(processNotFound, 1), sign(processZombie, 0.8)},
			Against:  []Sign{sign(processRunning, 0.8), sign(sockListening, 0.6), pinnedOK},
			Explains: []ID{RefusedNotListening, RefusedFirewall, RefusedWrongAddress},
			Next:     []string{"ps aux | grep {process}", "systemctl status {unit}", "journalctl -u {unit} -n 200 --no-pager"},
		},
		{
			ID: RefusedWrongAddress, Symptoms: refused, Layer: LayerNetwork, Weight: 0.9,
			Title:    "the service listens, but on another address than the one dialled",
			Support:  []Sign{sign(sockWrongAddress, 1)},
			Against:  []Sign{sign(sockListening, 0.8)},
			Explains: []ID{RefusedNotListening, RefusedFirewall},
			Next:     []string{"ss -lntp 'sport = :{port}'", "lsof -iTCP:{port} -sTCP:LISTEN -nP"},
		},
		{
			ID: RefusedNotListening, Symptoms: refused, Layer: LayerProcess, Weight: 0.85,
			Title:    "nothing listens on the target port",
			Support:  []Sign{sign(sockNoListener, 1), sign(tcpRefused, 0.4)},
			Against:  []Sign{sign(sockListening, 0.9), pinnedOK},
			Explains: []ID{RefusedFirewall},
			Next:     []string{"ss -lntp 'sport = :{port}'", "lsof -iTCP:{port} -sTCP:LISTEN -nP"},
		},
		{
			ID: RefusedFirewall, Symptoms: refused, Layer: LayerNetwork, Weight: 0.8,
			Title:   "a firewall rejects the connection",
			Support: []Sign{sign(tcpBlocked, 1), {Code: sockListening, Weight: 0.85, OK: true}, sign(tcpRefused, 0.2)},
			Against: []Sign{sign(sockNoListener, 0.9), sign(sockWrongAddress, 0.9), pinnedOK},
			Next:    []string{"iptables -S", "nft list ruleset", "curl -v telnet://{host}:{port}"},
		},

		// timeout: drops, backlog, slow app, saturation, dependency, DNS.
		{
			ID: TimeoutBacklogFull, Symptoms: timeout, Layer: LayerProcess, Weight: 0.9,
			Title:    "the accept queue is full: the service cannot accept fast enough",
			Support:  []Sign{sign(sockAcceptQueueFull, 1), sign(sockListenOverflows, 0.8), sign(logKernelSYNFlood, 0.6)},
			Explains: []ID{TimeoutPacketDrop},
			Next:     []string{"ss -lnt 'sport = :{port}'", "nstat -az TcpExtListenOverflows TcpExtListenDrops"},
		},
		{
			ID: TimeoutDependency, Symptoms: timeout, Layer: LayerDependency, Weight: 0.85,
			Title: "a dependency is slow or its connection pool is exhausted",
			Support: []Sign{sign(dbPoolExhausted, 1), sign(dbPingTimeout, 1), sign(logDependencyTimeout, 0.9),
				sign(logPoolExhausted, 0.9), sign(logTimeoutsNoStack, 0.7)},
			Explains: []ID{TimeoutSlowApp},
			Next:     []string{"ss -antp 'dport = :{port}'"},
		},
		{
			ID: TimeoutPacketDrop, Symptoms: timeout, Layer: LayerNetwork, Weight: 0.8,
			Title:   "packets to the target are dropped: SYNs get no answer",
			Support: []Sign{sign(tcpTimeout, 0.7), sign(sockSynSentBacklog, 0.8)},
			Against: []Sign{sign(tcpConnected, 0.8), sign(sockAcceptQueueFull, 0.9)},
			Next:    []string{"ss -ant state syn-sent", "iptables -S", "traceroute -T -p {port} {host}"},
		},
		{
			ID: TimeoutResourceSaturation, Symptoms: timeout, Layer: LayerResources, Weight: 0.75,
			Title: "the host or the service is saturated",
			Support: []Sign{sign(hostCPUSaturated, 1), sign(hostSwapping, 0.9), sign(hostCPUPressure, 0.8),
				sign(hostMemoryPressure, 0.8), sign(hostCgroupCPUThrottled, 0.8), sign(hostMemoryLow, 0.7),
				sign(hostIOPressure, 0.7), sign(hostIOWaitHigh, 0.7), sign(hostStealHigh, 0.6), sign(hostLoadHigh, 0.6),
				sign(hostCgroupMemoryNearLimit, 0.6), sign(processThreadHot, 0.6), sign(processUninterruptible, 0.5)},
			Next: []string{"top -H -p {pid}", "vmstat 1 5", "cat /proc/pressure/cpu /proc/pressure/memory /proc/pressure/io"},
		},
		{
			ID: TimeoutSlowApp, Symptoms: timeout, Layer: LayerProcess, Weight: 0.7,
			Title:   "the service accepts connections but answers too slowly",
			Support: []Sign{sign(httpNoFirstByte, 0.9), sign(httpBodyStalled, 0.7)},
			Next:    []string{"curl -v -m 10 {url}", "top -H -p {pid}"},
		},
		{
			ID: TimeoutDNS, Symptoms: timeout, Layer: LayerDNS, Weight: 0.8,
			Title:   "name resolution times out",
			Support: []Sign{sign(tcpDNSTimeout, 1), sign(dnsTimeout, 1), sign(dnsSearchExpansion, 0.4)},
			Next:    []string{"dig {host} A +tries=1 +time=2", "cat /etc/resolv.conf"},
		},

		// 5xx: the proxy's upstream refuses or times out, the app fails, the disk is full.
		{
			ID: UpstreamRefused, Symptoms: fivexx, Layer: LayerDependency, Weight: 0.9,
			Title: "the proxy's upstream refuses connections",
			Support: []Sign{sign(logUpstreamRefused, 1), sign(logDependencyRefused, 0.6),
				{Code: httpStatus5xx, Weight: 0.5, When: statusIn(502)}},
			Against:  []Sign{{Code: httpStatus5xx, Weight: 0.5, When: statusIn(504)}},
			Explains: []ID{AppError},
			Next:     []string{"ss -lntp", "curl -v {url}"},
		},
		{
			ID: UpstreamTimeout, Symptoms: fivexx, Layer: LayerDependency, Weight: 0.9,
			Title: "the proxy's upstream does not answer in time",
			Support: []Sign{sign(logUpstreamTimeout, 1), sign(logDependencyTimeout, 0.5),
				{Code: httpStatus5xx, Weight: 0.5, When: statusIn(504)}},
			Against:  []Sign{{Code: httpStatus5xx, Weight: 0.5, When: statusIn(502)}},
			Explains: []ID{AppError},
			Next:     []string{"curl -v -m 10 {url}", "ss -antp state syn-sent"},
		},
		{
			ID: DiskFullWrites, Symptoms: fivexx, Layer: LayerDisk, Weight: 0.9,
			Title: "writes fail because the disk is full",
			Support: []Sign{sign(logDiskFull, 1), sign(diskFull, 0.7), sign(diskInodesExhausted, 0.7),
				sign(diskNotWritable, 0.7), sign(diskReadOnly, 0.5)},
			Explains: []ID{AppError},
			Next:     []string{"df -h {path}", "df -i {path}"},
		},
		{
			ID: AppError, Symptoms: fivexx, Layer: LayerProcess, Weight: 0.8,
			Title: "the application itself fails",
			Support: []Sign{sign(logErrors, 0.7),
				{Code: httpStatus5xx, Weight: 0.5, When: statusIn(500, 501, 503, 505)}},
			Next: []string{"journalctl -u {unit} -n 200 --no-pager", "curl -v {url}"},
		},

		// dns: no symptom needed.
		{
			ID: DNSNXDomain, Layer: LayerDNS, Weight: 0.85,
			Title:   "the name does not exist",
			Support: []Sign{sign(dnsNXDomain, 1), sign(tcpDNSNotFound, 0.8), sign(logDNSFailure, 0.5)},
			Next:    []string{"dig {name} A +short", "dig +trace {name}"},
		},
		{
			ID: DNSServFail, Layer: LayerDNS, Weight: 0.8,
			Title:   "the resolver fails to resolve the name",
			Support: []Sign{sign(dnsServFail, 1)},
			Next:    []string{"dig {name} A", "dig +trace {name}"},
		},
		{
			ID: DNSHostsOverride, Layer: LayerDNS, Weight: 0.75,
			Title:   "/etc/hosts overrides what DNS says",
			Support: []Sign{sign(dnsHostsOverride, 1)},
			Next:    []string{"getent hosts {name}", "grep -n {name} /etc/hosts"},
		},
		{
			ID: DNSMismatch, Layer: LayerDNS, Weight: 0.65,
			Title:   "resolvers disagree about the name",
			Support: []Sign{sign(dnsMismatch, 1)},
			Next:    []string{"dig {name} A +short", "dig +trace {name}"},
		},
		{
			ID: DNSIPv6Broken, Layer: LayerNetwork, Weight: 0.6,
			Title:   "the name has IPv6 addresses that cannot be reached",
			Support: []Sign{sign(dnsIPv6Unreachable, 1)},
			Next:    []string{"dig {name} AAAA +short", "curl -6 -v {url}"},
		},

		// disk.
		{
			ID: DiskFull, Layer: LayerDisk, Weight: 0.8,
			Title:   "a filesystem is full",
			Support: []Sign{sign(diskFull, 1), sign(logDiskFull, 0.7), sign(diskSpaceLow, 0.5), sign(diskFillingFast, 0.4)},
			Next:    []string{"df -h {path}", "du -xsh {path}/* | sort -h"},
		},
		{
			ID: DiskInodesExhausted, Layer: LayerDisk, Weight: 0.8,
			Title:   "a filesystem is out of inodes",
			Support: []Sign{sign(diskInodesExhausted, 1), sign(diskInodesLow, 0.5)},
			Next:    []string{"df -i {path}", "find {path} -xdev -type f | cut -d/ -f2-3 | sort | uniq -c | sort -n | tail"},
		},
		{
			ID: DiskReadOnly, Layer: LayerDisk, Weight: 0.75,
			Title:   "a filesystem is read-only",
			Support: []Sign{sign(diskReadOnly, 1), sign(logKernelIOError, 0.5)},
			Next:    []string{"findmnt -o TARGET,OPTIONS {path}", "dmesg | tail -50"},
		},
		{
			ID: DiskDeletedOpenFiles, Layer: LayerDisk, Weight: 0.6,
			Title:   "deleted files still held open take space",
			Support: []Sign{sign(diskDeletedOpen, 1)},
			Next:    []string{"lsof -nP +L1"},
		},

		// connections.
		{
			ID: ConnFDExhaustion, Layer: LayerProcess, Weight: 0.75,
			Title:   "the service runs out of file descriptors",
			Support: []Sign{sign(processFDsNearLimit, 1), sign(logTooManyOpenFiles, 1)},
			Next:    []string{"ls /proc/{pid}/fd | wc -l", "grep 'open files' /proc/{pid}/limits"},
		},
		{
			ID: ConnTimeWaitExcess, Layer: LayerNetwork, Weight: 0.6,
			Title:   "short-lived connections pile up in TIME-WAIT: no keep-alive or pooling",
			Support: []Sign{sign(sockTimeWaitExcess, 1), sign(tcpPortsExhausted, 0.8), sign(sockEphemeralLow, 0.6)},
			Next:    []string{"ss -s", "ss -ant state time-wait | awk '{print $4}' | sort | uniq -c | sort -n | tail"},
		},
		{
			ID: ConnSynSentBacklog, Layer: LayerNetwork, Weight: 0.6,
			Title:   "connections wait in SYN-SENT: the peer does not answer or the network drops",
			Support: []Sign{sign(sockSynSentBacklog, 1)},
			Next:    []string{"ss -ant state syn-sent"},
		},

		// resources.
		{
			ID: ResourceOOMKilled, Layer: LayerResources, Weight: 0.75,
			Title:   "processes are killed for lack of memory",
			Support: []Sign{sign(hostOOMKills, 1), sign(logKernelOOMKill, 1), sign(logOutOfMemory, 0.8)},
			Next:    []string{"dmesg -T | grep -i 'killed process'", "journalctl -k -g oom --no-pager"},
		},
		{
			ID: ResourceMemoryPressure, Layer: LayerResources, Weight: 0.6,
			Title: "memory is short: swapping or reclaim stalls",
			Support: []Sign{sign(hostSwapping, 1), sign(hostMemoryPressure, 0.9), sign(hostMemoryLow, 0.8),
				sign(hostCgroupMemoryNearLimit, 0.8)},
			Next: []string{"free -h", "vmstat 1 5", "cat /proc/pressure/memory"},
		},
		{
			ID: ResourceCPUSaturated, Layer: LayerResources, Weight: 0.6,
			Title: "the CPU is saturated",
			Support: []Sign{sign(hostCPUSaturated, 1), sign(hostCgroupCPUThrottled, 0.8), sign(hostCPUPressure, 0.7),
				sign(processThreadHot, 0.5), sign(hostLoadHigh, 0.5)},
			Next: []string{"top -b -n 1 | head -20", "top -H -p {pid}"},
		},
	}
}

// derive reads the symptom off the TCP and HTTP findings: an HTTP 5xx
// answer first, then a refused connection, then a timeout in any phase.
func derive(obs []observed, from []string) Symptom {
	var refused, timeout bool
	for _, o := range obs {
		if !requestProbe(o, from) {
			continue
		}
		switch o.f.Code {
		case httpStatus5xx:
			return Status5xx
		case tcpRefused, tcpBlocked:
			refused = true
		case tcpTimeout, tcpDNSTimeout, httpTLSTimeout, httpNoFirstByte, httpBodyStalled:
			timeout = true
		}
	}
	switch {
	case refused:
		return Refused
	case timeout:
		return Timeout
	}
	return None
}
