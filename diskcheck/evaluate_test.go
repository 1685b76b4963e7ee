package diskcheck

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
)

func TestFillLikeDf(t *testing.T) {
	// A filesystem with many reserved blocks: Used+Avail is well below
	// Size, and Use% is Used/(Used+Avail) rounded up, as df prints it.
	v := statfsValues{frsize: 4096, blocks: 66031598, bfree: 63667442, bavail: 20448930, files: 16777216, ffree: 16344973}
	var fs Filesystem
	fs.fill(v, time.Unix(1, 0))
	assert.Equal(t, uint64(66031598*4096), fs.Size)
	assert.Equal(t, uint64((66031598-63667442)*4096), fs.Used)
	assert.Equal(t, uint64(20448930*4096), fs.Avail)
	assert.Equal(t, 11.0, fs.UsedPct) // ceil(2364156*100/(2364156+20448930))
	assert.Equal(t, uint64(16777216-16344973), fs.InodesUsed)
	assert.Equal(t, 3.0, fs.InodesUsedPct)
	assert.False(t, fs.NoInodeLimit)

	fs.fill(statfsValues{frsize: 4096, blocks: 100, bfree: 50, bavail: 50}, time.Unix(2, 0))
	assert.True(t, fs.NoInodeLimit, "no inode count is no limit, not 0%")
	assert.Zero(t, fs.InodesUsedPct)
}

func TestDfPercent(t *testing.T) {
	tests := []struct {
		used, avail uint64
		want        float64
	}{
		{0, 0, 0}, {0, 10, 0}, {1, 999, 1}, {50, 50, 50}, {999, 1, 100}, {10, 0, 100}, {2, 1, 67},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, dfPercent(tt.used, tt.avail), "%d used %d avail", tt.used, tt.avail)
	}
}

func TestFindings(t *testing.T) {
	at := time.Unix(100, 0)
	ttf := 5 * time.Minute
	tests := []struct {
		name  string
		fs    Filesystem
		codes []triage.Code
		worst triage.Status
	}{
		{"healthy", Filesystem{Size: 100, Used: 10, Avail: 90, UsedPct: 10, Inodes: 10, InodesFree: 9, InodesUsed: 1, InodesUsedPct: 10}, nil, triage.OK},
		{"space low", Filesystem{Size: 100, Used: 91, Avail: 9, UsedPct: 91, Inodes: 10, InodesFree: 9, InodesUsedPct: 10}, []triage.Code{CodeSpaceLow}, triage.Warn},
		{"full by percent", Filesystem{Size: 100, Used: 98, Avail: 2, UsedPct: 98, Inodes: 10, InodesFree: 9, InodesUsedPct: 10}, []triage.Code{CodeFull}, triage.Fail},
		{"full by reserved blocks", Filesystem{Size: 100, Used: 95, Avail: 0, UsedPct: 100, Inodes: 10, InodesFree: 9, InodesUsedPct: 10}, []triage.Code{CodeFull}, triage.Fail},
		{"inodes low", Filesystem{Size: 100, Used: 1, Avail: 99, UsedPct: 1, Inodes: 100, InodesFree: 5, InodesUsed: 95, InodesUsedPct: 95}, []triage.Code{CodeInodesLow}, triage.Warn},
		{"inodes exhausted, bytes free", Filesystem{Size: 100, Used: 1, Avail: 99, UsedPct: 1, Inodes: 100, InodesFree: 0, InodesUsed: 100, InodesUsedPct: 100}, []triage.Code{CodeInodesExhausted}, triage.Fail},
		{"no inode limit", Filesystem{Size: 100, Used: 1, Avail: 99, UsedPct: 1, NoInodeLimit: true}, nil, triage.OK},
		{"read-only tmpfs, not named", Filesystem{Type: "tmpfs", Device: "tmpfs", ReadOnly: true, Size: 100, Avail: 100, Inodes: 10, InodesFree: 10}, nil, triage.OK},
		{"read-only ext4, not named", Filesystem{Type: "ext4", Device: "/dev/vda1", ReadOnly: true, Size: 100, Avail: 100, Inodes: 10, InodesFree: 10}, []triage.Code{CodeReadOnly}, triage.Warn},
		{"read-only ext4, named", Filesystem{Type: "ext4", Paths: []string{"/var/log"}, ReadOnly: true, Size: 100, Avail: 100, Inodes: 10, InodesFree: 10}, []triage.Code{CodeReadOnly}, triage.Fail},
		{"squashfs is read-only by design", Filesystem{Type: "squashfs", ReadOnly: true, Size: 100, Used: 100, UsedPct: 100, NoInodeLimit: true}, []triage.Code{CodeFull}, triage.Fail},
		{"not writable", Filesystem{Size: 100, Avail: 100, Inodes: 10, InodesFree: 10, Probe: &Probe{Dir: "/x", Op: "create", Errno: "EDQUOT"}}, []triage.Code{CodeNotWritable}, triage.Fail},
		{"filling fast", Filesystem{Size: 100, Used: 50, Avail: 50, UsedPct: 50, Inodes: 10, InodesFree: 10, Growth: &Growth{Interval: time.Second, BytesPerSec: 1, TimeToFull: &ttf}}, []triage.Code{CodeFillingFast}, triage.Fail},
		{"deleted open", Filesystem{Size: 100 << 20, Used: 10 << 20, Avail: 90 << 20, UsedPct: 10, Inodes: 10, InodesFree: 10, DeletedOpen: []DeletedOpen{{PID: 7, Bytes: 2 << 20}, {PID: 8, Bytes: 1 << 10}}}, []triage.Code{CodeDeletedOpen}, triage.Warn},
		{"stuck", Filesystem{Stuck: true, Err: ErrStuckMount}, []triage.Code{CodeStuckMount}, triage.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := tt.fs
			if fs.Err == nil {
				fs.SampledAt = at
			}
			var r triage.Result
			r.Add(fs.findings((&Options{}).thresholds())...)
			r.Finish(nil)
			var codes []triage.Code
			for _, f := range r.Findings {
				codes = append(codes, f.Code)
				assert.NotEmpty(t, f.Summary)
				assert.NotEmpty(t, f.Command)
			}
			assert.Equal(t, tt.codes, codes)
			assert.Equal(t, tt.worst, r.Status)
		})
	}
}

func TestGrowth(t *testing.T) {
	t0 := time.Unix(1000, 0)
	before := &Filesystem{SampledAt: t0, Used: 1000, Avail: 10000}
	after := &Filesystem{SampledAt: t0.Add(10 * time.Second), Used: 2000, Avail: 9000}
	g := growth(before, after)
	require.NotNil(t, g)
	assert.Equal(t, 100.0, g.BytesPerSec)
	assert.Equal(t, int64(1000), g.UsedDelta)
	require.NotNil(t, g.TimeToFull)
	assert.Equal(t, 90*time.Second, *g.TimeToFull)

	shrinking := growth(after, &Filesystem{SampledAt: t0.Add(20 * time.Second), Used: 1500, Avail: 9500})
	require.NotNil(t, shrinking)
	assert.Nil(t, shrinking.TimeToFull)
	assert.Nil(t, growth(after, before), "samples out of order")
}

func TestOptionsValidate(t *testing.T) {
	tests := map[string]Options{
		"negative pct":     {SpaceLowPct: -1},
		"pct over 100":     {FullPct: 101},
		"empty path":       {Paths: []string{""}},
		"negative timeout": {StatfsTimeout: -time.Second},
		"negative growth":  {GrowthInterval: -time.Second},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, o.validate(), triage.ErrInvalid)
		})
	}
	assert.NoError(t, (&Options{}).validate())
}
