// Package sockstat reports what listens on this host, what the TCP
// connection states say and how full the queues are: the questions of
// `ss -lntp`, `ss -antp`, `ss -s` and `lsof -iTCP -sTCP:LISTEN`.
//
// [Check] answers them for a port, a peer or the whole host and turns the
// answers into findings: nothing listens on the asked port, the listener
// is bound to another address, the accept queue is at its backlog, SYNs go
// unanswered, TIME-WAIT or CLOSE-WAIT pile up, ephemeral ports run low,
// retransmissions or resets climb (sar -n ETCP), the connection-tracking
// table is full (conntrack -S). [Sockets] lists sockets like `ss -antp`;
// [Summarize] counts them per state.
//
// # Targets
//
// Options.Target takes what an operator named ([triage.ParseTarget]: a
// URL or host:port) and decides which question it asks: a target on this
// host (a loopback address, an address of one of the namespace's
// interfaces, a name that resolves to one) is a port to be listened to,
// on that address; any other is a peer, and the connections towards it
// are counted. Names resolve through Options.Resolver under the
// context's deadline. Result.Target reports the target with the address
// it stood for.
//
// # How it reads the kernel
//
// Sockets come from NETLINK_SOCK_DIAG inet_diag dumps with kernel-side
// state and port filters, so a question about listeners never walks the
// table of established connections. IPv4 and IPv6 TCP sockets are asked
// for in one request (TCPDIAG_GETSOCK), so the kernel walks its hash of
// connections once, not once per family. Dumps the kernel flags as
// inconsistent, or that lose messages to a full buffer, are retried; one
// that still fails is an error ([ErrDumpInterrupted]), never a short
// count. The state histogram takes the established
// count from /proc/net/snmp (CurrEstab) and dumps only the other states,
// so its memory does not grow with the number of established connections
// (the kernel still walks them to find the others); counting listeners
// alone reads only the kernel's table of listeners. Owning processes are found like `ss -p`, by socket inode in
// /proc/<pid>/fd, but only for the inodes asked about and stopping once
// all are found.
//
// Where sock_diag is not available (not built in, not allowed by a
// seccomp or LSM policy), sockets are read from /proc/net/tcp and
// /proc/net/tcp6 instead, and Result.Source and its Fallback say
// so: a fallback never reads as "no sockets".
//
// # Namespaces
//
// [Options.NetNS] names a network namespace file (/var/run/netns/NAME or
// /proc/PID/ns/net). The netlink socket is opened inside it and the
// namespace's /proc/net files are read on a thread switched into it.
//
// # Platforms
//
// Linux only. Elsewhere every function returns [triage.ErrUnsupported]
// and Check an Unknown result.
//
// # Privileges
//
// Listing sockets needs no privilege. Owners of sockets of other users
// need root or CAP_SYS_PTRACE (as with `ss -p`); entering a namespace
// needs CAP_SYS_ADMIN.
package sockstat
