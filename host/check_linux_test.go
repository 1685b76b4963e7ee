package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/procfs"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// fixture runs the check on a fixture tree under testdata.
// The files do not change between the two samples, so the window adds no
// CPU or swap findings; the window tests below cover those.
func fixture(t *testing.T, name string, opts Options) Result {
	t.Helper()
	opts.ProcRoot = filepath.Join("testdata", name, "proc")
	opts.SysRoot = filepath.Join("testdata", name, "sys")
	if opts.Window == 0 {
		opts.Window = time.Millisecond
	}
	return Check(context.Background(), opts)
}

func findingCodes(fs []triage.Finding) map[triage.Code]triage.Status {
	m := map[triage.Code]triage.Status{}
	for _, f := range fs {
		if s, ok := m[f.Code]; !ok || f.Status.Worse(s) {
			m[f.Code] = f.Status
		}
	}
	return m
}

// TestCgroupMemoryMaxZero: memory.max 0 lets the cgroup be charged
// nothing. It is the tightest limit there is, not "no limit".
func TestCgroupMemoryMaxZero(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS(filepath.Join("testdata", "container"))))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/kubepods/app/memory.max"), []byte("0\n"), 0o644))
	r := Check(context.Background(), Options{ProcRoot: filepath.Join(root, "proc"), SysRoot: filepath.Join(root, "sys"), Window: time.Millisecond})
	require.NoError(t, r.Err)
	require.NotNil(t, r.Cgroup)
	assert.True(t, r.Cgroup.MemoryLimited)
	assert.Zero(t, r.Cgroup.MemoryMaxBytes)
	assert.Equal(t, "cgroup", r.Memory.JudgedAgainst)
	assert.Equal(t, triage.Fail, findingCodes(r.Findings)[CodeCgroupMemoryNearLimit], "a zero limit is full")
}

func TestContainerFixture(t *testing.T) {
	r := fixture(t, "container", Options{})
	require.NoError(t, r.Err)
	assert.Equal(t, "host", r.Check)
	assert.Equal(t, triage.Fail, r.Status)
	assert.Equal(t, map[triage.Code]triage.Status{
		CodeLoadHigh:              triage.Warn,
		CodeMemoryLow:             triage.Fail, // judged against memory.max, not the host's 12GiB free
		CodeCPUPressure:           triage.Warn,
		CodeMemoryPressure:        triage.Fail, // full avg10 12 >= 10
		CodeCgroupCPUThrottled:    triage.Warn,
		CodeCgroupMemoryNearLimit: triage.Warn,
		CodeOOMKills:              triage.Warn,
	}, findingCodes(r.Findings))

	assert.Equal(t, 4, r.CPU.Cores)
	assert.InDelta(t, 2.25, r.Load.Load1PerCore, 1e-9)
	assert.Equal(t, 7, r.Load.ProcsRunning)

	m := r.Memory
	assert.Equal(t, "cgroup", m.JudgedAgainst)
	assert.Equal(t, uint64(1<<30), m.TotalBytes)
	assert.Equal(t, uint64(1<<30-(1048576000-20971520)), m.AvailableBytes)
	assert.Equal(t, uint64(16384000*1024), m.HostTotalBytes)
	assert.Equal(t, uint64(1<<30), m.SwapUsedBytes)

	cg := r.Cgroup
	require.NotNil(t, cg)
	assert.Equal(t, "/kubepods/app", cg.Path)
	assert.Equal(t, uint64(1048576000-20971520), cg.WorkingSetBytes)
	assert.InDelta(t, 95.7, cg.MemoryUsedPct, 0.1)
	assert.InDelta(t, 0.5, cg.CPUQuotaCores, 1e-9)
	assert.InDelta(t, 40, cg.ThrottledPct, 1e-9)
	assert.Equal(t, 21*time.Second, cg.Throttled)
	assert.Equal(t, uint64(3), cg.OOMKills)
	require.NotNil(t, cg.Pressure)
	require.NotNil(t, cg.Pressure.CPU)
	assert.Nil(t, cg.Pressure.Memory)

	require.NotNil(t, r.Pressure)
	assert.Equal(t, 30.0, r.Pressure.Memory.Some.Avg10)
	require.NotNil(t, r.OOMKills)
	assert.Equal(t, uint64(5), *r.OOMKills)

	f, ok := r.Find(CodeCgroupCPUThrottled)
	require.True(t, ok)
	assert.Equal(t, "cgroup", f.Evidence.String("scope"))
	assert.Equal(t, "total", f.Evidence.String("over"), "a fixture has no periods inside the window")
	n, _ := f.Evidence.Int("nr_throttled")
	assert.Equal(t, int64(400), n)

	scopes := map[string]triage.Status{}
	for _, f := range r.Findings {
		if f.Code == CodeOOMKills {
			scopes[f.Evidence.String("scope")] = f.Status
		}
	}
	assert.Equal(t, map[string]triage.Status{"cgroup": triage.Warn, "host": triage.OK}, scopes,
		"kills since boot alone are on record, not a problem")
}

