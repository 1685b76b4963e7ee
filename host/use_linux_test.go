//go:build linux

package host

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// Real /proc/net/dev text from a VM, before and after a window in which
// eth0 dropped 40 received packets and counted 2 transmit errors.
const (
	netDevBefore = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 4629925960 24616691    0 50102    0     0          0         0 4629925960 24616691    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 160703885   11514    0    0    0     0          0         0  1276031    8841    0    0    0     0       0          0
`
	netDevAfter = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 4629935960 24616791    0 50902    0     0          0         0 4629935960 24616791    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 160803885   11614    0   40    0     0          0         0  1286031    8941    2    0    0     0       0          0
`
)

func TestParseNetDev(t *testing.T) {
	a, err := parseNetDev([]byte(netDevBefore))
	require.NoError(t, err)
	b, err := parseNetDev([]byte(netDevAfter))
	require.NoError(t, err)
	assert.NotContains(t, a, "lo", "loopback drops are local sockets' buffers")
	assert.Equal(t, []NICStats{{Name: "eth0", RxDropped: 40, TxErrors: 2}}, nicDeltas(a, b))
	assert.Empty(t, nicDeltas(a, a), "a quiet window")

	for _, bad := range []string{"h\nh\n eth0 1 2 3\n", "h\nh\n eth0: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "h\nh\n eth0: 1 2\n"} {
		_, err := parseNetDev([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
	m, err := parseNetDev([]byte("h\nh\n e$(reboot): 0 0 9 9 0 0 0 0 0 0 9 9 0 0 0 0\n"))
	require.NoError(t, err)
	assert.Empty(t, m, "a name no interface has is left out of command lines")
}

// TestNICErrorsThroughProcRoot: counters that rise between the two
// samples raise host.nic_errors with the interface and the deltas.
func TestNICErrorsThroughProcRoot(t *testing.T) {
	root := minimalProc(t)
	dev := filepath.Join(root, "net", "dev")
	require.NoError(t, os.WriteFile(dev, []byte(netDevBefore), 0o644))
	go func() {
		// The second sample reads the file after the window.
		time.Sleep(200 * time.Millisecond)
		_ = os.WriteFile(dev+".new", []byte(netDevAfter), 0o644)
		_ = os.Rename(dev+".new", dev)
	}()
	r := Check(context.Background(), Options{ProcRoot: root, SysRoot: t.TempDir(), Window: time.Second})
	require.NoError(t, r.Err)
	f, ok := r.Find(CodeNICErrors)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Warn, f.Status)
	assert.Equal(t, "eth0", f.Evidence.String("interface"))
	n, _ := f.Evidence.Lookup("rx_dropped")
	assert.EqualValues(t, 40, n.Uint64())
	assert.Equal(t, "ip -s link show eth0", f.Command)
}

// minimalProc is a /proc with what the host check needs and no more: one
// idle core, no swap, no cgroup.
func minimalProc(t *testing.T) string {
	root := t.TempDir()
	for name, body := range map[string]string{
		"stat":    "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\nprocs_running 1\nprocs_blocked 0\n",
		"vmstat":  "pswpin 0\npswpout 0\npgfault 0\npgmajfault 0\n",
		"loadavg": "0.10 0.10 0.10 1/100 1\n",
		"meminfo": "MemTotal: 1000 kB\nMemAvailable: 800 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(body), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "self"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "self", "mountinfo"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "self", "cgroup"), []byte("0::/\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "net"), 0o755))
	return root
}

func FuzzParseNetDev(f *testing.F) {
	f.Add([]byte(netDevBefore))
	f.Add([]byte(netDevAfter))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseNetDev(b)
		if err != nil {
			return
		}
		for name := range m {
			assert.True(t, plainName(name, 15), "%q", name)
		}
	})
}

