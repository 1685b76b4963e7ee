package sockstat

import (
	"context"
	"net/netip"
)

// reader is where sockets and /proc files come from: netlink and the
// namespace's /proc on Linux, nothing elsewhere.
type reader interface {
	// dump runs the requests and calls fn for every socket. reset is
	// called before a dump is retried, so fn's tallies start over.
	dump(ctx context.Context, reqs []diagRequest, reset func(), fn func(*diagMsg)) error
	// readFile reads a file under the namespace's /proc ("net/snmp").
	readFile(name string) ([]byte, error)
	// localAddrs returns the addresses of the namespace's interfaces,
	// without zones; nil when they cannot be known (a /proc read from
	// files only).
	localAddrs() map[netip.Addr]bool
	source() Source
	close()
}
