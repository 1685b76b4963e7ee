package logscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/triagekit/triage"
)

const (
	// backBlock is how much is read at a time when walking back from the
	// end of a file.
	backBlock = 64 << 10
	// chunkSize is the forward read buffer: small enough to stay in the
	// CPU cache while every literal is searched in it.
	chunkSize = 256 << 10
)

// Source says what was read from one file, unit or the kernel log.
type Source struct {
	// Name is the file path, "journal", "journal:UNIT" or "kernel".
	Name string `json:"name"`
	// Lines is how many lines were in the window.
	Lines int `json:"lines"`
	// Bytes is how many bytes the window held.
	Bytes int64 `json:"bytes"`
	// Offset is where the window started in a file.
	Offset int64 `json:"offset,omitempty"`
	// Rotated is set when the file was renamed away (rotated) while it
	// was read; the new file at the path was read too.
	Rotated bool `json:"rotated,omitempty"`
	// Truncated is set when the file shrank while it was read (logrotate's
	// copytruncate); the part already copied away was not seen.
	Truncated bool `json:"truncated,omitempty"`
	// Capped is set when MaxBytes ended the window before the lines or
	// the duration asked for.
	Capped bool `json:"capped,omitempty"`
	// NoTimestamps is set when a duration was asked for but no timestamp
	// could be read near the end of the file; the window is then the
	// last Lines lines (DefaultLines if zero).
	NoTimestamps bool `json:"no_timestamps,omitempty"`
	// Via says how the source was read when not directly: "dmesg" when
	// the kernel log came from the dmesg command because KmsgPath could
	// not be opened. Empty otherwise.
	Via string `json:"via,omitempty"`
	// Error says why the source could not be read; empty when it was.
	Error string `json:"error,omitempty"`

	err error
}

func (s *Source) setErr(err error) {
	s.err = err
	s.Error = err.Error()
}

// window is what to read from a file.
type window struct {
	lines    int       // last N lines; 0 for no bound
	since    time.Time // lines at or after; zero for no bound
	maxBytes int64
}

// fileReader reads the tail windows of files into an agg.
type fileReader struct {
	a   *agg
	buf []byte
	// cands is reused between blocks.
	cands []int
	// afterChunk, when set, runs after each forward chunk (tests rotate
	// files there).
	afterChunk func()
	// open opens a file; nil opens it on this host without blocking.
	open func(name string) (*os.File, error)
}

// openRegular opens path with fr's opener when it is a regular file.
func (fr *fileReader) openRegular(path string) (*os.File, os.FileInfo, error) {
	if fr.open == nil {
		return openRegular(path)
	}
	f, err := fr.open(path)
	if err != nil {
		return nil, nil, err
	}
	return regularOnly(f, path)
}

// stat is os.Stat through fr's opener.
func (fr *fileReader) stat(path string) (os.FileInfo, error) {
	if fr.open == nil {
		return os.Stat(path)
	}
	f, err := fr.open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// ctxReaderAt stops reading once ctx ends: the walks that find where a
// window starts read block by block, and in a file of gigabytes without
// a newline they would otherwise go on long past the deadline.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}

// tailStart walks back from end to find where the last n lines start,
// never going below floor. got is how many lines [start, end) holds.
func tailStart(r io.ReaderAt, end, floor int64, n int, buf []byte) (start int64, got int, err error) {
	pos := end
	skipLast := true // a final newline ends the last line; it does not start one
	for pos > floor {
		k := int64(len(buf))
		if pos-floor < k {
			k = pos - floor
		}
		b := buf[:k]
		if _, err := r.ReadAt(b, pos-k); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, err
		}
		if skipLast {
			skipLast = false
			if len(b) > 0 && b[len(b)-1] == '\n' {
				b = b[:len(b)-1]
			}
		}
		// bytes.Count is vectorised, LastIndexByte is not: count whole
		// blocks and walk back line by line only in the last one.
		if c := bytes.Count(b, []byte{'\n'}); got+c < n {
			got += c
			pos -= k
			continue
		}
		for {
			i := bytes.LastIndexByte(b, '\n')
			if i < 0 {
				break
			}
			got++
			if got == n {
				return pos - k + int64(i) + 1, got, nil
			}
			b = b[:i]
		}
		pos -= k
	}
	if end > floor {
		got++ // the line that starts at floor
	}
	return floor, got, nil
}

// lineTimeAt returns the time of the first line starting at or after off
// that has one, looking at most 16 KiB ahead, and where that line starts.
func lineTimeAt(r io.ReaderAt, off, end int64, buf []byte, now time.Time, loc *time.Location) (time.Time, int64, bool) {
	n := min(int64(len(buf)), end-off)
	if n <= 0 {
		return time.Time{}, 0, false
	}
	b := buf[:n]
	if k, err := r.ReadAt(b, off); err != nil && k == 0 {
		return time.Time{}, 0, false
	}
	i := 0
	if off > 0 { // off is mid-line: skip to the next line
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			return time.Time{}, 0, false
		}
		i = j + 1
	}
	for i < len(b) {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			if off+n < end {
				break // a partial line
			}
			j = len(b) - i
		}
		if t, ok := lineTime(b[i:i+j], now, loc); ok {
			return t, off + int64(i), true
		}
		i += j + 1
	}
	return time.Time{}, 0, false
}

