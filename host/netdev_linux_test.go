//go:build linux

package host

import (
	"context"
	"os"
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

func FuzzParseNetDev(f *testing.F) {
	f.Add([]byte(netDevBefore))
	f.Add([]byte(netDevAfter))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseNetDev(b)
		if err != nil {
			return
		}
		for name := range m {
			assert.True(t, ifaceName(name), "%q", name)
		}
	})
}