func TestThresholdsAreOptions(t *testing.T) {
	r := fixture(t, "container", Options{Thresholds: Thresholds{
		LoadPerCore:        3,
		MemoryAvailablePct: 1,
		CPUPressurePct:     50,
		MemoryPressurePct:  50,
		CgroupThrottledPct: 50,
		CgroupMemoryPct:    99,
	}})
	require.NoError(t, r.Err)
	assert.Equal(t, map[triage.Code]triage.Status{CodeOOMKills: triage.Warn}, findingCodes(r.Findings))
}

func TestCgroupPathOption(t *testing.T) {
	t.Run("explicit root and path", func(t *testing.T) {
		r := fixture(t, "quiet", Options{
			CgroupRoot: filepath.Join("testdata", "container", "sys", "fs", "cgroup"),
			CgroupPath: "kubepods/app",
		})
		require.NoError(t, r.Err)
		require.NotNil(t, r.Cgroup)
		assert.Equal(t, "/kubepods/app", r.Cgroup.Path)
		assert.Equal(t, "host", r.Memory.JudgedAgainst, "a 1GiB limit does not bind on a host with 976MiB")
		assert.True(t, r.Has(CodeCgroupMemoryNearLimit))
		assert.Equal(t, triage.Target{Cgroup: "/kubepods/app"}, r.Target, "the cgroup asked for is the target")
	})
	t.Run("missing cgroup", func(t *testing.T) {
		r := fixture(t, "container", Options{CgroupPath: "/no/such"})
		assert.ErrorIs(t, r.Err, os.ErrNotExist)
		assert.Equal(t, triage.Unknown, r.Status)
	})
}

// TestHostileFakeRoot: files a container controls are hostile input. A
// FIFO where a file should be, which a plain open would wait on for a
// writer forever, and a file larger than any kernel file each give an
// Unknown result with the reason, at once.
func TestHostileFakeRoot(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		fifo       bool
		want       error
	}{
		{"fifo for /proc/loadavg", "proc/loadavg", true, procfs.ErrNotRegular},
		{"fifo for a pressure file", "proc/pressure/memory", true, procfs.ErrNotRegular},
		{"fifo for memory.max", "sys/fs/cgroup/kubepods/app/memory.max", true, procfs.ErrNotRegular},
		{"oversize /proc/meminfo", "proc/meminfo", false, procfs.ErrTooLarge},
		{"oversize cpu.stat", "sys/fs/cgroup/kubepods/app/cpu.stat", false, procfs.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			require.NoError(t, os.CopyFS(root, os.DirFS(filepath.Join("testdata", "container"))))
			path := filepath.Join(root, filepath.FromSlash(tc.file))
			require.NoError(t, os.Remove(path))
			if tc.fifo {
				require.NoError(t, unix.Mkfifo(path, 0o644))
			} else {
				require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("nr_periods 1\n"), procfs.MaxSize/8), 0o644))
			}
			done := make(chan Result, 1)
			go func() {
				done <- Check(context.Background(), Options{
					ProcRoot: filepath.Join(root, "proc"), SysRoot: filepath.Join(root, "sys"), Window: time.Millisecond,
				})
			}()
			select {
			case r := <-done:
				assert.ErrorIs(t, r.Err, tc.want)
				assert.Equal(t, triage.Unknown, r.Status)
			case <-time.After(10 * time.Second):
				if tc.fifo { // let the blocked open go, so the goroutine ends
					if w, err := os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
						w.Close()
					}
				}
				<-done
				t.Fatal("the check blocked on " + tc.file)
			}
		})
	}
}