// lineTime reads a line's timestamp, in text or in a JSON time field.
func lineTime(l []byte, now time.Time, loc *time.Location) (time.Time, bool) {
	if t, _, ok := parseTime(l, now, loc); ok {
		return t, true
	}
	if t, ok := logfmtTime(l, now, loc); ok {
		return t, true
	}
	if t := bytes.TrimSpace(l); len(t) > 0 && t[0] == '{' {
		var ln Line
		if parseJSONLine(t, &ln, now, loc) && !ln.Time.IsZero() {
			return ln.Time, true
		}
	}
	return time.Time{}, false
}

// sinceStart finds where the lines at or after since start: it gallops
// back from the end until it meets an older line, then bisects, so the
// cost grows with the log of the window, not with the file. ok is false
// when no timestamp could be read near the end. begin is set when the
// window reaches back past floor.
func sinceStart(r io.ReaderAt, end, floor int64, since, now time.Time, loc *time.Location, buf []byte) (start int64, begin, ok bool) {
	probe := buf[:min(len(buf), 16<<10)]
	hi := end
	lo := int64(-1)
	anyTime := false
	for step := int64(backBlock); ; step *= 4 {
		p := max(end-step, floor)
		t, _, found := lineTimeAt(r, p, end, probe, now, loc)
		if found {
			anyTime = true
			if t.Before(since) {
				lo = p
				break
			}
		}
		if p == floor {
			if !anyTime {
				return 0, false, false
			}
			if found && t.Before(since) {
				lo = p
				break
			}
			return floor, floor == 0, true
		}
		hi = p
	}
	for hi-lo > backBlock {
		mid := lo + (hi-lo)/2
		t, _, found := lineTimeAt(r, mid, end, probe, now, loc)
		if found && t.Before(since) {
			lo = mid
		} else {
			hi = mid
		}
	}
	// Now step through the lines from lo to the first one in the window,
	// reading the bracket once.
	for off := lo; off < end; {
		n := min(int64(len(buf)), end-off)
		b := buf[:n]
		k, err := r.ReadAt(b, off)
		if k == 0 && err != nil {
			return off, false, true
		}
		b = b[:k]
		i := 0
		if off > 0 && off == lo {
			j := bytes.IndexByte(b, '\n')
			if j < 0 {
				return off, false, true
			}
			i = j + 1
		}
		last := bytes.LastIndexByte(b, '\n')
		if off+int64(k) >= end {
			last = len(b)
		}
		if last < i {
			return off + int64(i), false, true // a line longer than buf
		}
		for i < last {
			j := bytes.IndexByte(b[i:last], '\n')
			if j < 0 {
				j = last - i
			}
			if t, ok := lineTime(b[i:i+j], now, loc); ok && !t.Before(since) {
				return off + int64(i), false, true
			}
			i += j + 1
		}
		off += int64(last) + 1
	}
	return end, false, true
}

// locate works out where in the file at path the window starts. It also
// says whether the window reaches back past the start of the file (so the
// rotated sibling should be read) and how many lines are still wanted
// from it.
func (fr *fileReader) locate(ctx context.Context, f *os.File, end int64, w window, src *Source) (start int64, begin bool, more int, err error) {
	r := ctxReaderAt{ctx, f}
	floor := int64(0)
	if w.maxBytes > 0 && end > w.maxBytes {
		floor = end - w.maxBytes
	}
	start = floor
	lines := w.lines
	if !w.since.IsZero() {
		s, b, ok := sinceStart(r, end, floor, w.since, fr.a.now, fr.a.loc, fr.buf)
		if ok {
			start, begin = s, b
		} else {
			src.NoTimestamps = true
			if lines == 0 {
				lines = DefaultLines
			}
		}
	}
	if lines > 0 {
		s, got, err := tailStart(r, end, floor, lines, fr.buf[:backBlock])
		if err != nil {
			return 0, false, 0, err
		}
		if s > start {
			start, begin = s, false
		} else if s == 0 && got < lines && (w.since.IsZero() || begin) {
			begin, more = true, lines-got
		}
		if s == floor && floor > 0 && got < lines {
			src.Capped = true
		}
	}
	if start == floor && floor > 0 && !w.since.IsZero() && !src.NoTimestamps {
		src.Capped = true
	}
	if err := ctx.Err(); err != nil {
		// sinceStart reads nothing once ctx ends, and says so only by
		// finding no time.
		return 0, false, 0, err
	}
	return start, begin, more, nil
}

// readFile scans the window of one file, and of its rotated sibling
// (path.1) first when the window reaches back past the file's start.
func (fr *fileReader) readFile(ctx context.Context, path string, w window) []Source {
	return fr.read(ctx, path, w, true)
}

