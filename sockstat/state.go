package sockstat

import (
	"fmt"
	"strings"
)

// State is a socket state as the kernel numbers it (include/net/tcp_states.h).
// UDP sockets are Established when connected and Close otherwise.
type State uint8

// Socket states.
const (
	Established State = 1
	SynSent     State = 2
	SynRecv     State = 3
	FinWait1    State = 4
	FinWait2    State = 5
	TimeWait    State = 6
	Close       State = 7
	CloseWait   State = 8
	LastAck     State = 9
	Listen      State = 10
	Closing     State = 11
	// NewSynRecv is a request socket: a SYN answered, the handshake not
	// yet complete. ss shows it as SYN-RECV.
	NewSynRecv State = 12

	maxState = 13
)

// Names as ss prints them.
var stateNames = [maxState]string{
	Established: "ESTAB",
	SynSent:     "SYN-SENT",
	SynRecv:     "SYN-RECV",
	FinWait1:    "FIN-WAIT-1",
	FinWait2:    "FIN-WAIT-2",
	TimeWait:    "TIME-WAIT",
	Close:       "UNCONN",
	CloseWait:   "CLOSE-WAIT",
	LastAck:     "LAST-ACK",
	Listen:      "LISTEN",
	Closing:     "CLOSING",
	NewSynRecv:  "NEW-SYN-RECV",
}

// String returns the name ss prints: "ESTAB", "SYN-SENT", "TIME-WAIT", ...
func (s State) String() string {
	if s > 0 && s < maxState {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// MarshalText encodes the state as its ss name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText accepts the ss names, case-insensitively, and the common
// spellings ("established", "time_wait", "syn-sent", "close").
func (s *State) UnmarshalText(b []byte) error {
	n := strings.ToUpper(strings.ReplaceAll(string(b), "_", "-"))
	switch n {
	case "ESTABLISHED":
		*s = Established
		return nil
	case "CLOSE", "CLOSED":
		*s = Close
		return nil
	case "SYN-RECEIVED":
		*s = SynRecv
		return nil
	}
	for i, name := range stateNames {
		if name != "" && name == n {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("sockstat: unknown state %q", b)
}

// stateMask is the kernel's idiag_states bit set.
type stateMask uint32

const allStates stateMask = 1<<maxState - 2 // bits 1..12

func maskOf(states []State) stateMask {
	if len(states) == 0 {
		return allStates
	}
	var m stateMask
	for _, s := range states {
		m |= 1 << s
		if s == SynRecv {
			m |= 1 << NewSynRecv
		}
	}
	return m
}

func (m stateMask) has(s State) bool { return m&(1<<s) != 0 }

// Protocol selects transport protocols; values combine with |.
type Protocol uint8

// Protocols.
const (
	TCP Protocol = 1 << iota
	UDP
)

// String returns "tcp", "udp" or "tcp|udp".
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case TCP | UDP:
		return "tcp|udp"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// MarshalText encodes the protocol as its name.
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText accepts "tcp", "udp" and "tcp|udp", case-insensitively.
func (p *Protocol) UnmarshalText(b []byte) error {
	var v Protocol
	for _, part := range strings.Split(strings.ToLower(string(b)), "|") {
		switch part {
		case "tcp":
			v |= TCP
		case "udp":
			v |= UDP
		default:
			return fmt.Errorf("sockstat: unknown protocol %q", b)
		}
	}
	*p = v
	return nil
}
