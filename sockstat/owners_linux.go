//go:build linux

package sockstat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/triagekit/triage/internal/procfs"
)

// headFDs is how many descriptors of each process the first pass reads.
// Listening sockets are opened early, so their descriptors are low: a
// first pass over the head of every fd table finds most owners without
// reading the tables of processes holding thousands of connections.
const headFDs = 64

// manyOwners is how many sockets make a search for owners a search of
// every descriptor table, in one pass.
const manyOwners = 1024

// findOwners fills want (socket inode -> processes) by reading the fd
// tables under procRoot, like ss -p, in parallel. It stops once every
// inode has an owner or the context ends; processes that vanish or that
// it may not read are skipped. One owner is recorded per socket.
func findOwners(ctx context.Context, procRoot string, want map[uint64][]Process) error {
	if len(want) == 0 {
		return nil
	}
	d, err := os.Open(procRoot)
	if err != nil {
		return fmt.Errorf("sockstat: owners: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("sockstat: owners: %w", err)
	}
	pids := names[:0]
	for _, n := range names {
		if n != "" && n[0] >= '0' && n[0] <= '9' {
			pids = append(pids, n)
		}
	}
	o := ownerScan{ctx: ctx, root: procRoot, want: want, found: make(map[uint64]Process, len(want))}
	o.left.Store(int64(len(want)))
	if len(want) > manyOwners {
		// The sockets of a whole listing are held by the processes with
		// the most descriptors: read every table once.
		o.pass(pids, 0, -1)
	} else if rest := o.pass(pids, 0, headFDs); o.left.Load() > 0 && len(rest) > 0 {
		o.pass(rest, headFDs, -1)
	}
	for ino, p := range o.found {
		want[ino] = []Process{p}
	}
	if left := o.left.Load(); left > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sockstat: owners of %d sockets: %w", left, err)
		}
		if n := o.denied.Load(); n > 0 {
			return fmt.Errorf("sockstat: owners of %d sockets unknown, %d processes unreadable: %w", left, n, os.ErrPermission)
		}
	}
	return nil
}

type ownerScan struct {
	ctx    context.Context
	root   string
	want   map[uint64][]Process // read-only while scanning
	left   atomic.Int64
	denied atomic.Int64
	mu     sync.Mutex
	found  map[uint64]Process
}

func (o *ownerScan) stop() bool { return o.left.Load() <= 0 || o.ctx.Err() != nil }

// pass reads descriptors [skip, skip+limit) (limit < 0: to the end) of
// each process on a few workers and returns the processes that have more.
func (o *ownerScan) pass(pids []string, skip, limit int) (more []string) {
	var (
		wg      sync.WaitGroup
		jobs    = make(chan string)
		moreMu  sync.Mutex
		workers = min(8, max(2, 2*runtime.GOMAXPROCS(0)))
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 128)
			for pid := range jobs {
				if o.stop() {
					continue
				}
				hits, truncated, err := o.scanFDs(filepath.Join(o.root, pid, "fd"), skip, limit, buf)
				if errors.Is(err, os.ErrPermission) {
					o.denied.Add(1)
				}
				if truncated {
					moreMu.Lock()
					more = append(more, pid)
					moreMu.Unlock()
				}
				if len(hits) > 0 {
					o.record(pid, hits)
				}
			}
		}()
	}
	for _, pid := range pids {
		if o.stop() {
			break
		}
		jobs <- pid
	}
	close(jobs)
	wg.Wait()
	return more
}

func (o *ownerScan) record(pid string, hits []uint64) {
	p, _ := strconv.Atoi(pid)
	proc := Process{PID: p}
	if b, err := procfs.ReadFile(filepath.Join(o.root, pid, "comm")); err == nil {
		proc.Name = string(bytes.TrimSpace(b))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ino := range hits {
		if _, ok := o.found[ino]; !ok {
			o.found[ino] = proc
			o.left.Add(-1)
		}
	}
}

// scanFDs returns the wanted socket inodes among a process's open files
// [skip, skip+limit), and whether the table goes on past them.
func (o *ownerScan) scanFDs(dir string, skip, limit int, buf []byte) (hits []uint64, truncated bool, err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	if skip > 0 {
		if _, err := f.Readdirnames(skip); err != nil {
			return nil, false, nil // the table shrank or the process left
		}
	}
	names, err := f.Readdirnames(limit)
	if err != nil {
		return nil, false, nil
	}
	truncated = limit > 0 && len(names) == limit
	for i, n := range names {
		if i%256 == 255 && o.stop() {
			break
		}
		k, err := unix.Readlinkat(fd, n, buf)
		if err != nil || k < 10 || k == len(buf) {
			continue
		}
		rest, ok := bytes.CutPrefix(buf[:k], []byte("socket:["))
		if !ok || rest[len(rest)-1] != ']' {
			continue
		}
		ino, ok := parseInode(rest[:len(rest)-1])
		if !ok {
			continue
		}
		if _, ok := o.want[ino]; ok {
			hits = append(hits, ino)
		}
	}
	return hits, truncated, nil
}

// parseInode reads the decimal inode of "socket:[INODE]".
func parseInode(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
