package logscan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// benchEnd is about the time of the last line of generated logs.
var benchEnd = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// genLog writes about size bytes of a service log: mostly access lines,
// some warnings, errors with dependency failures and now and then a Java
// stack trace; one line every 10 ms, the last at benchEnd.
func genLog(tb testing.TB, path string, size int64) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Lines are ~120 bytes; work out how many to end at benchEnd.
	n := int(size / 120)
	w := bufio.NewWriterSize(f, 1<<20)
	start := benchEnd.Add(-time.Duration(n) * 10 * time.Millisecond)
	var written int64
	for i := 0; written < size; i++ {
		ts := start.Add(time.Duration(i) * 10 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		var k int
		switch {
		case i%5000 == 4999:
			k, _ = fmt.Fprintf(w, "%s ERROR [exec-%d] c.e.Orders - order %d failed\njava.lang.IllegalStateException: stock %d\n\tat com.example.Orders.place(Orders.java:%d)\n\tat com.example.Api.handle(Api.java:88)\n", ts, i%16, i, i%7, i%300)
		case i%331 == 0:
			k, _ = fmt.Fprintf(w, "%s ERROR call failed: dial tcp 10.0.%d.5:5432: connect: connection refused req_id=%08x\n", ts, i%4, i)
		case i%127 == 0:
			k, _ = fmt.Fprintf(w, "%s WARN slow request GET /api/v1/items/%d took %dms req_id=%08x\n", ts, i, 900+i%700, i)
		default:
			k, _ = fmt.Fprintf(w, "%s INFO http: GET /api/v1/items/%d status=200 bytes=%d dur=%d.%dms req_id=%08x\n", ts, i, 300+i%5000, i%40, i%10, i)
		}
		written += int64(k)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkScan measures the tail window, a since window and a whole-file
// window on a generated 10 MB log, and on 1 GiB with TRIAGE_BENCH_BIG=1,
// next to grep -F, tail | grep and a bare bytes.Index over the same file.
// Generating the gigabyte takes longer than measuring it: set
// TRIAGE_BENCH_LOGDIR to keep the logs there between runs (the caller
// removes them).
func BenchmarkScan(b *testing.B) {
	sizes := []struct {
		name string
		size int64
	}{{"10MB", 10 << 20}}
	if os.Getenv("TRIAGE_BENCH_BIG") == "1" {
		sizes = append(sizes, struct {
			name string
			size int64
		}{"1GiB", 1 << 30})
	}
	dir := os.Getenv("TRIAGE_BENCH_LOGDIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, sz := range sizes {
		p := filepath.Join(dir, "app-"+sz.name+".log")
		if fi, err := os.Stat(p); err != nil || fi.Size() < sz.size {
			genLog(b, p, sz.size)
		}
		fi, _ := os.Stat(p)
		warm(b, p)
		last, err := Tail(context.Background(), p, 1)
		if err != nil || len(last) != 1 {
			b.Fatal(err)
		}
		end := last[0].Time
		now := func() time.Time { return end }

		b.Run("tail200/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := Check(context.Background(), Options{Files: []string{p}, Lines: 200, Now: now, Location: time.UTC})
				if r.Lines != 200 || r.Err != nil {
					b.Fatalf("lines %d err %v", r.Lines, r.Err)
				}
			}
		})
		b.Run("since10m/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := Check(context.Background(), Options{Files: []string{p}, Since: 10 * time.Minute, Now: now, Location: time.UTC})
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
		b.Run("whole/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(fi.Size())
			for b.Loop() {
				r := Check(context.Background(), Options{Files: []string{p}, Since: 1000 * 24 * time.Hour, MaxBytes: fi.Size(), Now: now, Location: time.UTC})
				if r.Err != nil || r.ErrorLines == 0 {
					b.Fatal(r.Err)
				}
			}
		})
		b.Run("bytesIndex/"+sz.name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			buf := make([]byte, chunkSize)
			for b.Loop() {
				f, _ := os.Open(p)
				n := 0
				for {
					k, err := io.ReadFull(f, buf)
					n += bytes.Count(buf[:k], []byte("ERROR"))
					if err != nil {
						break
					}
				}
				f.Close()
			}
		})
		grep, err := exec.LookPath("grep")
		if err != nil {
			continue
		}
		run := func(b *testing.B, name string, args ...string) {
			out, err := exec.Command(name, args...).Output()
			if err != nil || len(out) == 0 {
				b.Fatalf("%s %v: %v %q", name, args, err, out)
			}
		}
		b.Run("grepF/"+sz.name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			for b.Loop() {
				run(b, grep, "-cF", "ERROR", p)
			}
		})
		args := []string{"-cF"}
		for _, l := range defaultLiterals {
			args = append(args, "-e", l)
		}
		b.Run("grepFAll/"+sz.name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			for b.Loop() {
				run(b, grep, append(args, p)...)
			}
		})
		b.Run("tailGrep/"+sz.name, func(b *testing.B) {
			for b.Loop() {
				run(b, "sh", "-c", "tail -n 200 "+p+" | grep -cE 'ERROR|Exception'")
			}
		})
	}
}

// warm reads the file once so every run finds it in the page cache.
func warm(b *testing.B, p string) {
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, f)
	f.Close()
}
