package dnscheck

import "github.com/triagekit/triage"

// The kinds of check this package makes: the Check of their results.
const (
	KindCheck = "dnscheck"
	KindTrace = "dnscheck.trace"
)

// Evidence keys a classifier reads, beside the shared ones of the triage
// package: the name asked is under triage.KeyName, a hosts file under
// triage.KeyPath, a dialled address and port under triage.KeyAddr and
// triage.KeyPort. The other keys listed with the codes below are this
// package's own measurements; durations end in "_ns".
const (
	// KeyType is the query type ("A", "AAAA"); "A/AAAA" when a
	// [CodeMismatch] compares the application's resolver with DNS.
	KeyType = "type"
	// KeyRcode is the response code that servers answered ("NXDOMAIN",
	// "SERVFAIL", "REFUSED", "FORMERR" ...).
	KeyRcode = "rcode"
	// KeyView says whose answers a [CodeMismatch] finding compares:
	// ViewServers or ViewApplication.
	KeyView = "view"
	// KeyIPv4Reachable, in a [CodeIPv6Unreachable] finding, says whether
	// an IPv4 address of the name accepted the connection (a bool).
	KeyIPv4Reachable = "ipv4_reachable"
)

// Values of [KeyView].
const (
	// ViewServers: nameservers asked directly gave different answers.
	ViewServers = "servers"
	// ViewApplication: the application's resolver (hosts file and
	// net.Resolver) disagrees with the nameservers asked directly. This
	// is the disagreement the application feels.
	ViewApplication = "application"
)

// Finding codes. [Check] emits its per-server codes once per query type,
// listing the servers that said the same thing; their status is Fail,
// lowered to Warn when another server answered (the stub resolver moves
// on: slow, not broken) or when the application takes the name from the
// hosts file (it never asks DNS). [Trace] emits them for the zone where
// the walk stopped.
const (
	// CodeResolved (OK): a type resolved. Check: once per type, evidence
	// name, type, addrs (or record data), servers (how many answered with
	// data). Trace: the final answer, evidence name, type, addrs, steps.
	CodeResolved triage.Code = "dns.resolved"
	// CodeNXDomain (Fail; OK when the application's view answers the name
	// from the hosts file, where DNS not knowing it is normal; Warn when
	// another server answered): the name does not exist. Check: evidence name,
	// type, servers, rcode. Trace: evidence name, type, server, zone,
	// rcode (the authoritative server that said so).
	CodeNXDomain triage.Code = "dns.nxdomain"
	// CodeServFail (Fail or Warn): servers answered SERVFAIL, or another
	// error rcode (FORMERR, NOTIMP ...) named in the evidence. Evidence
	// name, type, servers, rcode.
	CodeServFail triage.Code = "dns.servfail"
	// CodeRefused (Fail or Warn): servers answered REFUSED. Evidence name,
	// type, servers, rcode.
	CodeRefused triage.Code = "dns.refused"
	// CodeTimeout (Fail or Warn): no answer within the query timeout, with
	// EDNS0 nor without. Check: evidence name, type, servers, rtt_ns (time
	// spent on the last try), timeout_ns, and for resolv.conf servers what
	// the stub resolver waits: stub_timeout_ns, attempts, rotate (bool).
	// Trace: servers of one zone did not answer, evidence zone, servers,
	// timeout_ns; Fail when none of the zone's servers answered.
	CodeTimeout triage.Code = "dns.timeout"
	// CodeMismatch (Warn): answers differ for the same name and type,
	// between servers asked directly (evidence name, type, view
	// ViewServers, answers as "server,server says data; server says
	// data", servers: how many responded) or between the application's
	// resolver and DNS (view ViewApplication, type "A/AAAA", answers
	// "application says ...; DNS says ...").
	CodeMismatch triage.Code = "dns.mismatch"
	// CodeHostsOverride (Warn): the hosts file gives the name other
	// addresses than DNS does, for a family both have. A name DNS does
	// not know at all (localhost, a host pinned only in the hosts file)
	// is no override: the hosts file is where it lives, and a server's
	// NXDOMAIN for it is then an OK finding. Evidence name, path (the
	// hosts file), hosts_addrs, dns_addrs.
	CodeHostsOverride triage.Code = "dns.hosts_override"
	// CodeNoAAAA (OK, informational): the name has A records and servers
	// answered AAAA with none; IPv6-only clients cannot reach it.
	// Evidence name, a_addrs.
	CodeNoAAAA triage.Code = "dns.no_aaaa"
	// CodeIPv6Unreachable (Fail): an address from the AAAA records does not
	// accept TCP connections on Options.Port. Evidence name, addr, port,
	// error, elapsed_ns, ipv4_reachable (whether an A address connected).
	CodeIPv6Unreachable triage.Code = "dns.ipv6_unreachable"
	// CodeTruncated (Fail, Warn only when the application uses the hosts
	// file): a UDP answer came back truncated and the TCP retry failed,
	// so clients get partial answers or none. Evidence name, type,
	// servers.
	CodeTruncated triage.Code = "dns.truncated"
	// CodeSearchExpansion (Warn): a name that is not fully qualified costs
	// failed lookups under the search list and ndots before the answer,
	// or none answers. Evidence name, ndots, dots, queries (lookups for
	// one type; the stub makes them for A and AAAA), wasted (those that
	// failed), wasted_time_ns (their round trips), answered_name.
	CodeSearchExpansion triage.Code = "dns.search_expansion"
	// CodeLameDelegation (Warn, or Fail when no server of the zone gave a
	// usable answer): a server the parent delegates the zone to does not
	// serve it: it refuses or fails, answers without authority and
	// without a referral, refers up or sideways, cannot be reached, or
	// its name has no address. Evidence zone, server, ns, reason.
	CodeLameDelegation triage.Code = "dns.lame_delegation"
	// CodeLoop (Fail): a trace came back to where it had been: a CNAME
	// chain that loops, a nameserver whose address needs itself to be
	// found, or a zone whose every server refers back up (with a lame
	// delegation finding for each). Evidence name, type, kind ("CNAME
	// chain", "nameserver lookup needs itself", "referral loop"), chain.
	CodeLoop triage.Code = "dns.loop"
	// CodeTooDeep (Fail): a trace exceeded a bound on referrals, CNAME hops
	// or nested nameserver lookups. Evidence name, type, bound, limit.
	CodeTooDeep triage.Code = "dns.too_deep"
	// CodeNoEDNS (Warn): servers did not answer queries with EDNS0 (or
	// answered FORMERR/NOTIMP) and only answered without; their large
	// answers get truncated. Evidence name, type, servers.
	CodeNoEDNS triage.Code = "dns.no_edns"
	// CodeUnreachable (Fail or Warn): servers could not be asked at all
	// (ICMP port unreachable, no route). Evidence name, type, servers,
	// error.
	CodeUnreachable triage.Code = "dns.unreachable"
)
