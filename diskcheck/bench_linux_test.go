package diskcheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// benchTree makes a tree of n files (default 200,000; DISKCHECK_BENCH_FILES
// overrides it) in directories of 100, two levels deep, with sizes from 0
// to 8 KiB and some hard links. Making it takes longer than walking it: set
// DISKCHECK_BENCH_DIR to keep the tree there between runs.
func benchTree(b *testing.B) (string, int) {
	n := 200_000
	if s := os.Getenv("DISKCHECK_BENCH_FILES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	root := os.Getenv("DISKCHECK_BENCH_DIR")
	if root == "" {
		root = b.TempDir()
	} else if _, err := os.Stat(root + "/done"); err == nil {
		return root, n
	}
	data := make([]byte, 8<<10)
	dirs := (n + 99) / 100
	for d := range dirs {
		dir := fmt.Sprintf("%s/top%02d/dir%04d", root, d%20, d)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < 100 && d*100+f < n; f++ {
			name := fmt.Sprintf("%s/f%03d", dir, f)
			if f == 99 && d > 0 {
				// Every hundredth file is a second name of another one.
				if err := os.Link(fmt.Sprintf("%s/top%02d/dir%04d/f000", root, (d-1)%20, d-1), name); err != nil {
					b.Fatal(err)
				}
				continue
			}
			if err := os.WriteFile(name, data[:(d*100+f)%len(data)], 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(root+"/done", nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return root, n
}

// BenchmarkUsage compares the walk with du on the same tree, warm cache,
// in one run:
//
//	go test -run '^$' -bench Usage -benchtime 10x ./diskcheck/
func BenchmarkUsage(b *testing.B) {
	root, _ := benchTree(b)
	want := duBytes(b, root)

	b.Run("walker", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := Usage(context.Background(), UsageOptions{Path: root, Top: 10})
			if r.Err != nil || r.Bytes != want {
				b.Fatalf("walk: %v, %d bytes, du says %d", r.Err, r.Bytes, want)
			}
		}
	})
	b.Run("du-s", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("du", "-s", "-x", root).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("du-sh-star-sort", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command("sh", "-c", "du -sh * | sort -h")
			cmd.Dir = root
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUsageVsDu alternates one walk and one du -s on the same tree in
// every iteration, so that both see the same load on a shared machine, and
// reports their times and the ratio:
//
//	go test -run '^$' -bench UsageVsDu -benchtime 20x ./diskcheck/
func BenchmarkUsageVsDu(b *testing.B) {
	root, _ := benchTree(b)
	want := duBytes(b, root)
	var walk, du time.Duration
	for b.Loop() {
		start := time.Now()
		r := Usage(context.Background(), UsageOptions{Path: root, Top: 10})
		walk += time.Since(start)
		if r.Err != nil || r.Bytes != want {
			b.Fatalf("walk: %v, %d bytes, du says %d", r.Err, r.Bytes, want)
		}
		start = time.Now()
		if err := exec.Command("du", "-s", "-x", root).Run(); err != nil {
			b.Fatal(err)
		}
		du += time.Since(start)
	}
	b.ReportMetric(float64(walk.Nanoseconds())/float64(b.N), "walk-ns/op")
	b.ReportMetric(float64(du.Nanoseconds())/float64(b.N), "du-ns/op")
	b.ReportMetric(float64(du)/float64(walk), "du/walk")
}

// BenchmarkUsageInRoot is the walk of BenchmarkUsage made as a container's
// is (UsageOptions.PID), with this process standing for the container:
// each directory is opened with openat2 inside the root instead of by
// path. Both run in one process so that the difference is the opening:
//
//	go test -run '^$' -bench UsageInRoot -count 6 ./diskcheck/
func BenchmarkUsageInRoot(b *testing.B) {
	root, _ := benchTree(b)
	want := duBytes(b, root)
	for _, pid := range []int{0, os.Getpid()} {
		name := "by-path"
		if pid > 0 {
			name = "in-root"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := Usage(context.Background(), UsageOptions{Path: root, Top: 10, PID: pid})
				if r.Err != nil || r.Bytes != want {
					b.Fatalf("walk: %v, %d bytes, du says %d", r.Err, r.Bytes, want)
				}
			}
		})
	}
}
