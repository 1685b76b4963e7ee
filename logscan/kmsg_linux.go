package logscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// readKmsg reads every record /dev/kmsg holds without blocking: the
// device is opened non-blocking and read until EAGAIN.
func readKmsg(ctx context.Context, path string) ([]kmsgRecord, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var recs []kmsgRecord
	buf := make([]byte, 16<<10)
	for i := 0; ; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return recs, ctx.Err()
		}
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return recs, nil
		case errors.Is(err, unix.EPIPE):
			continue // the record was overwritten while we read; go on
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return recs, &os.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return recs, nil
		}
		if r, ok := parseKmsg(buf[:n]); ok {
			// The text points into buf, which the next read overwrites.
			r.text = bytes.Clone(r.text)
			recs = append(recs, r)
		}
		if i > 1<<20 {
			return recs, nil
		}
	}
}

// bootTime is the wall time the kernel log's clock counts from.
func bootTime(now time.Time) time.Time {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return time.Time{}
	}
	return now.Add(-time.Duration(ts.Nano()))
}

// readKernel reads the kernel log: /dev/kmsg, or dmesg when the device
// cannot be opened.
func readKernel(ctx context.Context, a *agg, c config) Source {
	src := Source{Name: "kernel"}
	a.setSource("kernel", true)
	defer a.flush()
	recs, err := readKmsg(ctx, c.kmsg)
	if err != nil && len(recs) == 0 && ctx.Err() == nil {
		if drecs, derr := readDmesg(ctx); derr == nil {
			recs, err = drecs, nil
			src.Via = "dmesg"
		}
	}
	if err != nil {
		src.setErr(fmt.Errorf("kernel log: %w", err))
	}
	for _, r := range recs {
		src.Bytes += int64(len(r.text))
	}
	src.Lines = feedKernel(a, recs, c, bootTime(c.now))
	return src
}
