package sockstat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/triagekit/triage"
)

// Peer is a remote end a process talks to: its dependencies (a database,
// an API) or, for a proxy, its upstreams.
type Peer struct {
	// Addr is the remote address and port.
	Addr netip.AddrPort `json:"addr"`
	// States counts the process's connections to it by state.
	States map[State]int `json:"states"`
	// Count is how many connections in all.
	Count int `json:"count"`
	// SendQ is the bytes sent to it and not yet acknowledged, summed
	// over the connections: a peer that does not read piles them up.
	SendQ uint64 `json:"send_q"`
}

// maxPeerFDs bounds the descriptors Peers reads of one process.
const maxPeerFDs = 1 << 16

// Peers returns what process pid talks to over TCP, like `ss -tnp` with
// the process's outgoing connections kept: the remote ends of the
// sockets it owns whose local port is none of the ports it listens on,
// grouped by remote address and port, most connections first. A proxy's
// are its upstreams; a service's, its dependencies.
//
// o selects the network namespace (NetNS, ProcRoot) as for [Check]; its
// port, peer, target and state selections are not used. The process's
// descriptors are read from ProcRoot/<pid>/fd: without the right to read
// them the error matches os.ErrPermission.
func Peers(ctx context.Context, o Options, pid int) ([]Peer, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("%w: pid %d", triage.ErrInvalid, pid)
	}
	root := cmp.Or(o.ProcRoot, "/proc")
	inodes, err := socketInodes(filepath.Join(root, strconv.Itoa(pid), "fd"))
	if err != nil {
		return nil, err
	}
	if len(inodes) == 0 {
		return []Peer{}, nil
	}
	list, err := Sockets(ctx, Options{NetNS: o.NetNS, ProcRoot: o.ProcRoot, Protocols: TCP,
		States: []State{Listen, Established, SynSent, CloseWait, FinWait1, FinWait2, LastAck, Closing}})
	if err != nil {
		return nil, err
	}
	listening := map[uint16]bool{}
	for _, s := range list.Sockets {
		if s.State == Listen && inodes[s.Inode] {
			listening[s.Local.Port()] = true
		}
	}
	byAddr := map[netip.AddrPort]*Peer{}
	for _, s := range list.Sockets {
		if s.State == Listen || !inodes[s.Inode] || listening[s.Local.Port()] {
			continue
		}
		a := netip.AddrPortFrom(s.Peer.Addr().Unmap(), s.Peer.Port())
		p := byAddr[a]
		if p == nil {
			p = &Peer{Addr: a, States: map[State]int{}}
			byAddr[a] = p
		}
		p.States[s.State]++
		p.Count++
		p.SendQ += uint64(s.SendQ)
	}
	out := make([]Peer, 0, len(byAddr))
	for _, p := range byAddr {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Peer) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), a.Addr.Compare(b.Addr))
	})
	return out, nil
}

// socketInodes reads the socket inodes among the descriptors in dir.
func socketInodes(dir string) (map[uint64]bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(maxPeerFDs)
	if err != nil && !errors.Is(err, io.EOF) && len(names) == 0 {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, n := range names {
		l, err := os.Readlink(filepath.Join(dir, n))
		if err != nil || !strings.HasPrefix(l, "socket:[") || !strings.HasSuffix(l, "]") {
			continue
		}
		if ino, err := strconv.ParseUint(l[len("socket:["):len(l)-1], 10, 64); err == nil {
			out[ino] = true
		}
	}
	return out, nil
}
