package process

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	gopsproc "github.com/shirou/gopsutil/v4/process"
	"github.com/stretchr/testify/require"
)

// BenchmarkProcessLookup finds one process by exact name among all and
// reads what ps shows for it, three ways: this package (with a 1ns window,
// so the sleep does not count), gopsutil's process listing with the same
// details, and pgrep as a whole program.
func BenchmarkProcessLookup(b *testing.B) {
	dir := b.TempDir()
	name := "probe-bench-target"
	sleep, err := exec.LookPath("sleep")
	require.NoError(b, err)
	data, err := os.ReadFile(sleep)
	require.NoError(b, err)
	bin := filepath.Join(dir, name)
	require.NoError(b, os.WriteFile(bin, data, 0o755))
	cmd := exec.Command(bin, "600")
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	comm := name[:15]
	ctx := context.Background()

	b.Run("probe", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := Check(ctx, Options{Name: name, Window: time.Nanosecond, TopThreads: -1})
			if len(r.Processes) != 1 {
				b.Fatalf("found %d", len(r.Processes))
			}
		}
	})
	b.Run("gopsutil", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ps, err := gopsproc.ProcessesWithContext(ctx)
			if err != nil {
				b.Fatal(err)
			}
			found := 0
			for _, p := range ps {
				n, err := p.NameWithContext(ctx)
				if err != nil || n != name {
					continue
				}
				found++
				_, _ = p.PpidWithContext(ctx)
				_, _ = p.StatusWithContext(ctx)
				_, _ = p.CmdlineWithContext(ctx)
				_, _ = p.UsernameWithContext(ctx)
				_, _ = p.MemoryInfoWithContext(ctx)
				_, _ = p.NumThreadsWithContext(ctx)
				_, _ = p.NumFDsWithContext(ctx)
				_, _ = p.RlimitWithContext(ctx)
				_, _ = p.CreateTimeWithContext(ctx)
				_, _ = p.TimesWithContext(ctx)
			}
			if found != 1 {
				b.Fatalf("found %d", found)
			}
		}
	})
	b.Run("pgrep", func(b *testing.B) {
		if _, err := exec.LookPath("pgrep"); err != nil {
			b.Skip("no pgrep")
		}
		for b.Loop() {
			if err := exec.Command("pgrep", "-x", comm).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
