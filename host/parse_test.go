package host

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/procfs"
)

func TestParseStat(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "container", "proc", "stat"))
	require.NoError(t, err)
	s, err := parseStat(b)
	require.NoError(t, err)
	assert.Equal(t, cpuTimes{user: 10132153, nice: 290696, system: 3084719, idle: 46828483, iowait: 16683, softirq: 25195}, s.all)
	require.Len(t, s.cores, 4)
	assert.Equal(t, 3, s.cores[3].cpu)
	assert.Equal(t, 7, s.procsRunning)
	assert.Equal(t, 2, s.procsBlocked)

	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"no aggregate line", "cpu0 1 2 3 4\n"},
		{"too few values", "cpu  1 2 3\n"},
		{"not a number", "cpu  1 2 x 4\n"},
		{"bad core", "cpu  1 2 3 4\ncpuX 1 2 3 4\n"},
		{"bad procs_running", "cpu  1 2 3 4\nprocs_running many\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseStat([]byte(tc.in))
			assert.ErrorIs(t, err, procfs.ErrMalformed)
		})
	}
	t.Run("old kernel without steal", func(t *testing.T) {
		s, err := parseStat([]byte("cpu  1 2 3 4 5\n"))
		require.NoError(t, err)
		assert.Equal(t, uint64(15), s.all.total())
	})
}

func TestParseMeminfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want meminfo
	}{
		{"modern", "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nSwapTotal: 50 kB\nSwapFree: 20 kB\n",
			meminfo{total: 1024000, available: 614400, swapTotal: 51200, swapFree: 20480}},
		{"before 3.14 has no MemAvailable", "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\n",
			meminfo{total: 1024000, available: 317440}},
		{"no unit", "MemTotal: 1000\nMemAvailable: 10\n", meminfo{total: 1000, available: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMeminfo([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, m)
		})
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"bad number", "MemTotal: lots kB\n"},
		{"overflow", "MemTotal: 18446744073709551615 kB\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMeminfo([]byte(tc.in))
			assert.ErrorIs(t, err, procfs.ErrMalformed)
		})
	}
}

func TestParseVmstat(t *testing.T) {
	v := parseVmstat([]byte("pswpin 1\npswpout 2\npgfault 3\npgmajfault 4\noom_kill 5\nweird\n"))
	assert.Equal(t, vmstat{pswpin: 1, pswpout: 2, pgfault: 3, pgmajfault: 4, oomKill: 5, hasOOMKill: true}, v)
	v = parseVmstat([]byte("pswpin 1\n"))
	assert.False(t, v.hasOOMKill, "kernels before 4.13 have no oom_kill")
}

func TestParseLoadavg(t *testing.T) {
	l1, l5, l15, err := parseLoadavg([]byte("0.52 1.58 2.59 2/345 12345\n"))
	require.NoError(t, err)
	assert.Equal(t, []float64{0.52, 1.58, 2.59}, []float64{l1, l5, l15})
	for _, in := range []string{"", "1 2", "a b c", "-1 0 0 1/1 1"} {
		_, _, _, err := parseLoadavg([]byte(in))
		assert.ErrorIs(t, err, procfs.ErrMalformed, in)
	}
}

func TestParsePSI(t *testing.T) {
	p, err := parsePSI([]byte("some avg10=1.53 avg60=0.87 avg300=0.47 total=2351290\nfull avg10=0.10 avg60=0.00 avg300=0.00 total=7\n"))
	require.NoError(t, err)
	assert.Equal(t, PSI{
		Some: PSILine{Avg10: 1.53, Avg60: 0.87, Avg300: 0.47, Total: 2351290 * time.Microsecond},
		Full: PSILine{Avg10: 0.10, Total: 7 * time.Microsecond},
	}, p)
	t.Run("cpu before 5.13 has no full line", func(t *testing.T) {
		p, err := parsePSI([]byte("some avg10=3.00 avg60=0.00 avg300=0.00 total=1\n"))
		require.NoError(t, err)
		assert.Equal(t, 3.0, p.Some.Avg10)
		assert.Zero(t, p.Full)
	})
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"unknown line", "partial avg10=1\n"},
		{"no equals", "some avg10\n"},
		{"bad float", "some avg10=x\n"},
		{"total overflows a duration", "some total=18446744073709551615\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePSI([]byte(tc.in))
			assert.ErrorIs(t, err, procfs.ErrMalformed)
		})
	}
}

