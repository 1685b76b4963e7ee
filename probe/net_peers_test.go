package probe

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// silentServer accepts connections, reads what comes and never answers.
// It closes everything when the test ends.
func silentServer(t *testing.T, network, address string) string {
	t.Helper()
	ln, err := net.Listen(network, address)
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = c.Read(make([]byte, 4096)) }()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// rawServer accepts connections and hands each to handle on a goroutine
// of its own; it waits for them when the test ends.
func rawServer(t *testing.T, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { handle(c.(*net.TCPConn)) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dnsServer answers every query on loopback UDP with rcode, or never
// answers when rcode is negative. It returns a resolver that asks only
// it.
func dnsServer(t *testing.T, rcode int) *net.Resolver {
	t.Helper()
	return dnsServe(t, func(string, uint16) (int, []netip.Addr) { return rcode, nil })
}

// dnsZone answers A and AAAA queries for the names of zone (fully
// qualified, lowercase) with the addresses of that family, NOERROR with
// no answer for other types, and NXDOMAIN for other names. It returns a
// resolver that asks only it.
func dnsZone(t *testing.T, zone map[string][]netip.Addr) *net.Resolver {
	t.Helper()
	return dnsServe(t, func(name string, qtype uint16) (int, []netip.Addr) {
		addrs, ok := zone[name]
		if !ok {
			return 3, nil
		}
		var out []netip.Addr
		for _, a := range addrs {
			if (qtype == dnsTypeA && a.Is4()) || (qtype == dnsTypeAAAA && a.Is6()) {
				out = append(out, a)
			}
		}
		return 0, out
	})
}

const (
	dnsTypeA    = 1
	dnsTypeAAAA = 28
)

// dnsServe answers queries on loopback UDP with what answer says for the
// first question's name (lowercase, with the final dot) and type: an
// rcode and the addresses to put in the answer section as A or AAAA
// records. A negative rcode leaves the query unanswered. It returns a
// resolver that asks only it.
func dnsServe(t *testing.T, answer func(name string, qtype uint16) (rcode int, addrs []netip.Addr)) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			msg := append([]byte(nil), buf[:n]...)
			end := questionEnd(msg)
			if end < 0 {
				continue
			}
			rcode, addrs := answer(questionName(msg), binary.BigEndian.Uint16(msg[end-4:end-2]))
			if rcode < 0 {
				continue
			}
			flags := binary.BigEndian.Uint16(msg[2:4])
			// QR, keep opcode and RD, RA, the rcode.
			flags = 0x8000 | flags&0x7900 | 0x0080 | uint16(rcode)
			binary.BigEndian.PutUint16(msg[2:4], flags)
			binary.BigEndian.PutUint16(msg[4:6], 1) // QDCOUNT: the first question
			binary.BigEndian.PutUint16(msg[6:8], uint16(len(addrs)))
			binary.BigEndian.PutUint16(msg[8:10], 0) // NSCOUNT
			// Drop the additional section (EDNS) along with its count.
			binary.BigEndian.PutUint16(msg[10:12], 0)
			msg = msg[:end]
			for _, a := range addrs {
				typ, rdata := uint16(dnsTypeA), a.AsSlice()
				if a.Is6() {
					typ = dnsTypeAAAA
				}
				// Name: a pointer to the question's; class IN, TTL 60.
				msg = binary.BigEndian.AppendUint16(msg, 0xc00c)
				msg = binary.BigEndian.AppendUint16(msg, typ)
				msg = binary.BigEndian.AppendUint16(msg, 1)
				msg = binary.BigEndian.AppendUint32(msg, 60)
				msg = binary.BigEndian.AppendUint16(msg, uint16(len(rdata)))
				msg = append(msg, rdata...)
			}
			_, _ = pc.WriteTo(msg, from)
		}
	}()
	// The resolver may leave a query goroutine reading until its
	// deadline after the lookup returned; closing its sockets ends it.
	var mu sync.Mutex
	var clients []net.Conn
	t.Cleanup(func() {
		_ = pc.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range clients {
			_ = c.Close()
		}
	})
	addr := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "udp", addr)
			if err == nil {
				mu.Lock()
				clients = append(clients, c)
				mu.Unlock()
			}
			return c, err
		},
	}
}

// questionName returns the first question's name, lowercase with the
// final dot; msg must have passed questionEnd.
func questionName(msg []byte) string {
	var b strings.Builder
	for i := 12; msg[i] != 0; i += 1 + int(msg[i]) {
		b.Write(msg[i+1 : i+1+int(msg[i])])
		b.WriteByte('.')
	}
	return strings.ToLower(b.String())
}

// questionEnd returns the offset after the first question, -1 if the
// message is malformed.
func questionEnd(msg []byte) int {
	i := 12
	for i < len(msg) {
		l := int(msg[i])
		if l == 0 {
			i++
			if i+4 > len(msg) {
				return -1
			}
			return i + 4
		}
		if l&0xc0 != 0 {
			return -1
		}
		i += 1 + l
	}
	return -1
}

// ipv6Loopback skips the test when ::1 cannot be used.
func ipv6Loopback(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	_ = ln.Close()
}

// within asserts fn returns before the deadline plus a generous slack.
func within(t *testing.T, deadline time.Duration, fn func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	fn(ctx)
	took := time.Since(start)
	if took > deadline+time.Second {
		t.Errorf("returned after %s, deadline was %s", took, deadline)
	}
}