func TestQuietOldKernelFixture(t *testing.T) {
	r := fixture(t, "quiet", Options{})
	require.NoError(t, r.Err)
	assert.Equal(t, triage.OK, r.Status)
	assert.Empty(t, r.Findings)
	assert.Nil(t, r.Pressure, "no /proc/pressure")
	assert.Nil(t, r.Cgroup, "no cgroup mounts")
	assert.Nil(t, r.OOMKills, "vmstat without oom_kill")
	assert.Equal(t, "host", r.Memory.JudgedAgainst)
	assert.Equal(t, uint64(710000*1024), r.Memory.AvailableBytes, "MemFree+Buffers+Cached without MemAvailable")
}

// The build machine runs cgroup v1 with an empty v2 hierarchy mounted at
// /sys/fs/cgroup/unified; the process sits in the v2 root, which has no
// controllers, so the v1 memory cgroup is read. Its unset limit must read
// as "no limit", not as 8EiB.
func TestHybridFixture(t *testing.T) {
	r := fixture(t, "hybrid", Options{})
	require.NoError(t, r.Err)
	require.NotNil(t, r.Cgroup)
	assert.Equal(t, 1, r.Cgroup.Version)
	assert.Equal(t, "/process_api/abc", r.Cgroup.Path)
	assert.Equal(t, uint64(137027584), r.Cgroup.MemoryCurrentBytes)
	assert.Equal(t, uint64(137027584-76050432), r.Cgroup.WorkingSetBytes)
	assert.Zero(t, r.Cgroup.MemoryMaxBytes)
	assert.Zero(t, r.Cgroup.CPUQuotaCores)
	assert.Equal(t, "host", r.Memory.JudgedAgainst)
	assert.Equal(t, triage.OK, r.Status)
}

// Docker on a cgroup v1 host: the container sees only its own subtree of
// each controller, and its limits are v1 files.
func TestDockerV1Fixture(t *testing.T) {
	r := fixture(t, "dockerv1", Options{})
	require.NoError(t, r.Err)
	cg := r.Cgroup
	require.NotNil(t, cg)
	assert.Equal(t, 1, cg.Version)
	assert.Equal(t, "/", cg.Path, "the mount hides the /docker/<id> prefix")
	assert.Equal(t, uint64(512<<20), cg.MemoryMaxBytes)
	assert.Equal(t, uint64(524288000-10485760), cg.WorkingSetBytes)
	assert.InDelta(t, 1.5, cg.CPUQuotaCores, 1e-9)
	assert.InDelta(t, 20, cg.ThrottledPct, 1e-9)
	assert.Equal(t, 5*time.Second, cg.Throttled)
	assert.Equal(t, uint64(1), cg.OOMKills)
	assert.Equal(t, "cgroup", r.Memory.JudgedAgainst)
	assert.Equal(t, map[triage.Code]triage.Status{
		CodeMemoryLow:             triage.Fail,
		CodeCgroupCPUThrottled:    triage.Warn,
		CodeCgroupMemoryNearLimit: triage.Warn,
		CodeOOMKills:              triage.Warn,
	}, findingCodes(r.Findings))
	f, _ := r.Find(CodeCgroupCPUThrottled)
	assert.Contains(t, f.Command, filepath.Join("cpu,cpuacct", "cpu.cfs_quota_us"))
	f, _ = r.Find(CodeOOMKills)
	assert.Contains(t, f.Command, "memory.oom_control")
}

