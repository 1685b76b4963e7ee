// Package dnscheck reports where a name goes: what the application's
// resolver returns, what each nameserver says when asked directly, and how
// the name resolves from the root, like `dig A +short`, `dig AAAA +short`
// and `dig +trace`.
//
// "The server is fine but one client fails" is often DNS: an /etc/hosts
// entry that pins an old address, resolvers that disagree, a search list
// that turns one lookup into many under ndots:5, a AAAA record whose
// address does not answer. [Check] looks at all of these for one name;
// [Trace] walks the delegation from the root (or from root hints the
// caller gives) and reports each step.
//
// # What Check compares
//
// The application's view is the hosts file first, then the application's
// resolver (Go's net.Resolver), as "hosts: files dns" does. Every
// nameserver of resolv.conf and every server in Options.Servers is then
// asked directly for A and AAAA (or Options.Types), CNAME chains followed,
// and the answers compared: with each other (dns.mismatch), with the hosts
// file (dns.hosts_override) and with the application's view. For a name
// that is not fully qualified, the search list is walked under ndots as
// the stub resolver would, and the failed lookups before the answer are
// its cost (dns.search_expansion). With Options.Port, the addresses found
// are dialled to tell "works on IPv4, hangs on IPv6".
//
// # Failures are data
//
// NXDOMAIN, SERVFAIL, REFUSED and timeouts are findings in the result, not
// errors. A result's Err is set only when the check could not tell: bad
// input (wrapping [triage.ErrInvalid]), an unreadable resolv.conf or hosts
// file (wrapping os.ErrPermission and friends), or the context ending
// before any server could be asked.
//
// # Transport
//
// Direct queries carry EDNS0 with a 1232-byte buffer. A truncated UDP
// answer is asked again over TCP; a server that does not answer queries
// with EDNS, or answers them with FORMERR, is asked again without; a
// silent server becomes a timeout finding within the context's deadline.
//
// # Trace
//
// [Trace] starts at the root servers, or at TraceOptions.RootHints for a
// private root or a test; servers learnt from referrals and glue are asked
// on TraceOptions.Port. It never asks for recursion. Referrals must go
// down the tree; a server that refers up or sideways, refuses, or answers
// without authority is a lame delegation, and the next server of the zone
// is tried. Bounds on referrals, CNAME hops and nested lookups of
// nameserver addresses, a visited set, and a per-step timeout inside the
// context's deadline keep it finite.
//
// # Platforms
//
// The checks use only the network and files, so they run everywhere Go
// does; the defaults for ResolvConf and HostsFile are Unix paths.
package dnscheck
