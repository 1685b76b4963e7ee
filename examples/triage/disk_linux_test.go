//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/internal/testmount"
)

// TestIntegrationPathFull: -path names a real filesystem that is full.
// The disk step says so from the numbers and from a write that fails with
// ENOSPC, and lists what eats the space; the service's own log, on the
// same filesystem, says it too.
func TestIntegrationPathFull(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=1m")
	logPath := filepath.Join(dir, "x.log")
	require.NoError(t, os.WriteFile(logPath,
		[]byte(time.Now().UTC().Format(time.RFC3339)+" ERROR write "+dir+"/spool/big: no space left on device\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "spool"), 0o755))
	f, err := os.Create(filepath.Join(dir, "spool", "big"))
	require.NoError(t, err)
	chunk := make([]byte, 64<<10)
	for err == nil {
		_, err = f.Write(chunk)
	}
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.NoError(t, f.Close())

	d := runDisk(t, dir, "-path", dir, "-log", logPath)
	disk, usage, codes := d.disk, d.usage, d.codes

	// Only the filesystem holding -path and the log, probed for writes.
	assert.Empty(t, d.diskErr)
	require.Len(t, disk.Filesystems, 1, "%+v", disk.Filesystems)
	fs := disk.Filesystems[0]
	assert.Equal(t, dir, fs.MountPoint)
	assert.Equal(t, "tmpfs", fs.Type)
	assert.Contains(t, fs.Paths, dir)
	assert.Equal(t, 100.0, fs.UsedPct)
	require.NotNil(t, fs.Probe, "-path asks for the writability probe")
	assert.False(t, fs.Probe.OK)
	assert.Equal(t, "ENOSPC", fs.Probe.Errno)
	assert.Contains(t, codes["diskcheck"], string(diskcheck.CodeFull))
	assert.Contains(t, codes["diskcheck"], string(diskcheck.CodeNotWritable))
	assert.Equal(t, "ENOSPC", d.evidence["diskcheck "+string(diskcheck.CodeNotWritable)]["errno"])

	// The largest consumers under -path, like du -sh DIR/* | sort -h.
	assert.Equal(t, dir, usage.Path)
	assert.False(t, usage.Partial)
	require.NotEmpty(t, usage.Consumers)
	top := usage.Consumers[0]
	assert.Equal(t, filepath.Join(dir, "spool"), top.Path)
	assert.True(t, top.Dir)
	assert.Greater(t, top.Bytes, uint64(900<<10), "the spool holds nearly all of the 1MiB")

	assert.Contains(t, codes["logscan"], "log.disk_full", "the log on the full filesystem was read")
	assert.Contains(t, d.hypotheses, "disk.full")

	t.Run("default: every filesystem and the log's", func(t *testing.T) {
		d := runDisk(t, dir, "-log", logPath)
		var mine *diskcheck.Filesystem
		for i, fs := range d.disk.Filesystems {
			if fs.MountPoint == dir {
				mine = &d.disk.Filesystems[i]
			}
		}
		require.NotNil(t, mine, "the log's filesystem in %+v", d.disk.Filesystems)
		assert.Equal(t, []string{dir}, mine.Paths, "named as the log's")
		assert.Greater(t, len(d.disk.Filesystems), 1, "the others are there too")
		assert.Nil(t, mine.Probe, "no writes without -path")
		assert.Contains(t, d.codes["diskcheck"], string(diskcheck.CodeFull))
		assert.NotContains(t, d.codes["diskcheck"], string(diskcheck.CodeNotWritable))
		assert.False(t, d.usageRan, "no walk without -path")
		assert.Contains(t, d.hypotheses, "disk.full")
	})
}

// diskRun is what the disk tests read from the JSON report.
type diskRun struct {
	disk       diskcheck.Result
	usage      diskcheck.UsageResult
	usageRan   bool
	diskErr    string
	codes      map[string][]string       // finding codes by check
	evidence   map[string]map[string]any // by "check code"
	hypotheses []string
}

// runDisk runs the command with -json and args; dir names the usage
// result to read.
func runDisk(t *testing.T, dir string, args ...string) diskRun {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"-json", "-timeout", "20s"}, args...), &out, &errb)
	assert.Equal(t, 1, code, "a full disk is trouble")
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "stdout: %s\nstderr: %s", out.String(), errb.String())
	d := diskRun{codes: map[string][]string{}, evidence: map[string]map[string]any{}}
	for _, h := range rep.Hypotheses {
		d.hypotheses = append(d.hypotheses, h.ID)
	}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			d.codes[r.Check] = append(d.codes[r.Check], f.Code)
			d.evidence[r.Check+" "+f.Code] = f.Evidence
		}
		switch r.Name {
		case "diskcheck":
			d.diskErr = r.Error
			require.NoError(t, r.typed(&d.disk))
		case "usage " + dir:
			require.Empty(t, r.Error)
			require.NoError(t, r.typed(&d.usage))
			d.usageRan = true
		}
	}
	return d
}
