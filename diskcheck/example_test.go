package diskcheck_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/triagekit/triage/diskcheck"
)

func ExampleCheck() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The filesystem holding "/". The zero Options look at every real
	// filesystem; Probe, GrowthInterval and DeletedOpen add the rest.
	r := diskcheck.Check(ctx, diskcheck.Options{Paths: []string{"/"}})
	for _, fs := range r.Filesystems {
		switch {
		case errors.Is(fs.Err, diskcheck.ErrStuckMount):
			fmt.Println(fs.MountPoint, "does not answer")
		case fs.Err != nil:
			fmt.Println(fs.MountPoint, "could not tell:", fs.Err)
		default:
			fmt.Println(fs.MountPoint, "measured:", fs.Size > 0)
		}
	}
	// r.Findings says what is wrong, such as
	// "fail disk.full: /var (/dev/sda3) is full: 100% used, 0B available of 20.0GiB",
	// and r.Status is the worst of them.
	// Output:
	// / measured: true
}

func ExampleUsage() {
	dir, _ := os.MkdirTemp("", "usage")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	os.WriteFile(filepath.Join(dir, "logs", "app.log"), make([]byte, 1<<20), 0o644)
	os.WriteFile(filepath.Join(dir, "core.dump"), make([]byte, 256<<10), 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("hi"), 0o644)

	// Like du -sh * | sort -h, largest first.
	r := diskcheck.Usage(context.Background(), diskcheck.UsageOptions{Path: dir, Top: 2})
	for _, c := range r.Consumers {
		fmt.Println(filepath.Base(c.Path), c.ApparentBytes >= 256<<10, c.Dir)
	}
	fmt.Println(r.Files, "files,", r.Partial)
	// Output:
	// logs true true
	// core.dump true false
	// 3 files, false
}