// read scans the window of one file. For the live file (live set, not a
// rotated sibling) it reads the sibling first when the window reaches back
// past the file's start, and notices rotation while it reads.
func (fr *fileReader) read(ctx context.Context, path string, w window, live bool) []Source {
	src := Source{Name: path}
	f, fi, err := fr.openRegular(path)
	if err != nil {
		src.setErr(err)
		return []Source{src}
	}
	defer f.Close()
	end := fi.Size()
	start, begin, more, err := fr.locate(ctx, f, end, w, &src)
	if err != nil {
		src.setErr(err)
		return []Source{src}
	}
	var out []Source
	if live && begin {
		sib := path + ".1"
		if sfi, err := fr.stat(sib); err == nil && sfi.Mode().IsRegular() && !os.SameFile(sfi, fi) {
			sw := w
			sw.lines = more
			if w.lines > 0 && more == 0 {
				sw.lines = 0
			}
			if w.maxBytes > 0 {
				sw.maxBytes = max(w.maxBytes-(end-start), 1)
			}
			if w.lines == 0 || more > 0 {
				out = append(out, fr.read(ctx, sib, sw, false)...)
			}
		}
	}
	fr.a.setSource(path, false)
	src.Offset = start
	n0 := fr.a.lines
	read, short, err := fr.scan(ctx, f, start, end)
	src.Bytes = read
	if err != nil {
		src.setErr(err)
	}
	if live {
		fr.rotation(ctx, f, fi, end, short, &src)
	}
	fr.a.flush()
	src.Lines = fr.a.lines - n0
	return append(out, src)
}

// openRegular opens path when it is a regular file: a FIFO or a device
// would block or never end.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	// Opened without blocking and judged by what was opened: a FIFO put
	// in the log's place (between a stat and an open, say) would hold
	// open(2) until a writer came.
	f, err := openNoBlock(path)
	if err != nil {
		return nil, nil, err
	}
	return regularOnly(f, path)
}

// regularOnly keeps f when what was opened is a regular file, and closes
// it otherwise.
func regularOnly(f *os.File, path string) (*os.File, os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s is not a regular file", triage.ErrInvalid, path)
	}
	return f, fi, nil
}

// rotation reads what a rotation while reading left unread: by rename the
// path is another file now, which is read whole; by copytruncate the file
// shrank (or ended early), and it is read again from its start.
func (fr *fileReader) rotation(ctx context.Context, f *os.File, fi os.FileInfo, end int64, short bool, src *Source) {
	if now, err := f.Stat(); err == nil && (now.Size() < end || short) {
		src.Truncated = true
		if ctx.Err() == nil {
			n, _, _ := fr.scan(ctx, f, 0, now.Size())
			src.Bytes += n
		}
	}
	pfi, err := fr.stat(src.Name)
	if err == nil && os.SameFile(pfi, fi) {
		return
	}
	src.Rotated = true
	if err != nil || !pfi.Mode().IsRegular() || ctx.Err() != nil {
		return
	}
	if nf, nfi, err := fr.openRegular(src.Name); err == nil {
		n, _, _ := fr.scan(ctx, nf, 0, nfi.Size())
		src.Bytes += n
		nf.Close()
	}
}

// scan reads [start, end) forward in chunks and hands whole lines to the
// agg. short is set when the file ended before end.
func (fr *fileReader) scan(ctx context.Context, f io.ReaderAt, start, end int64) (read int64, short bool, err error) {
	buf := fr.buf
	n := 0 // bytes carried over from the previous chunk
	off := start
	skipping := false // inside a line longer than the buffer
	skipped := 0
	var longHead []byte
	for off < end {
		if err := ctx.Err(); err != nil {
			return read, short, err
		}
		want := min(int64(len(buf)-n), end-off)
		k, rerr := f.ReadAt(buf[n:n+int(want)], off)
		off += int64(k)
		read += int64(k)
		if int64(k) < want {
			if rerr != nil && !errors.Is(rerr, io.EOF) {
				return read, short, rerr
			}
			short, end = true, off
		}
		data := buf[:n+k]
		n = 0
		if skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 && off < end {
				skipped += len(data)
				continue
			}
			if i < 0 { // the file ends inside the line
				skipped += len(data)
				data = data[:0]
			} else {
				skipped += i
				data = data[i+1:]
			}
			fr.a.longLine(longHead, skipped)
			skipping = false
		}
		var blk []byte
		if off >= end {
			blk = data
		} else {
			last := bytes.LastIndexByte(data, '\n')
			if last < 0 {
				// One line fills the buffer: keep its head, skip the rest.
				longHead = append(longHead[:0], data[:min(len(data), maxLineBytes)]...)
				skipping, skipped = true, len(data)-len(longHead)
				continue
			}
			blk = data[:last+1]
		}
		if len(blk) > 0 {
			fr.cands = fr.a.block(blk, fr.cands)
		}
		n = copy(buf, data[len(blk):])
		if fr.afterChunk != nil {
			fr.afterChunk()
		}
	}
	if skipping {
		fr.a.longLine(longHead, skipped)
	}
	return read, short, nil
}
