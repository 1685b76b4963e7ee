package logscan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/triagekit/triage"
)

// Tail returns the last n lines of the file at path, like tail -n, each
// parsed for its time, level, message and trace id. It reads backwards
// from the end, so the cost depends on n, not on the file's size; at most
// DefaultMaxBytes are read. Lines are not grouped into stack traces.
// Timestamps without a zone are read in time.Local.
//
// Errors wrap os.ErrNotExist and os.ErrPermission from opening the file,
// triage.ErrInvalid for n < 1, an empty path or one that is not a regular
// file, and ctx's error.
func Tail(ctx context.Context, path string, n int) ([]Line, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: tail of %d lines", triage.ErrInvalid, n)
	}
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return nil, fmt.Errorf("%w: path %q", triage.ErrInvalid, path)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	end := fi.Size()
	floor := max(end-DefaultMaxBytes, 0)
	start, _, err := tailStart(ctxReaderAt{ctx, f}, end, floor, n, make([]byte, backBlock))
	if err != nil {
		return nil, err
	}
	buf := make([]byte, end-start)
	if k, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
		return nil, err
	} else {
		buf = buf[:k]
	}
	now := time.Now()
	lines := make([]Line, 0, n)
	for len(buf) > 0 {
		if len(lines)%1024 == 0 && ctx.Err() != nil {
			return lines, ctx.Err()
		}
		i := bytes.IndexByte(buf, '\n')
		line := buf
		if i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			buf = nil
		}
		l := parseLine(line, lineMeta{}, now, time.Local)
		l.Source = path
		lines = append(lines, l)
	}
	return lines, nil
}
