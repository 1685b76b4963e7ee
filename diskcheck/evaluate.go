package diskcheck

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/triagekit/triage"
)

// statfsValues are the fields of statfs(2) that df uses.
type statfsValues struct {
	frsize                uint64 // fragment size: the unit of the block counts
	blocks, bfree, bavail uint64
	files, ffree          uint64
}

// dfPercent is df's Use%: used/(used+avail), rounded up.
func dfPercent(used, avail uint64) float64 {
	total := used + avail
	if total == 0 {
		return 0
	}
	return math.Ceil(float64(used) * 100 / float64(total))
}

// fill sets the byte and inode numbers of fs the way df computes them.
func (fs *Filesystem) fill(v statfsValues, at time.Time) {
	fs.SampledAt = at
	fs.Size = v.blocks * v.frsize
	used := uint64(0)
	if v.blocks > v.bfree {
		used = v.blocks - v.bfree
	}
	fs.Used = used * v.frsize
	fs.Avail = v.bavail * v.frsize
	fs.UsedPct = dfPercent(used, v.bavail)
	if v.files == 0 || v.ffree > v.files {
		fs.NoInodeLimit = true
		fs.Inodes, fs.InodesUsed, fs.InodesFree, fs.InodesUsedPct = 0, 0, 0, 0
		return
	}
	fs.NoInodeLimit = false
	fs.Inodes = v.files
	fs.InodesFree = v.ffree
	fs.InodesUsed = v.files - v.ffree
	fs.InodesUsedPct = math.Ceil(float64(fs.InodesUsed) * 100 / float64(v.files))
}

// measured reports whether the numbers are known.
func (fs *Filesystem) measured() bool { return fs.Err == nil && !fs.SampledAt.IsZero() }

// growth compares an earlier sample of the same filesystem with fs.
func growth(before, after *Filesystem) *Growth {
	dt := after.SampledAt.Sub(before.SampledAt)
	if dt <= 0 {
		return nil
	}
	delta := int64(after.Used) - int64(before.Used)
	g := &Growth{Interval: dt, UsedDelta: delta, BytesPerSec: float64(delta) / dt.Seconds()}
	if g.BytesPerSec > 0 {
		ttf := time.Duration(float64(after.Avail) / g.BytesPerSec * float64(time.Second))
		if float64(after.Avail)/g.BytesPerSec > float64(math.MaxInt64/int64(time.Second)) {
			ttf = time.Duration(math.MaxInt64)
		}
		g.TimeToFull = &ttf
	}
	return g
}

type thresholds struct {
	spaceLow, full, inodesLow, inodesFull float64
	fillingWithin                         time.Duration
	deletedMin                            uint64
}

func (o *Options) thresholds() thresholds {
	t := thresholds{o.SpaceLowPct, o.FullPct, o.InodesLowPct, o.InodesFullPct, o.FillingWithin, o.DeletedOpenMinBytes}
	if t.spaceLow == 0 {
		t.spaceLow = DefaultSpaceLowPct
	}
	if t.full == 0 {
		t.full = DefaultFullPct
	}
	if t.inodesLow == 0 {
		t.inodesLow = DefaultInodesLowPct
	}
	if t.inodesFull == 0 {
		t.inodesFull = DefaultInodesFullPct
	}
	if t.fillingWithin == 0 {
		t.fillingWithin = DefaultFillingWithin
	}
	return t
}

func (o *Options) validate() error {
	for _, p := range []float64{o.SpaceLowPct, o.FullPct, o.InodesLowPct, o.InodesFullPct} {
		if p < 0 || p > 100 || math.IsNaN(p) {
			return fmt.Errorf("%w: threshold %v%% is not between 0 and 100", triage.ErrInvalid, p)
		}
	}
	if o.StatfsTimeout < 0 || o.GrowthInterval < 0 || o.FillingWithin < 0 {
		return fmt.Errorf("%w: negative duration", triage.ErrInvalid)
	}
	for _, p := range o.Paths {
		if p == "" || strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("%w: path %q", triage.ErrInvalid, p)
		}
	}
	return nil
}

