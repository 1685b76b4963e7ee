// Package container aims checks at the namespaces of a process: the
// routine as seen from inside a container, not from the host.
//
// [Open] holds the network and mount namespaces and the root directory of
// a process by PID; [OpenNetNS] holds a network namespace alone, by a
// file such as /var/run/netns/NAME. What it gives the checks:
//
//   - network: [Container.DialContext] satisfies probe.Dialer and
//     dnscheck's Dialer, so the request, the dependencies and the DNS
//     queries leave from inside the namespace (127.0.0.1 is the
//     container's own loopback); [Container.NetNSPath] is for
//     sockstat.Options.NetNS.
//   - mount: [Container.Open] opens a file by the path the container
//     uses (/etc/resolv.conf, /var/log/app.log, its journal files),
//     resolved inside its root so that a symbolic link can never lead out
//     of it; [Container.Root]
//     is the root for checks that read under a prefix.
//   - cgroup: [Container.PID] is for host.Options.CgroupPID.
//
// # Entering a namespace
//
// A namespace belongs to an OS thread, and Go moves goroutines between
// threads. [Container.Do] runs a function on a new goroutine locked to
// its own thread, which enters the namespaces and is never unlocked: when
// the function returns, the goroutine exits and the runtime ends the
// thread, so no other goroutine is ever scheduled in the namespace.
// Sockets made there keep their namespace wherever they are used, which
// is how DialContext hands a connection back. A function given to Do
// must not start goroutines that expect to run inside: they run on the
// caller's side.
//
// # Privileges
//
// Opening another user's namespaces needs CAP_SYS_PTRACE (or to own the
// process); entering a network namespace needs CAP_SYS_ADMIN, and a
// mount namespace CAP_SYS_ADMIN and CAP_SYS_CHROOT. Without them Open or
// Do return an error matching os.ErrPermission, and a check aimed this
// way reports Unknown with that error, never the host's view in the
// container's place. A process that exits is reported by [ErrGone].
// What each check needs when aimed at a container:
//
//	probe (Dialer: c), dnscheck (Dialer: c)     CAP_SYS_ADMIN: each dial enters the network namespace
//	sockstat (NetNS: c.NetNSPath())              CAP_SYS_ADMIN: netlink and /proc/net from inside
//	dnscheck files, logscan (Open: c.Open)       read access to /proc/PID/root (CAP_SYS_PTRACE for another user's);
//	                                             the journal also needs journalctl on this host
//	diskcheck (PID)                              the same, for /proc/PID/root and /proc/PID/mountinfo
//	process (PIDNamespaceOf)                     /proc/*/ns/pid, readable with CAP_SYS_PTRACE
//	host (CgroupPID)                             /proc/PID/cgroup and the cgroup's files, readable by anyone
//	Compare                                      all of the network and file rows
//
// # Cost
//
// Each DialContext and Do starts a thread and ends it: a connection made
// inside costs about 0.14 ms more than one made here (see BENCHMARKS.md),
// which a diagnosis that makes a handful does not feel.
package container