// Real /proc/diskstats lines of a VM, and the same a second later with
// vda busy 950 ms of it: 400 I/Os that took 3,000 ms together.
const (
	diskstatsBefore = `   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 1288054 230066 46704538 30005422 189380 1060969 32549704 642920 0 1607120 30799642 962210 47 53226576 150603 6131 695
 254       1 vda1 1287000 230066 46700000 30005000 189000 1060969 32549000 642000 0 1607000 30799000 962210 47 53226576 150603 6131 695
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`
	diskstatsAfter = `   7       0 loop0 10 0 0 500 0 0 0 0 0 900 0 0 0 0 0 0 0
 254       0 vda 1288254 230066 46708538 30006922 189580 1060969 32553704 644420 0 1608070 30802642 962210 47 53226576 150603 6131 695
 254       1 vda1 1287200 230066 46704000 30006500 189200 1060969 32553000 643500 0 1607950 30802000 962210 47 53226576 150603 6131 695
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`
)

func TestParseDiskstats(t *testing.T) {
	a, err := parseDiskstats([]byte(diskstatsBefore))
	require.NoError(t, err)
	b, err := parseDiskstats([]byte(diskstatsAfter))
	require.NoError(t, err)
	assert.NotContains(t, a, "loop0", "a loop device's time is its file's")
	assert.NotContains(t, a, "zram0")
	got := diskDeltas(a, b, time.Second)
	require.Len(t, got, 2, "vda and vda1: without /sys/block nothing tells a partition")
	assert.Equal(t, DiskStats{Device: "vda", UtilPct: 95, Await: 7500 * time.Microsecond, IOPS: 400}, got[0])
	assert.Empty(t, diskDeltas(a, a, time.Second), "a quiet window")

	for _, bad := range []string{"254 0 vda 1 2 3\n", "254 0 vda 1 2 x 4 5 6 7 8 9 10 11\n"} {
		_, err := parseDiskstats([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
	m, err := parseDiskstats([]byte("254 0 $(reboot) 1 2 3 4 5 6 7 8 9 10 11\n"))
	require.NoError(t, err)
	assert.Empty(t, m)
}

// TestDiskBusyThroughProcRoot: a disk busy 95% of the window raises
// host.disk_busy; its partition, absent from /sys/block, does not.
func TestDiskBusyThroughProcRoot(t *testing.T) {
	root, sys := minimalProc(t), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(sys, "block", "vda"), 0o755))
	stats := filepath.Join(root, "diskstats")
	require.NoError(t, os.WriteFile(stats, []byte(diskstatsBefore), 0o644))
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = os.WriteFile(stats+".new", []byte(diskstatsAfter), 0o644)
		_ = os.Rename(stats+".new", stats)
	}()
	r := Check(context.Background(), Options{ProcRoot: root, SysRoot: sys, Window: time.Second})
	require.NoError(t, r.Err)
	require.Len(t, r.Disks, 1, "%+v", r.Disks)
	assert.Equal(t, "vda", r.Disks[0].Device)
	f, ok := r.Find(CodeDiskBusy)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, "vda", f.Evidence.String("device"))
	assert.Equal(t, "iostat -xz 1 5", f.Command)
}

func FuzzParseDiskstats(f *testing.F) {
	f.Add([]byte(diskstatsBefore))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseDiskstats(b)
		if err != nil {
			return
		}
		for name := range m {
			assert.True(t, plainName(name, 32), "%q", name)
		}
	})
}

// TestDiskStatsThisMachine: while a real writer bypasses the page cache,
// the disk it writes to is among the disks that did I/O in the window.
func TestDiskStatsThisMachine(t *testing.T) {
	dir, err := os.MkdirTemp("/var/tmp", "triage-disk-")
	if err != nil {
		t.Skipf("no /var/tmp to write to: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c",
		"while :; do dd if=/dev/zero of='"+filepath.Join(dir, "f")+"' bs=64k count=64 oflag=direct status=none || exit 1; done")
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		done <- err
		t.Skipf("direct writes under /var/tmp fail here (tmpfs or overlay): %v", err)
	default:
	}
	r := Check(context.Background(), Options{Window: 500 * time.Millisecond})
	require.NoError(t, r.Err)
	require.NotEmpty(t, r.Disks, "a disk did I/O in the window")
	var iops float64
	for _, d := range r.Disks {
		iops += d.IOPS
		assert.LessOrEqual(t, d.UtilPct, 100.0)
	}
	assert.Positive(t, iops)
}
