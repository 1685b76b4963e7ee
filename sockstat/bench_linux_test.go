//go:build linux

package sockstat

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	gnet "github.com/shirou/gopsutil/v4/net"
)

// The Rig benchmarks measure against ~100k sockets made by
// testdata/rig.sh, which runs this test binary inside a namespace of its
// own with TRIAGE_BENCH_RIG=1. Without it they skip: building the rig
// takes a minute and most of the machine.

const rigEnv = "TRIAGE_BENCH_RIG"

func rigOnly(b *testing.B) {
	if os.Getenv(rigEnv) != "1" {
		b.Skip("set up by testdata/rig.sh (TRIAGE_BENCH_RIG=1)")
	}
	b.ReportAllocs()
}

func BenchmarkRigSummarize(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	var s Summary
	for b.Loop() {
		var err error
		if s, err = Summarize(ctx, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.Total), "sockets")
}

// BenchmarkRigSummarizeListeners counts the listeners and reads the
// kernel's totals: what ss -s tells, without a walk of the connections.
func BenchmarkRigSummarizeListeners(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	for b.Loop() {
		s, err := Summarize(ctx, Options{States: []State{Listen}})
		if err != nil {
			b.Fatal(err)
		}
		if s.Totals == nil {
			b.Fatal("no kernel totals")
		}
	}
}

func BenchmarkRigSockets(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		l, err := Sockets(ctx, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(l.Sockets)
	}
	b.ReportMetric(float64(n), "sockets")
}

// BenchmarkRigCountAll counts states from a full dump without keeping the
// sockets: the floor of what any dump-based histogram costs.
func BenchmarkRigCountAll(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	c, err := Options{}.config()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rd, err := newReader(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		var counts [maxState]int
		reqs := []diagRequest{{family: afInet, protocol: protoTCP, states: allStates}, {family: afInet6, protocol: protoTCP, states: allStates}}
		if err := rd.dump(ctx, reqs, func() { counts = [maxState]int{} }, func(m *diagMsg) { counts[m.state%maxState]++ }); err != nil {
			b.Fatal(err)
		}
		rd.close()
	}
}

func BenchmarkRigListenersWithOwners(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	for b.Loop() {
		l, err := Sockets(ctx, Options{States: []State{Listen}, Owners: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Sockets) == 0 || len(l.Sockets[0].Processes) == 0 {
			b.Fatal("no listener owners found")
		}
	}
}

func BenchmarkRigCheck(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	for b.Loop() {
		r := Check(ctx, Options{Sample: -1, Owners: true})
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkRigProcNet parses /proc/net/tcp and tcp6 (the fallback path).
func BenchmarkRigProcNet(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	c, err := Options{}.config()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rd, err := newReader(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		rd.(*linuxReader).src = Source{Name: "proc"}
		var counts [maxState]int
		reqs := []diagRequest{{family: afInet, protocol: protoTCP, states: allStates}, {family: afInet6, protocol: protoTCP, states: allStates}}
		if err := rd.dump(ctx, reqs, func() {}, func(m *diagMsg) { counts[m.state%maxState]++ }); err != nil {
			b.Fatal(err)
		}
		rd.close()
	}
}

func BenchmarkRigGopsutilConnections(b *testing.B) {
	rigOnly(b)
	ctx := context.Background()
	for b.Loop() {
		cs, err := gnet.ConnectionsWithContext(ctx, "tcp")
		if err != nil {
			b.Fatal(err)
		}
		counts := map[string]int{}
		for _, c := range cs {
			counts[c.Status]++
		}
	}
}

func benchCommand(b *testing.B, name string, args ...string) {
	rigOnly(b)
	for b.Loop() {
		cmd := exec.Command(name, args...)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRigSSant(b *testing.B)  { benchCommand(b, "ss", "-ant") }
func BenchmarkRigSSlntp(b *testing.B) { benchCommand(b, "ss", "-lntp") }
func BenchmarkRigSSs(b *testing.B)    { benchCommand(b, "ss", "-s") }

const (
	holderEnv    = "TRIAGE_RIG_HOLD"
	holderUDPEnv = "TRIAGE_RIG_UDP"
)

// TestRigHolder is a child of testdata/rig.sh and bench/compare.sh: it
// holds TRIAGE_RIG_HOLD loopback connections (both ends, so twice as many
// sockets) and TRIAGE_RIG_UDP bound UDP sockets until killed or half an
// hour passes, long enough for every comparison of a run. Skipped in
// ordinary runs.
func TestRigHolder(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(holderEnv))
	if n <= 0 {
		t.Skip("a child of testdata/rig.sh only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []io.Closer
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("after %d connections: %v", i, err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c, s)
	}
	udp, _ := strconv.Atoi(os.Getenv(holderUDPEnv))
	for i := 0; i < udp; i++ {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("after %d UDP sockets: %v", i, err)
		}
		conns = append(conns, c)
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "ready %d\n", len(conns))
	w.Flush()
	time.Sleep(30 * time.Minute)
	for _, c := range conns {
		c.Close()
	}
	ln.Close()
}