// A systemd host on cgroup v1 without CPU accounting per service: the
// service's memory cgroup is its own, its cpu cgroup the slice's. The
// throttling finding names the cpu cgroup, which holds the quota.
func TestSplitV1Fixture(t *testing.T) {
	r := fixture(t, "splitv1", Options{})
	require.NoError(t, r.Err)
	require.NotNil(t, r.Cgroup)
	assert.Equal(t, "/system.slice/api.service", r.Cgroup.Path)
	assert.Equal(t, "/system.slice", r.Cgroup.CPUPath)
	f, ok := r.Find(CodeCgroupCPUThrottled)
	require.True(t, ok)
	assert.Equal(t, "/system.slice", f.Evidence.String(triage.KeyCgroup))
	assert.Contains(t, f.Summary, "cgroup /system.slice throttled")
	assert.Contains(t, f.Command, filepath.Join("cpu,cpuacct", "system.slice", "cpu.cfs_quota_us"))
	f, ok = r.Find(CodeCgroupMemoryNearLimit)
	require.True(t, ok)
	assert.Contains(t, f.Command, filepath.Join("memory", "system.slice", "api.service"))
}

func TestWindowFindings(t *testing.T) {
	read := func(name string) statFile {
		b, err := os.ReadFile(filepath.Join("testdata", "cpu", name))
		require.NoError(t, err)
		s, err := parseStat(b)
		require.NoError(t, err)
		return s
	}
	before, after := read("stat.before"), read("stat.after")
	cpu := cpuStats(before, after)
	assert.Equal(t, 2, cpu.Cores)
	assert.InDelta(t, 99, cpu.BusyPct, 1e-9)
	assert.InDelta(t, 80, cpu.UserPct, 1e-9)
	assert.InDelta(t, 16, cpu.SystemPct, 1e-9)
	assert.InDelta(t, 3, cpu.StealPct, 1e-9)
	require.Len(t, cpu.PerCore, 2)
	assert.InDelta(t, 100, cpu.PerCore[0].BusyPct, 1e-9)
	assert.InDelta(t, 86.0/88*100, cpu.PerCore[1].BusyPct, 1e-9)

	for _, tc := range []struct {
		name  string
		mod   func(r *Result, f *windowFacts)
		th    Thresholds
		codes map[triage.Code]triage.Status
	}{
		{name: "saturated", codes: map[triage.Code]triage.Status{CodeCPUSaturated: triage.Fail}},
		{name: "steal over a lowered threshold", th: Thresholds{StealPct: 2},
			codes: map[triage.Code]triage.Status{CodeCPUSaturated: triage.Fail, CodeStealHigh: triage.Warn}},
		{name: "one core of two busy", mod: func(r *Result, _ *windowFacts) {
			r.CPU = CPUStats{Cores: 2, BusyPct: 52, PerCore: []CoreStats{{CPU: 0, BusyPct: 4}, {CPU: 1, BusyPct: 100}}}
		}, codes: map[triage.Code]triage.Status{CodeCPUImbalance: triage.Warn}},
		{name: "both cores busy: saturated, not imbalanced", mod: func(r *Result, _ *windowFacts) {
			r.CPU = CPUStats{Cores: 2, BusyPct: 95, PerCore: []CoreStats{{CPU: 0, BusyPct: 92}, {CPU: 1, BusyPct: 98}}}
		}, codes: map[triage.Code]triage.Status{CodeCPUSaturated: triage.Warn}},
		{name: "one core of one", mod: func(r *Result, _ *windowFacts) {
			r.CPU = CPUStats{Cores: 1, BusyPct: 50, PerCore: []CoreStats{{CPU: 0, BusyPct: 50}}}
		}, codes: map[triage.Code]triage.Status{}},
		{name: "iowait", mod: func(r *Result, _ *windowFacts) { r.CPU = CPUStats{Cores: 2, BusyPct: 20, IOWaitPct: 45} },
			codes: map[triage.Code]triage.Status{CodeIOWaitHigh: triage.Warn}},
		{name: "swapping", mod: func(r *Result, _ *windowFacts) {
			r.CPU = CPUStats{Cores: 2}
			r.Memory.SwapOutPagesPerSec = 400
		}, codes: map[triage.Code]triage.Status{CodeSwapping: triage.Warn}},
		{name: "oom kill during the window", mod: func(r *Result, f *windowFacts) {
			r.CPU = CPUStats{Cores: 2}
			n := uint64(9)
			r.OOMKills, f.oomInWindow = &n, 1
		}, codes: map[triage.Code]triage.Status{CodeOOMKills: triage.Fail}},
		{name: "not sampled: no window findings", mod: func(r *Result, f *windowFacts) {
			f.sampled = false
			r.Memory.SwapOutPagesPerSec = 400
		}, codes: map[triage.Code]triage.Status{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Result{Window: time.Second, CPU: cpu}
			r.Memory = MemoryStats{TotalBytes: 100, AvailableBytes: 50, AvailablePct: 50}
			f := windowFacts{sampled: true}
			if tc.mod != nil {
				tc.mod(&r, &f)
			}
			judge(&r, tc.th.withDefaults(), f)
			assert.Equal(t, tc.codes, findingCodes(r.Findings))
			for _, f := range r.Findings {
				assert.NotEmpty(t, f.Summary)
				assert.NotEmpty(t, f.Command)
				assert.NotEmpty(t, f.Evidence)
			}
		})
	}
}

