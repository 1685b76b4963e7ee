package diskcheck

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/triagekit/triage"
	"golang.org/x/sys/unix"
)

const maxUnreadable = 100

func usage(ctx context.Context, o *UsageOptions, r *UsageResult) error {
	if o.Path == "" {
		return fmt.Errorf("%w: empty path", triage.ErrInvalid)
	}
	if strings.IndexByte(o.Path, 0) >= 0 {
		return fmt.Errorf("%w: path %q", triage.ErrInvalid, o.Path)
	}
	if o.Depth < 0 {
		return fmt.Errorf("%w: negative depth %d", triage.ErrInvalid, o.Depth)
	}
	if o.Workers < 0 || o.StatfsTimeout < 0 {
		return fmt.Errorf("%w: negative workers or timeout", triage.ErrInvalid)
	}
	if o.PID < 0 {
		return fmt.Errorf("%w: negative pid %d", triage.ErrInvalid, o.PID)
	}
	if o.PID > 0 && !filepath.IsAbs(o.Path) {
		return fmt.Errorf("%w: %s: a path in pid %d must be absolute", triage.ErrInvalid, o.Path, o.PID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	timeout := cmp.Or(o.StatfsTimeout, DefaultStatfsTimeout)
	procRoot := cmp.Or(o.ProcRoot, "/proc")
	v := hostView
	var abs string
	var mounts []mount
	var err error
	if o.PID > 0 {
		if v, mounts, err = openView(procRoot, o.PID); err != nil {
			return err
		}
		defer v.close()
		abs = filepath.Clean(o.Path)
	} else {
		if abs, err = filepath.Abs(o.Path); err != nil {
			return fmt.Errorf("%w: %w", triage.ErrInvalid, err)
		}
		if mounts, err = readMountinfo(procRoot); err != nil {
			return err
		}
	}
	vis := visible(mounts)

	// Ask the mount first, through the guard Check uses: a walk into a
	// stuck mount would block in the kernel on its first getdents.
	if m, ok := holder(vis, abs); ok {
		if _, _, err := statfsResult(startStatfsIn(v, m.point, time.Now).wait(ctx, timeout)); errors.Is(err, ErrStuckMount) {
			return err
		}
	}
	resolved, _, err := calls.do(ctx, v.key("resolve", abs), timeout, func() (any, error) {
		if v.root == nil {
			return filepath.EvalSymlinks(abs)
		}
		return v.realpath(abs)
	})
	if err != nil {
		return err
	}
	root := resolved.(string)

	var st unix.Stat_t
	if err := v.lstat(root, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: root, Err: err}
	}
	r.Bytes = uint64(st.Blocks) * 512
	r.ApparentBytes = uint64(st.Size)
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		r.Files = 1
		r.Consumers = []Consumer{{Path: root, Bytes: r.Bytes, ApparentBytes: r.ApparentBytes, Entries: 1}}
		return nil
	}
	r.Dirs = 1

	w := &walker{
		ctx:      ctx,
		view:     v,
		rootDev:  st.Dev,
		maxDepth: max(o.Depth, 1),
		topN:     o.Top,
		cross:    o.CrossMounts,
		mounts:   map[string]bool{},
		live:     map[*accum]struct{}{},
		hook:     o.afterReadDir,
	}
	if w.topN == 0 {
		w.topN = 10
	}
	if !w.cross {
		for _, m := range vis {
			if m.point != root && under(m.point, root) {
				w.mounts[m.point] = true
			}
		}
	}
	if w.cross {
		w.dirsSeen.add(st.Dev, st.Ino)
	}
	w.cond = sync.NewCond(&w.mu)
	workers := o.Workers
	if workers == 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	w.stack = append(w.stack, task{path: root, depth: 0})
	w.run(workers)

	r.Bytes += w.bytes.Load()
	r.ApparentBytes += w.apparent.Load()
	r.Files = w.files.Load()
	r.Dirs += w.dirs.Load()
	r.Vanished = int(w.vanished.Load())
	// A worker left stuck in a dead filesystem may still write when it
	// returns: what it shares is read under the lock and copied.
	w.resMu.Lock()
	r.Unreadable = slices.Clone(w.unreadable)
	r.UnreadableCount = w.unreadableCount
	r.SkippedMounts = slices.Clone(w.skipped)
	live := make([]*accum, 0, len(w.live))
	for a := range w.live {
		live = append(live, a)
	}
	w.resMu.Unlock()
	sort.Strings(r.SkippedMounts)
	w.mu.Lock()
	r.Partial = w.partial
	w.mu.Unlock()
	for _, a := range live {
		// Only a cut walk leaves consumers unfinished.
		w.offer(a.consumer(true))
	}
	w.resMu.Lock()
	r.Consumers = w.top.sorted()
	w.resMu.Unlock()
	if r.Partial {
		return fmt.Errorf("walk of %s stopped before the end: %w", root, ctx.Err())
	}
	if r.UnreadableCount > 0 && len(r.Unreadable) > 0 && r.Unreadable[0].Path == root {
		return r.Unreadable[0].Err
	}
	return nil
}