func (fs *Filesystem) base() triage.Evidence {
	e := triage.Evidence{
		slog.String("mount_point", fs.MountPoint),
		slog.String("device", fs.Device),
		slog.String("fstype", fs.Type),
	}
	if len(fs.Paths) > 0 {
		e = append(e, slog.String("path", fs.Paths[0]))
	}
	return e
}

func (fs *Filesystem) where() string {
	if len(fs.Paths) > 0 && fs.Paths[0] != fs.MountPoint {
		return fmt.Sprintf("%s (%s on %s)", fs.MountPoint, fs.Paths[0], fs.Device)
	}
	return fmt.Sprintf("%s (%s)", fs.MountPoint, fs.Device)
}

// findings judges one filesystem. named is whether a caller's path is on it.
func (fs *Filesystem) findings(t thresholds) []triage.Finding {
	var out []triage.Finding
	arg := shellQuote(fs.MountPoint)
	if len(fs.Paths) > 0 {
		arg = shellQuote(fs.Paths[0])
	}
	if fs.Stuck || (fs.Err != nil && errors.Is(fs.Err, ErrStuckMount)) {
		st := triage.Unknown
		if fs.Stuck {
			st = triage.Fail
		}
		out = append(out, triage.Finding{
			Code:     CodeStuckMount,
			Status:   st,
			Summary:  fmt.Sprintf("%s does not answer statfs: its numbers are unknown and processes touching it hang", fs.where()),
			Evidence: append(fs.base(), slog.String("error", fs.Error)),
			Command:  "timeout 5 stat -f " + arg,
		})
		return out
	}
	if !fs.measured() {
		return nil
	}
	// A read-only disk nobody named is worth a warning: ext4 and friends
	// remount read-only on errors. Read-only tmpfs, bind and network
	// mounts are almost always so by intent (config, secrets, images).
	named := len(fs.Paths) > 0
	if fs.ReadOnly && !readOnlyTypes[fs.Type] && (named || strings.HasPrefix(fs.Device, "/dev/")) {
		st := triage.Warn
		if named {
			st = triage.Fail
		}
		out = append(out, triage.Finding{
			Code:     CodeReadOnly,
			Status:   st,
			Summary:  fmt.Sprintf("%s is mounted read-only: writes fail with EROFS", fs.where()),
			Evidence: append(fs.base(), slog.String("options", strings.Join(fs.Options, ","))),
			Command:  "findmnt -T " + arg,
		})
	}
	space := append(fs.base(),
		slog.Float64("used_pct", fs.UsedPct),
		slog.Uint64("used_bytes", fs.Used),
		slog.Uint64("avail_bytes", fs.Avail),
		slog.Uint64("size_bytes", fs.Size))
	full := fs.Size > 0 && (fs.UsedPct >= t.full || fs.Avail == 0)
	switch {
	case full:
		out = append(out, triage.Finding{
			Code:     CodeFull,
			Status:   triage.Fail,
			Summary:  fmt.Sprintf("%s is full: %.0f%% used, %s available of %s", fs.where(), fs.UsedPct, humanBytes(fs.Avail), humanBytes(fs.Size)),
			Evidence: space,
			Command:  "df -h " + arg,
		})
	case fs.Size > 0 && fs.UsedPct >= t.spaceLow:
		out = append(out, triage.Finding{
			Code:     CodeSpaceLow,
			Status:   triage.Warn,
			Summary:  fmt.Sprintf("%s is low on space: %.0f%% used, %s available of %s", fs.where(), fs.UsedPct, humanBytes(fs.Avail), humanBytes(fs.Size)),
			Evidence: space,
			Command:  "df -h " + arg,
		})
	}
	if !fs.NoInodeLimit {
		ino := append(fs.base(),
			slog.Float64("inodes_used_pct", fs.InodesUsedPct),
			slog.Uint64("inodes_used", fs.InodesUsed),
			slog.Uint64("inodes_free", fs.InodesFree),
			slog.Uint64("inodes_total", fs.Inodes))
		switch {
		case fs.InodesUsedPct >= t.inodesFull || fs.InodesFree == 0:
			out = append(out, triage.Finding{
				Code:     CodeInodesExhausted,
				Status:   triage.Fail,
				Summary:  fmt.Sprintf("%s is out of inodes: %.0f%% used, %d free of %d; new files fail with ENOSPC", fs.where(), fs.InodesUsedPct, fs.InodesFree, fs.Inodes),
				Evidence: ino,
				Command:  "df -i " + arg,
			})
		case fs.InodesUsedPct >= t.inodesLow:
			out = append(out, triage.Finding{
				Code:     CodeInodesLow,
				Status:   triage.Warn,
				Summary:  fmt.Sprintf("%s is low on inodes: %.0f%% used, %d free of %d", fs.where(), fs.InodesUsedPct, fs.InodesFree, fs.Inodes),
				Evidence: ino,
				Command:  "df -i " + arg,
			})
		}
	}
	if p := fs.Probe; p != nil && !p.OK {
		out = append(out, triage.Finding{
			Code:   CodeNotWritable,
			Status: triage.Fail,
			Summary: fmt.Sprintf("%s is not writable: %s in %s failed with %s",
				fs.where(), p.Op, p.Dir, p.Errno),
			Evidence: append(fs.base(), slog.String("errno", p.Errno), slog.String("op", p.Op), slog.String("probe_dir", p.Dir)),
			Command:  fmt.Sprintf("touch %s && rm %s", shellQuote(p.Dir+"/.triage-probe"), shellQuote(p.Dir+"/.triage-probe")),
		})
	}
	if g := fs.Growth; g != nil && g.TimeToFull != nil && *g.TimeToFull < t.fillingWithin && !full {
		st := triage.Warn
		if *g.TimeToFull < t.fillingWithin/6 {
			st = triage.Fail
		}
		out = append(out, triage.Finding{
			Code:   CodeFillingFast,
			Status: st,
			Summary: fmt.Sprintf("%s fills at %s/s: %s available lasts %s", fs.where(),
				humanBytes(uint64(g.BytesPerSec)), humanBytes(fs.Avail), g.TimeToFull.Round(time.Second)),
			Evidence: append(fs.base(), slog.Duration("time_to_full", *g.TimeToFull), slog.Float64("bytes_per_sec", g.BytesPerSec),
				slog.Uint64("avail_bytes", fs.Avail), slog.Duration("interval", g.Interval)),
			Command: "df -h " + arg + "; sleep 10; df -h " + arg,
		})
	}
	min := t.deletedMin
	if min == 0 {
		min = max(fs.Size/100, 1<<20)
	}
	for _, d := range fs.DeletedOpen {
		if d.Bytes < min {
			continue
		}
		st := triage.Warn
		if fs.UsedPct >= t.spaceLow || full {
			st = triage.Fail
		}
		out = append(out, triage.Finding{
			Code:   CodeDeletedOpen,
			Status: st,
			Summary: fmt.Sprintf("%s: process %d (%s) holds %s in %d deleted files, largest %s (%s)",
				fs.where(), d.PID, d.Process, humanBytes(d.Bytes), d.Files, d.Largest, humanBytes(d.LargestBytes)),
			Evidence: append(fs.base(), slog.Uint64("bytes", d.Bytes), slog.Int("pid", d.PID), slog.String("process", d.Process),
				slog.Int("files", d.Files), slog.String("largest", d.Largest)),
			Command: fmt.Sprintf("ls -l /proc/%d/fd | grep '(deleted)'", d.PID),
		})
	}
	return out
}

func humanBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%dB", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%c", float64(b)/float64(div), "KMGTPE"[exp])
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
