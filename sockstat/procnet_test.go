package sockstat

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProcNetLine(t *testing.T) {
	tests := []struct {
		name    string
		family  uint8
		line    string
		want    diagMsg
		wantErr bool
	}{
		{
			name:   "ipv4 listener with a queue",
			family: afInet,
			line:   "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000081 00:00000000 00000000  1000        0 5001 1 0000000000000000 100 0 0 10 0",
			want: diagMsg{family: afInet, state: Listen, local: netip.MustParseAddrPort("127.0.0.1:8080"),
				peer: netip.MustParseAddrPort("0.0.0.0:0"), rqueue: 129, uid: 1000, inode: 5001, v6only: -1},
		},
		{
			name:   "ipv4 syn-sent with a retransmit timer",
			family: afInet,
			line:   "   2: 0500000A:9C40 0900000A:1538 02 00000001:00000000 01:00000064 00000002  1000        0 6000 1 0000000000000000 100 0 0 10 0",
			want: diagMsg{family: afInet, state: SynSent, local: netip.MustParseAddrPort("10.0.0.5:40000"),
				peer: netip.MustParseAddrPort("10.0.0.9:5432"), wqueue: 1, timer: 1, expires: 1000, retrans: 2, uid: 1000, inode: 6000, v6only: -1},
		},
		{
			name:   "ipv6 loopback",
			family: afInet6,
			line:   "   1: 00000000000000000000000001000000:2328 00000000000000000000000001000000:C738 01 00000000:00000000 00:00000000 00000000  1000        0 8100 1 0000000000000000 100 0 0 10 0",
			want: diagMsg{family: afInet6, state: Established, local: netip.MustParseAddrPort("[::1]:9000"),
				peer: netip.MustParseAddrPort("[::1]:51000"), uid: 1000, inode: 8100, v6only: -1},
		},
		{name: "too few fields", family: afInet, line: "0: 0100007F:1F90 00000000:0000 0A", wantErr: true},
		{name: "bad hex", family: afInet, line: "0: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1", wantErr: true},
		{name: "ipv6 address in tcp", family: afInet, line: "1: 00000000000000000000000001000000:2328 00000000:0000 01 00000000:00000000 00:00000000 00000000 0 0 1", wantErr: true},
		{name: "port too large", family: afInet, line: "0: 0100007F:11F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1", wantErr: true},
		{name: "missing queue colon", family: afInet, line: "0: 0100007F:1F90 00000000:0000 0A 0000000000000000 00:00000000 00000000 0 0 1", wantErr: true},
		{name: "bad uid", family: afInet, line: "0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 x 0 1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m diagMsg
			err := parseProcNetLine([]byte(tt.line), tt.family, &m)
			if tt.wantErr {
				assert.ErrorIs(t, err, errProcFormat)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, m)
		})
	}
}

func TestParseProcNetFixture(t *testing.T) {
	f, err := os.Open("testdata/proc/net/tcp")
	require.NoError(t, err)
	defer f.Close()
	counts := map[State]int{}
	require.NoError(t, parseProcNet(f, afInet, func(m *diagMsg) bool {
		counts[m.state]++
		return true
	}))
	assert.Equal(t, map[State]int{Listen: 2, SynSent: 6, CloseWait: 12, TimeWait: 3, Established: 4}, counts)
}