type task struct {
	path  string
	depth int
	acc   *accum // the consumer this directory belongs to, nil above Depth
}

// accum sums a directory consumer while its subtree is walked. pending
// counts its directories not yet read; the last one to finish offers it.
type accum struct {
	path            string
	bytes, apparent atomic.Uint64
	entries         atomic.Uint64
	pending         atomic.Int64
}

func (a *accum) consumer(partial bool) Consumer {
	return Consumer{Path: a.path, Bytes: a.bytes.Load(), ApparentBytes: a.apparent.Load(),
		Entries: a.entries.Load(), Dir: true, Partial: partial}
}

type walker struct {
	ctx      context.Context
	view     view // where directories are opened
	rootDev  uint64
	maxDepth int
	topN     int
	cross    bool
	mounts   map[string]bool // mount points under the root, not entered
	hook     func(string)

	mu      sync.Mutex
	cond    *sync.Cond
	stack   []task // LIFO keeps the walk deep and the stack short
	active  int
	stopped bool
	partial bool
	cut     atomic.Bool // a directory was left half read

	bytes, apparent, files, dirs, vanished atomic.Uint64

	links    inodeSet // files with more than one link, to count them once
	dirsSeen inodeSet // directories, only when crossing mounts (bind loops)

	resMu           sync.Mutex
	top             topHeap
	live            map[*accum]struct{}
	unreadable      []WalkError
	unreadableCount int
	skipped         []string
}

func (w *walker) run(workers int) {
	stop := context.AfterFunc(w.ctx, func() {
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		w.cond.Broadcast()
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work()
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-w.ctx.Done():
		// Workers stop at their next directory. One stuck in a system
		// call on a dead filesystem (crossing into a hung network or
		// FUSE mount) cannot be stopped: it is left behind, and the walk
		// returns by its deadline, partial.
		t := time.NewTimer(abandonAfter)
		select {
		case <-done:
		case <-t.C:
			w.cut.Store(true)
		}
		t.Stop()
	}
	stop()
	// A deadline that hits after the last directory was read cuts nothing.
	w.mu.Lock()
	w.partial = len(w.stack) > 0 || w.cut.Load()
	w.mu.Unlock()
}

// abandonAfter is how long a walk whose context ended waits for its
// workers before it leaves those that are stuck.
const abandonAfter = 100 * time.Millisecond

func (w *walker) work() {
	buf := make([]byte, 32<<10)
	var children []task
	for {
		w.mu.Lock()
		for len(w.stack) == 0 && w.active > 0 && !w.stopped {
			w.cond.Wait()
		}
		if w.stopped || len(w.stack) == 0 {
			w.mu.Unlock()
			w.cond.Broadcast()
			return
		}
		t := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.active++
		w.mu.Unlock()

		children = w.readDir(t, buf, children[:0])

		w.mu.Lock()
		w.active--
		w.stack = append(w.stack, children...)
		idle := w.active == 0 && len(w.stack) == 0
		w.mu.Unlock()
		switch {
		case idle:
			w.cond.Broadcast()
		case len(children) > 1:
			w.cond.Broadcast()
		case len(children) == 1:
			w.cond.Signal()
		}
		clear(children)
	}
}

// readDir stats every entry of t's directory, relative to its descriptor,
// and returns the subdirectories to walk.
func (w *walker) readDir(t task, buf []byte, children []task) []task {
	defer w.done(t.acc)
	fd, err := w.view.openDir(t.path)
	if err != nil {
		if err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ELOOP {
			w.vanished.Add(1)
		} else {
			w.unreadableDir(t.path, "open", err)
		}
		return children
	}
	defer unix.Close(fd)

	var bytes, apparent, files, dirs uint64
	var fileBytes, fileApparent, entries uint64 // for t.acc
	var st unix.Stat_t
	childDepth := t.depth + 1
	hooked := false
	for {
		if w.ctx.Err() != nil {
			w.cut.Store(true)
			break
		}
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			w.unreadableDir(t.path, "getdents", err)
			break
		}
		if n <= 0 {
			break
		}
		if w.hook != nil && !hooked {
			hooked = true
			w.hook(t.path)
		}
		for off := 0; off < n; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(buf[off+16]) | int(buf[off+17])<<8
			rec := buf[off : off+reclen]
			off += reclen
			name := rec[19:]
			nul := 0
			for nul < len(name) && name[nul] != 0 {
				nul++
			}
			if nul == len(name) {
				continue
			}
			name = name[:nul+1]
			if (nul == 1 && name[0] == '.') || (nul == 2 && name[0] == '.' && name[1] == '.') {
				continue
			}
			// A mount point below the walk is skipped before it is
			// stat'ed: stat asks the mounted filesystem, and a dead one
			// (a network mount, a FUSE daemon that answers statfs only)
			// would hold this thread for good.
			if !w.cross && rec[18] == unix.DT_DIR && len(w.mounts) > 0 {
				if p := join(t.path, string(name[:nul])); w.mounts[p] {
					w.skip(p)
					continue
				}
			}
			if err := fstatat(fd, name, &st); err != nil {
				if err == unix.ENOENT {
					w.vanished.Add(1)
				} else {
					w.unreadableDir(join(t.path, string(name[:nul])), "fstatat", err)
				}
				continue
			}
			size := uint64(st.Blocks) * 512
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				if st.Nlink > 1 && !w.links.add(st.Dev, st.Ino) {
					continue
				}
				files++
				bytes += size
				apparent += uint64(st.Size)
				if t.acc == nil {
					// A file at or above Depth is a consumer of its own.
					w.offer(Consumer{Path: join(t.path, string(name[:nul])), Bytes: size, ApparentBytes: uint64(st.Size), Entries: 1})
				} else {
					entries++
					fileBytes += size
					fileApparent += uint64(st.Size)
				}
				continue
			}
			path := join(t.path, string(name[:nul]))
			if !w.cross && (st.Dev != w.rootDev || w.mounts[path]) {
				w.skip(path)
				continue
			}
			if w.cross && !w.dirsSeen.add(st.Dev, st.Ino) {
				continue
			}
			dirs++
			bytes += size
			apparent += uint64(st.Size)
			acc := t.acc
			if acc == nil && childDepth >= w.maxDepth {
				acc = &accum{path: path}
				w.resMu.Lock()
				w.live[acc] = struct{}{}
				w.resMu.Unlock()
			}
			if acc != nil {
				acc.bytes.Add(size)
				acc.apparent.Add(uint64(st.Size))
				acc.entries.Add(1)
				acc.pending.Add(1)
			}
			children = append(children, task{path: path, depth: childDepth, acc: acc})
		}
	}
	w.bytes.Add(bytes)
	w.apparent.Add(apparent)
	w.files.Add(files)
	w.dirs.Add(dirs)
	if t.acc != nil && entries > 0 {
		t.acc.bytes.Add(fileBytes)
		t.acc.apparent.Add(fileApparent)
		t.acc.entries.Add(entries)
	}
	return children
}

