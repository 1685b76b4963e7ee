package main

import (
	"bufio"
	"net/netip"
	"strconv"

	"github.com/triagekit/triage/sockstat"
)

// The table is laid out like text/tabwriter with a padding of two: each
// column as wide as its widest cell, the last one not padded. It is
// written without fmt and without an allocation per socket: one pass
// measures the cells, a second appends each line into the output
// buffer's free space.

const pad = 2

var head = [...]string{"Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Process"}

// column indexes of the cells that are padded.
const (
	colNetid = iota
	colState
	colRecvQ
	colSendQ
	colLocal
	colPeer
	nPadded
)

// writeTable writes the sockets under a header, with their owners when
// procs is set and their tcp_info where they have it.
func writeTable(w *bufio.Writer, socks []sockstat.Socket, procs bool) error {
	var width [nPadded]int
	for i := range width {
		width[i] = len(head[i])
	}
	for i := range socks {
		s := &socks[i]
		width[colNetid] = max(width[colNetid], len(s.Proto.String()))
		width[colState] = max(width[colState], len(s.State.String()))
		width[colRecvQ] = max(width[colRecvQ], digits(uint64(s.RecvQ)))
		width[colSendQ] = max(width[colSendQ], digits(uint64(s.SendQ)))
		width[colLocal] = max(width[colLocal], addrPortLen(s.Local))
		width[colPeer] = max(width[colPeer], addrPortLen(peerOf(s)))
	}

	line := make([]byte, 0, 256)
	for i := range nPadded {
		line = cell(line, head[i], width[i], i < colPeer || procs)
	}
	if procs {
		line = append(line, head[colPeer+1]...)
	}
	line = append(line, '\n')
	if _, err := w.Write(line); err != nil {
		return err
	}
	for i := range socks {
		s := &socks[i]
		// Append straight into the buffer's free space when the line
		// fits, as most do, so that it is not copied once more.
		if w.Available() < 512 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		b := w.AvailableBuffer()
		b = cell(b, s.Proto.String(), width[colNetid], true)
		b = cell(b, s.State.String(), width[colState], true)
		n := len(b)
		b = strconv.AppendUint(b, uint64(s.RecvQ), 10)
		b = spaces(b, width[colRecvQ]-(len(b)-n)+pad)
		n = len(b)
		b = strconv.AppendUint(b, uint64(s.SendQ), 10)
		b = spaces(b, width[colSendQ]-(len(b)-n)+pad)
		n = len(b)
		b = s.Local.AppendTo(b)
		b = spaces(b, width[colLocal]-(len(b)-n)+pad)
		last := !procs && s.Info == nil
		if p := peerOf(s); p.IsValid() {
			n = len(b)
			b = p.AppendTo(b)
			if !last {
				b = spaces(b, width[colPeer]-(len(b)-n)+pad)
			}
		} else {
			b = cell(b, "*:*", width[colPeer], !last)
		}
		if procs {
			b = appendProcesses(b, s.Processes)
			if s.Info != nil {
				b = append(b, "  "...)
			}
		}
		if s.Info != nil {
			b = appendInfo(b, s.Info)
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// peerOf returns the peer as the table shows it: invalid for "*:*" (an
// unconnected socket).
func peerOf(s *sockstat.Socket) netip.AddrPort {
	if !s.Peer.IsValid() || s.Peer.Port() == 0 && s.Peer.Addr().IsUnspecified() {
		return netip.AddrPort{}
	}
	return s.Peer
}

// cell appends s, padded to width and the column gap when padded.
func cell(b []byte, s string, width int, padded bool) []byte {
	b = append(b, s...)
	if padded {
		b = spaces(b, width-len(s)+pad)
	}
	return b
}

const blanks = "                                                                "

func spaces(b []byte, n int) []byte {
	for n > len(blanks) {
		b = append(b, blanks...)
		n -= len(blanks)
	}
	return append(b, blanks[:max(n, 0)]...)
}

// digits returns how many decimal digits n has.
func digits(n uint64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// addrPortLen returns the length of p's text, "*:*" for an invalid one,
// without formatting IPv4 addresses.
func addrPortLen(p netip.AddrPort) int {
	if !p.IsValid() {
		return 3
	}
	a := p.Addr()
	if !a.Is4() {
		var buf [64]byte
		return len(p.AppendTo(buf[:0]))
	}
	n := 3 + 1 + digits(uint64(p.Port())) // dots, colon, port
	for _, o := range a.As4() {
		n += digits(uint64(o))
	}
	return n
}

// appendProcesses appends ("name",pid=N) for each owner, comma-separated.
func appendProcesses(b []byte, ps []sockstat.Process) []byte {
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '(')
		b = strconv.AppendQuote(b, p.Name)
		b = append(b, ",pid="...)
		b = strconv.AppendInt(b, int64(p.PID), 10)
		b = append(b, ')')
	}
	return b
}

// appendInfo appends "rtt:RTT/RTTVAR retrans:N/TOTAL", times in
// milliseconds as ss -i prints them.
func appendInfo(b []byte, ti *sockstat.TCPInfo) []byte {
	b = append(b, "rtt:"...)
	b = strconv.AppendFloat(b, float64(ti.RTT)/1e6, 'f', 3, 64)
	b = append(b, '/')
	b = strconv.AppendFloat(b, float64(ti.RTTVar)/1e6, 'f', 3, 64)
	b = append(b, " retrans:"...)
	b = strconv.AppendUint(b, uint64(ti.Retrans), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(ti.TotalRetrans), 10)
	return b
}
