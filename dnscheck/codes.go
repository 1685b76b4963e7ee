package dnscheck

import "github.com/triagekit/triage"

// Finding codes. Each is emitted by [Check] or [Trace] as described; the
// evidence keys are listed with each.
const (
	// CodeResolved (OK): a type resolved to addresses or records. Emitted
	// once per type by Check (evidence name, type, addrs, servers) and
	// once by Trace for the final answer (name, type, addrs, steps).
	CodeResolved triage.Code = "dns.resolved"
	// CodeNXDomain (Fail): a server says the name does not exist.
	// Evidence name, type, server, rcode. In a trace, server is the
	// authoritative server that said so.
	CodeNXDomain triage.Code = "dns.nxdomain"
	// CodeServFail (Fail, or Warn when another server answered): a server
	// answered SERVFAIL. Evidence name, type, server, rcode.
	CodeServFail triage.Code = "dns.servfail"
	// CodeRefused (Fail, or Warn when another server answered): a server
	// answered REFUSED. Evidence name, type, server, rcode.
	CodeRefused triage.Code = "dns.refused"
	// CodeTimeout (Fail, or Warn when another server answered): a server
	// did not answer within the query timeout, over UDP nor without EDNS.
	// Evidence name, type, server, timeout. In a trace: every server of a
	// zone timed out (evidence zone, servers).
	CodeTimeout triage.Code = "dns.timeout"
	// CodeMismatch (Warn): servers that answered gave different answers
	// for the same name and type. Evidence name, type, answers (who said
	// what, "server=answer; ..."), servers (count).
	CodeMismatch triage.Code = "dns.mismatch"
	// CodeHostsOverride (Warn): the hosts file pins the name to addresses
	// DNS does not give. Evidence name, path, hosts_addrs, dns_addrs.
	CodeHostsOverride triage.Code = "dns.hosts_override"
	// CodeNoAAAA (OK, informational): the name has A records but no AAAA;
	// clients that need IPv6 cannot reach it. Evidence name, a_addrs.
	CodeNoAAAA triage.Code = "dns.no_aaaa"
	// CodeIPv6Unreachable (Fail): an address from the AAAA records does not
	// accept TCP connections on Options.Port. Evidence name, addr, port,
	// error, elapsed, ipv4_reachable (bool).
	CodeIPv6Unreachable triage.Code = "dns.ipv6_unreachable"
	// CodeTruncated (Fail): a UDP answer came back truncated and the TCP
	// retry failed, so clients get partial answers or none. Evidence name,
	// type, server, error.
	CodeTruncated triage.Code = "dns.truncated"
	// CodeSearchExpansion (Warn): a name that is not fully qualified costs
	// extra queries under the search list and ndots before the answer (or
	// no answer at all). Evidence name, ndots, dots, queries (lookups the
	// stub makes for one type), wasted (those that failed first),
	// answered_name.
	CodeSearchExpansion triage.Code = "dns.search_expansion"
	// CodeLameDelegation (Warn, or Fail when no server of the zone
	// answered properly): a server the parent delegates the zone to does
	// not answer for it with authority. Evidence zone, server, ns, reason.
	CodeLameDelegation triage.Code = "dns.lame_delegation"
	// CodeLoop (Fail): a trace came back to where it had been (a CNAME
	// chain that loops, referrals that go sideways or up, glue that needs
	// itself). Evidence name, type, chain.
	CodeLoop triage.Code = "dns.loop"
	// CodeTooDeep (Fail): a trace exceeded its bound on referrals or CNAME
	// hops. Evidence name, type, limit.
	CodeTooDeep triage.Code = "dns.too_deep"
	// CodeNoEDNS (Warn): a server ignored or rejected EDNS0 queries and
	// only answered without; large answers from it may be truncated.
	// Evidence server, name, type.
	CodeNoEDNS triage.Code = "dns.no_edns"
)

// CodeUnreachable (Fail, or Warn when another server answered): a server
// could not be asked at all (ICMP port unreachable, no route). Evidence
// name, type, servers, error.
const CodeUnreachable triage.Code = "dns.unreachable"