func TestParseSNMP(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]uint64
		wantErr bool
	}{
		{
			name: "snmp tcp",
			in:   "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm MaxConn CurrEstab RetransSegs\nTcp: 1 -1 42 7\n",
			want: map[string]uint64{"Ip.Forwarding": 1, "Ip.DefaultTTL": 64, "Tcp.RtoAlgorithm": 1, "Tcp.MaxConn": 0, "Tcp.CurrEstab": 42, "Tcp.RetransSegs": 7},
		},
		{
			name: "netstat with a huge counter",
			in:   "TcpExt: ListenOverflows ListenDrops\nTcpExt: 18446744073709551615 3\n",
			want: map[string]uint64{"TcpExt.ListenOverflows": 1<<63 - 1, "TcpExt.ListenDrops": 3},
		},
		{name: "count mismatch", in: "Tcp: A B\nTcp: 1\n", wantErr: true},
		{name: "not a number", in: "Tcp: A\nTcp: x\n", wantErr: true},
		{name: "no colon", in: "garbage\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]uint64{}
			err := parseSNMP(strings.NewReader(tt.in), got)
			if tt.wantErr {
				assert.ErrorIs(t, err, errProcFormat)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParsePortRange(t *testing.T) {
	lo, hi, err := parsePortRange([]byte("32768\t60999\n"))
	require.NoError(t, err)
	assert.Equal(t, []int{32768, 60999}, []int{lo, hi})
	for _, bad := range []string{"", "1", "60999 32768", "0 10", "1 70000", "a b"} {
		_, _, err := parsePortRange([]byte(bad))
		assert.ErrorIs(t, err, errProcFormat, bad)
	}
}

func TestReleaseAtLeast(t *testing.T) {
	for rel, want := range map[string]bool{
		"6.10.0": true, "6.18.44-fc-v669": true, "6.9.12": false, "5.15.0-91-generic": false, "7.0": true, "x": false,
	} {
		assert.Equal(t, want, releaseAtLeast(rel, 6, 10), rel)
	}
	assert.Equal(t, 40, estabFromSNMP(42, 2, true))
	assert.Equal(t, 42, estabFromSNMP(42, 2, false))
	assert.Equal(t, 0, estabFromSNMP(1, 2, true))
}

func FuzzParseProcNet(f *testing.F) {
	for _, name := range []string{"testdata/proc/net/tcp", "testdata/proc/net/tcp6", "testdata/proc/net/udp"} {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b, strings.HasSuffix(name, "6"))
	}
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		fam := uint8(afInet)
		if v6 {
			fam = afInet6
		}
		err := parseProcNet(strings.NewReader(string(b)), fam, func(m *diagMsg) bool {
			_ = socketOf(m, TCP, false)
			return true
		})
		if err != nil && !errors.Is(err, errProcFormat) && !strings.Contains(err.Error(), "token too long") {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func FuzzParseSNMP(f *testing.F) {
	for _, name := range []string{"testdata/proc/net/snmp", "testdata/proc/net/netstat"} {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := map[string]uint64{}
		_ = parseSNMP(strings.NewReader(string(b)), m)
		_ = countersFrom(m)
		_, _, _ = parsePortRange(b)
		var tt Totals
		parseSockstat(b, &tt)
		if tt.TCP < 0 || tt.TimeWait < 0 || tt.UDP < 0 || tt.Orphans < 0 {
			t.Fatalf("negative count from %q: %+v", b, tt)
		}
	})
}

func BenchmarkParseProcNet(b *testing.B) {
	data, err := os.ReadFile("testdata/proc/net/tcp")
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		if err := parseProcNet(strings.NewReader(string(data)), afInet, func(*diagMsg) bool { n++; return true }); err != nil || n != 27 {
			b.Fatal(n, err)
		}
	}
}

func TestParseSockstat(t *testing.T) {
	var got Totals
	parseSockstat([]byte("sockets: used 161\nTCP: inuse 20003 orphan 3 tw 12 alloc 20005 mem 3\nUDP: inuse 2 mem 0\nUDPLITE: inuse 0\nRAW: inuse 1\nFRAG: inuse 0 memory 0\n"), &got)
	parseSockstat([]byte("TCP6: inuse 5\nUDP6: inuse 1\nUDPLITE6: inuse 0\nRAW6: inuse 1\nFRAG6: inuse 0 memory 0\n"), &got)
	assert.Equal(t, Totals{TCP: 20008, TimeWait: 12, Orphans: 3, UDP: 3}, got)
	got = Totals{}
	parseSockstat([]byte("TCP: inuse x orphan -1 tw\nTCP inuse 4\n"), &got)
	assert.Equal(t, Totals{}, got, "no count from what is not one")
}

func TestSockstatInUse(t *testing.T) {
	in := "sockets: used 161\nTCP: inuse 20003 orphan 0 tw 12 alloc 20005 mem 3\nUDP: inuse 2 mem 0\nUDPLITE: inuse 0\nRAW: inuse 0\n"
	assert.Equal(t, 20003+12+2, sockstatInUse([]byte(in)))
	assert.Equal(t, 5, sockstatInUse([]byte("TCP6: inuse 5\n")))
	assert.Equal(t, 0, sockstatInUse([]byte("garbage")))
}

// TestCountersFromWalk reads the fixture's counters both ways: through the
// map of every counter, and straight into Counters as a check does.
func TestCountersFromWalk(t *testing.T) {
	m := map[string]uint64{}
	var direct Counters
	for _, name := range []string{"testdata/proc/net/snmp", "testdata/proc/net/netstat"} {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		require.NoError(t, parseSNMP(strings.NewReader(string(b)), m))
		require.NoError(t, walkSNMP(b, direct.set))
	}
	assert.Equal(t, countersFrom(m), direct)
	assert.Equal(t, uint64(178), direct.ActiveOpens)
	assert.Equal(t, m["TcpExt.ListenOverflows"], direct.ListenOverflows)
	assert.Equal(t, m["Tcp.RetransSegs"], direct.RetransSegs)
}