// done marks one directory of a consumer as read; the last one offers it.
func (w *walker) done(a *accum) {
	if a == nil || a.pending.Add(-1) != 0 {
		return
	}
	w.resMu.Lock()
	delete(w.live, a)
	w.resMu.Unlock()
	w.offer(a.consumer(false))
}

func (w *walker) offer(c Consumer) {
	w.resMu.Lock()
	defer w.resMu.Unlock()
	if w.topN < 0 || w.top.Len() < w.topN {
		heap.Push(&w.top, c)
		return
	}
	if c.Bytes > w.top[0].Bytes {
		w.top[0] = c
		heap.Fix(&w.top, 0)
	}
}

func (w *walker) unreadableDir(path, op string, err error) {
	errno, _ := err.(syscall.Errno)
	w.resMu.Lock()
	defer w.resMu.Unlock()
	w.unreadableCount++
	if len(w.unreadable) < maxUnreadable {
		w.unreadable = append(w.unreadable, WalkError{Path: path, Errno: unix.ErrnoName(errno), Err: &os.PathError{Op: op, Path: path, Err: err}})
	}
}

func (w *walker) skip(path string) {
	w.resMu.Lock()
	w.skipped = append(w.skipped, path)
	w.resMu.Unlock()
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// inodeSet is a set of (device, inode) pairs, sharded to keep workers from
// queueing on one lock.
type inodeSet struct {
	shards [64]struct {
		mu sync.Mutex
		m  map[[2]uint64]struct{}
	}
}

// add reports whether the pair was new.
func (s *inodeSet) add(dev, ino uint64) bool {
	sh := &s.shards[ino%uint64(len(s.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = map[[2]uint64]struct{}{}
	}
	k := [2]uint64{dev, ino}
	if _, ok := sh.m[k]; ok {
		return false
	}
	sh.m[k] = struct{}{}
	return true
}

// topHeap is a min-heap by bytes, so the smallest of the kept consumers is
// the one replaced.
type topHeap []Consumer

func (h topHeap) Len() int { return len(h) }
func (h topHeap) Less(i, j int) bool {
	if h[i].Bytes != h[j].Bytes {
		return h[i].Bytes < h[j].Bytes
	}
	return h[i].Path > h[j].Path
}
func (h topHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)   { *h = append(*h, x.(Consumer)) }
func (h *topHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

func (h topHeap) sorted() []Consumer {
	out := make([]Consumer, len(h))
	copy(out, h)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Path < out[j].Path
	})
	return out
}