func TestThisMachine(t *testing.T) {
	r := Check(context.Background(), Options{})
	require.NoError(t, r.Err)
	assert.NotEqual(t, triage.Unknown, r.Status)
	assert.GreaterOrEqual(t, r.Window, DefaultWindow)
	assert.Positive(t, r.CPU.Cores)
	assert.Len(t, r.CPU.PerCore, r.CPU.Cores)
	assert.InDelta(t, 100, r.CPU.BusyPct+r.CPU.IdlePct+r.CPU.IOWaitPct, 0.5)
	assert.Positive(t, r.Memory.HostTotalBytes)
	assert.LessOrEqual(t, r.Memory.AvailableBytes, r.Memory.TotalBytes)
	if _, err := os.Stat("/proc/pressure/cpu"); err == nil {
		require.NotNil(t, r.Pressure)
		assert.NotNil(t, r.Pressure.CPU)
	}
}

func TestReturnsWithinDeadline(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Run("window longer than the deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := Check(ctx, Options{Window: time.Minute})
		assert.Less(t, time.Since(start), 200*time.Millisecond+time.Second)
		require.NoError(t, r.Err, "the window shrinks to fit the deadline")
		assert.Positive(t, r.Window)
	})
	t.Run("cancelled during the window", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		r := Check(ctx, Options{Window: time.Minute})
		assert.Less(t, time.Since(start), time.Second+50*time.Millisecond)
		assert.ErrorIs(t, r.Err, context.Canceled)
		assert.NotEqual(t, triage.OK, r.Status, "never healthy when the window was cut")
		assert.Zero(t, r.Window)
		assert.Positive(t, r.Memory.HostTotalBytes, "what needs no window is still reported")
	})
	t.Run("already expired", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
		defer cancel()
		r := Check(ctx, Options{})
		assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
		assert.Equal(t, triage.Unknown, r.Status)
	})
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want error
	}{
		{"negative window", Options{Window: -time.Second}, triage.ErrInvalid},
		{"missing proc root", Options{ProcRoot: filepath.Join(t.TempDir(), "none")}, os.ErrNotExist},
		{"garbage stat", Options{ProcRoot: garbageProc(t)}, procfs.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(context.Background(), tc.opts)
			assert.ErrorIs(t, r.Err, tc.want)
			assert.Equal(t, triage.Unknown, r.Status)
		})
	}
}

func garbageProc(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte("\x00\xffnot a stat file"), 0o644))
	return dir
}