func TestParseCgroupFiles(t *testing.T) {
	t.Run("cpu.max", func(t *testing.T) {
		for _, tc := range []struct {
			in             string
			quota, period  uint64
			limited, isErr bool
		}{
			{in: "max 100000\n", period: 100000},
			{in: "50000 100000\n", quota: 50000, period: 100000, limited: true},
			{in: "50000 0\n", isErr: true},
			{in: "x 100000\n", isErr: true},
			{in: "", isErr: true},
		} {
			q, p, l, err := parseCgroupCPUMax([]byte(tc.in))
			if tc.isErr {
				assert.ErrorIs(t, err, procfs.ErrMalformed, tc.in)
				continue
			}
			require.NoError(t, err, tc.in)
			assert.Equal(t, []any{tc.quota, tc.period, tc.limited}, []any{q, p, l}, tc.in)
		}
	})
	t.Run("memory values", func(t *testing.T) {
		v, limited, err := parseCgroupMemoryValue([]byte("max\n"))
		require.NoError(t, err)
		assert.False(t, limited)
		assert.Zero(t, v)
		v, limited, err = parseCgroupMemoryValue([]byte("1073741824\n"))
		require.NoError(t, err)
		assert.True(t, limited)
		assert.Equal(t, uint64(1<<30), v)
		_, _, err = parseCgroupMemoryValue([]byte("lots\n"))
		assert.ErrorIs(t, err, procfs.ErrMalformed)
	})
	t.Run("mountinfo", func(t *testing.T) {
		root, mp, ok := parseCgroupMountinfo([]byte(
			"30 22 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n" +
				"41 31 0:38 /kubepods/pod1 /sys/fs/cgroup/with\\040space rw,relatime - cgroup2 cgroup2 rw\n"))
		require.True(t, ok)
		assert.Equal(t, "/kubepods/pod1", root)
		assert.Equal(t, "/sys/fs/cgroup/with space", mp)
		_, _, ok = parseCgroupMountinfo([]byte("30 22 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n"))
		assert.False(t, ok)
	})
	t.Run("v1 mounts and paths", func(t *testing.T) {
		mi := []byte("649 646 0:33 /docker/ab /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n" +
			"650 646 0:34 / /sys/fs/cgroup/cpuset ro - cgroup cgroup rw,cpuset\n")
		root, mp, ok := parseCgroupV1Mount(mi, "cpu")
		require.True(t, ok)
		assert.Equal(t, []string{"/docker/ab", "/sys/fs/cgroup/cpu,cpuacct"}, []string{root, mp})
		_, mp, ok = parseCgroupV1Mount(mi, "cpuset")
		require.True(t, ok)
		assert.Equal(t, "/sys/fs/cgroup/cpuset", mp)
		_, _, ok = parseCgroupV1Mount(mi, "memory")
		assert.False(t, ok)
		p, ok := parseCgroupV1Self([]byte("3:cpuset:/\n2:cpu,cpuacct:/docker/ab\n0::/\n"), "cpu")
		require.True(t, ok)
		assert.Equal(t, "/docker/ab", p)
		assert.Empty(t, cgroupStrip("/docker/ab", "/docker/ab"), "the mount shows exactly this cgroup")
		assert.Equal(t, "/docker/abc", cgroupStrip("/docker/abc", "/docker/ab"), "a prefix of a name is not a parent")
	})
	t.Run("self cgroup", func(t *testing.T) {
		p, ok := parseCgroupSelf([]byte("4:memory:/x\n0::/system.slice/nginx.service\n"))
		require.True(t, ok)
		assert.Equal(t, "/system.slice/nginx.service", p)
		_, ok = parseCgroupSelf([]byte("4:memory:/x\n"))
		assert.False(t, ok)
	})
}

// The fuzz targets feed each /proc and cgroup parser arbitrary bytes: they
// must return an error or a value, never panic.

func FuzzParseStat(f *testing.F) {
	for _, p := range []string{"container/proc/stat", "quiet/proc/stat", "cpu/stat.after"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseStat(b)
		if err == nil {
			_ = cpuStats(s, s)
		}
	})
}

func FuzzParseMeminfo(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "container", "proc", "meminfo"))
	require.NoError(f, err)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMeminfo(b)
		if err == nil {
			assert.LessOrEqual(t, m.available, max(m.total, m.available))
		}
	})
}

func FuzzParsePSI(f *testing.F) {
	f.Add([]byte("some avg10=1.53 avg60=0.87 avg300=0.47 total=2351290\nfull avg10=0.10 avg60=0.00 avg300=0.00 total=7\n"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parsePSI(b) })
}

func FuzzParseSmallFiles(f *testing.F) {
	f.Add([]byte("0.52 0.58 0.59 2/345 12345\n"))
	f.Add([]byte("pswpin 1\noom_kill 2\n"))
	f.Add([]byte("50000 100000\n"))
	f.Add([]byte("0::/kubepods/app\n"))
	f.Add([]byte("2:cpu,cpuacct:/docker/0123abcd\n"))
	f.Add([]byte("652 646 0:36 /docker/x /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"))
	f.Add([]byte("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _, _ = parseLoadavg(b)
		_ = parseVmstat(b)
		_, _, _, _ = parseCgroupCPUMax(b)
		_, _, _ = parseCgroupMemoryValue(b)
		_, _, _ = parseCgroupMountinfo(b)
		_, _ = parseCgroupSelf(b)
		_, _, _ = parseCgroupV1Mount(b, "memory")
		_, _ = parseCgroupV1Self(b, "cpu")
		_ = cgroupUnescape(string(b))
	})
}
