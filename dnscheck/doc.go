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
// # Platforms
//
// The checks use only the network and files, so they run everywhere Go
// does; the defaults for ResolvConf and HostsFile are Unix paths.
package dnscheck
