package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
)

const (
	// diskBytes is the size of the tmpfs the server logs to.
	diskBytes = 1 << 20
	// dumpBytes is what each request logs: verbose debug logging left on.
	dumpBytes = 16 << 10
	// maxRequests bounds the traffic that fills the disk, which takes
	// about diskBytes/dumpBytes requests.
	maxRequests = 512
)

// setupDisk mounts a 1 MiB tmpfs, starts the server with its request log
// on it and sends requests until the log no longer fits. The server logs
// the failed write to its standard error (kept on the ordinary disk, as
// journald would) and answers 500. The checks are the routine's steps 2
// and 5 plus the request: logscan on the server's log, diskcheck on the
// log directory (df -h, and a write probe) and probe.HTTP; what takes the
// space (du -sh * | sort -h) is noted. Expected: 5xx.disk_full.
func setupDisk(ctx context.Context, l *lab) (*fault, error) {
	if os.Geteuid() != 0 {
		return nil, skipError{fmt.Sprintf("needs root to mount a %d MiB tmpfs (run it with sudo)", diskBytes>>20)}
	}
	logs := filepath.Join(l.dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		return nil, err
	}
	if err := unix.Mount("tmpfs", logs, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, fmt.Sprintf("size=%d,mode=0755", diskBytes)); err != nil {
		return nil, skipError{fmt.Sprintf("cannot mount a tmpfs on %s: %v", logs, err)}
	}
	l.atEnd(func() {
		if err := unix.Unmount(logs, 0); err != nil {
			_ = unix.Unmount(logs, unix.MNT_DETACH)
		}
	})
	srv, err := l.startServer(serverOptions{requestLog: filepath.Join(logs, "requests.log"), logBytes: dumpBytes})
	if err != nil {
		return nil, err
	}
	target := srv.url("/orders")
	before, err := works(ctx, probe.HTTPOptions{URL: target})
	if err != nil {
		return nil, err
	}
	n, err := fillUntil5xx(ctx, target)
	if err != nil {
		return nil, err
	}
	return &fault{
		before: before,
		broke: fmt.Sprintf("the server (pid %d) logs %d KiB per request to %s, a %d MiB tmpfs; request %d found it full",
			srv.pid, dumpBytes>>10, logs, diskBytes>>20, n),
		targets: []string{"probe.http"},
		checks: []triage.Check{
			httpCheck("probe.http", probe.HTTPOptions{URL: target}),
			triage.Func("logscan", func(ctx context.Context) logscan.Result {
				return logscan.Check(ctx, logscan.Options{Files: []string{l.appLog}, Since: 10 * time.Minute})
			}),
			triage.Func("diskcheck", func(ctx context.Context) diskcheck.Result {
				return diskcheck.Check(ctx, diskcheck.Options{Paths: []string{logs}, Probe: true})
			}),
		},
		notes: consumers(ctx, logs),
	}, nil
}

// consumers says what takes the space under dir, as du -sh * | sort -h
// would. It runs on its own, before the checks: beside diskcheck.Check on
// the same mount, Usage's statfs can be joined by Check's, which then
// gets no value and panics outside the runner's reach.
func consumers(ctx context.Context, dir string) []string {
	u := diskcheck.Usage(ctx, diskcheck.UsageOptions{Path: dir, Top: 3})
	if u.Err != nil {
		return nil
	}
	out := []string{fmt.Sprintf("%d KiB used under %s ($ du -xsh %s/* | sort -h)", u.Bytes>>10, dir, dir)}
	for _, c := range u.Consumers {
		out = append(out, fmt.Sprintf("  %6d KiB  %s", c.Bytes>>10, c.Path))
	}
	return out
}

// fillUntil5xx sends requests, as users would, until one fails with a 5xx
// answer, and returns its number.
func fillUntil5xx(ctx context.Context, url string) (int, error) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: probeTimeout}
	for i := 1; i <= maxRequests; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return i, nil
		}
	}
	return 0, errors.New("the disk did not fill")
}
