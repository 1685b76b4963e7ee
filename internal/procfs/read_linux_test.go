package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A fake /proc whose files a container could have made: a FIFO nobody
// writes to, which a plain open would wait on forever, and a file larger
// than any kernel file.
func TestReadHostileFakeRoot(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "pressure"), 0o755))
	fifo := filepath.Join(root, "pressure", "cpu")
	require.NoError(t, unix.Mkfifo(fifo, 0o644))
	huge := filepath.Join(root, "meminfo")
	require.NoError(t, os.WriteFile(huge, bytes.Repeat([]byte("MemTotal: 1 kB\n"), MaxSize/8), 0o644))

	done := make(chan struct{})
	var fifoErr, hugeErr error
	var got []byte
	go func() {
		defer close(done)
		var r Reader
		_, fifoErr = r.Read(fifo)
		got, hugeErr = r.Read(huge)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// Unblock the open so the goroutine ends, then fail.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("reading a FIFO blocked")
	}
	assert.ErrorIs(t, fifoErr, ErrNotRegular)
	assert.ErrorIs(t, hugeErr, ErrTooLarge)
	assert.Len(t, got, MaxSize)
}

func TestCountEntries(t *testing.T) {
	rec := func(name string) []byte {
		n := (19 + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		b[16], b[17] = byte(n), byte(n>>8) // the test machines are little-endian
		copy(b[19:], name)
		return b
	}
	var buf []byte
	for _, n := range []string{".", "..", "0", "1", "255", ".x"} {
		buf = append(buf, rec(n)...)
	}
	n, ok := countDirents(buf)
	require.True(t, ok)
	assert.Equal(t, 4, n)
	_, ok = countDirents(buf[:len(buf)-3])
	assert.False(t, ok)

	n, err := CountEntries("/proc/self/fd")
	require.NoError(t, err)
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	assert.InDelta(t, len(entries), n, 2, "the ReadDir itself holds a descriptor")

	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o644))
	_, err = CountEntries(fifo)
	assert.ErrorIs(t, err, unix.ENOTDIR, "opened without waiting for a writer")
}
