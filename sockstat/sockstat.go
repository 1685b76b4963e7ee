package sockstat

import (
	"errors"
	"time"

	"github.com/triagekit/triage"
)

// Finding codes. Evidence keys are listed with each: port, addr, pid and
// process are [triage.KeyPort], [triage.KeyAddr], [triage.KeyPID] and
// [triage.KeyProcess] (the owner's name, when Options.Owners is set and
// the owner was found); the others are this package's own. Durations are
// nanoseconds under keys ending in "_ns".
const (
	// CodeListening (OK): something listens on the asked port and address.
	// Evidence: port, addr (the listen address), pid, process, queue,
	// backlog.
	CodeListening triage.Code = "sockstat.listening"
	// CodeNoListener (Fail): nothing listens on the asked port on any
	// address. Evidence: port, proto ("tcp" or "udp").
	CodeNoListener triage.Code = "sockstat.no_listener"
	// CodeWrongAddress (Fail): the port is listened to, but on other
	// addresses than the one asked (127.0.0.1 only while 10.0.0.5 was
	// asked). Evidence: port, addr (asked), listen_addr (the first of the
	// listeners), pid, process.
	CodeWrongAddress triage.Code = "sockstat.wrong_address"
	// CodeAcceptQueueFull (Fail): a listener's accept queue is at its
	// backlog, so new connections wait or are dropped. Evidence: port,
	// addr, queue, backlog, pid, process.
	CodeAcceptQueueFull triage.Code = "sockstat.accept_queue_full"
	// CodeListenOverflows (Warn): TcpExt ListenOverflows or ListenDrops grew
	// during the sample window. Evidence: overflows, drops, window_ns.
	CodeListenOverflows triage.Code = "sockstat.listen_overflows"
	// CodeSynSentBacklog (Warn): many connections towards one peer are
	// stuck in SYN-SENT: the peer or the network drops SYNs. Evidence:
	// peer (its address), count.
	CodeSynSentBacklog triage.Code = "sockstat.syn_sent_backlog"
	// CodeTimeWaitExcess (Warn): TIME-WAIT sockets above the threshold:
	// short connections without keep-alive or pooling. Evidence: count,
	// peer (the top one), peer_count.
	CodeTimeWaitExcess triage.Code = "sockstat.time_wait_excess"
	// CodeCloseWaitLeak (Warn): sockets the peer closed but the application
	// did not, piling up on one local port: the application leaks
	// sockets. Evidence: port, count.
	CodeCloseWaitLeak triage.Code = "sockstat.close_wait_leak"
	// CodeEphemeralPortsLow (Warn, Fail above 95%): connections towards one
	// destination use most of net.ipv4.ip_local_port_range. Evidence:
	// peer (address and port), used, range, used_pct.
	CodeEphemeralPortsLow triage.Code = "sockstat.ephemeral_ports_low"
	// CodeRetransmitsHigh (Warn): retransmitted segments over sent
	// segments during the sample window above the threshold. Evidence:
	// retrans, out, retrans_pct, timeouts, window_ns.
	CodeRetransmitsHigh triage.Code = "sockstat.retransmits_high"
	// CodeResetsHigh (Warn): connections reset (Tcp EstabResets) and
	// connection attempts failed (Tcp AttemptFails: refused, or reset
	// while opening) at Thresholds.ResetsPerSec or more during the sample
	// window, as sar -n ETCP shows. Evidence: estab_resets, attempt_fails,
	// per_sec, window_ns.
	CodeResetsHigh triage.Code = "sockstat.resets_high"
	// CodeConntrackFull (Fail): the kernel's connection-tracking table is
	// at its limit, or dropped new connections during the sample window;
	// Warn at 90% of its limit. The size is judged without a sample
	// window too (drops are then 0: not counted). The table and
	// the counters are the namespace's own, so this is about the
	// namespace checked, unlike the kernel log's "table full" line.
	// Evidence: drops, entries, max, window_ns.
	CodeConntrackFull triage.Code = "sockstat.conntrack_full"
)

// Errors the package returns, wrapped, in Result.Err or from [Sockets]
// and [Summary].
var (
	// ErrDumpInterrupted means the kernel kept flagging the dump as
	// inconsistent (NLM_F_DUMP_INTR) after retries: the socket table
	// changed under it. Counts are from the last attempt.
	ErrDumpInterrupted = errors.New("sockstat: socket dump interrupted")
)

// DefaultSample is how long [Check] watches the kernel counters when
// Options.Sample is zero: as long as the host probe's window, so that the
// whole routine stays well under a second.
const DefaultSample = 250 * time.Millisecond
