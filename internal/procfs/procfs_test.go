package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	require.NoError(t, os.WriteFile(small, []byte("cpu  1 2 3 4\n"), 0o644))
	exact := filepath.Join(dir, "exact")
	require.NoError(t, os.WriteFile(exact, bytes.Repeat([]byte("x"), MaxSize), 0o644))
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("y"), MaxSize+1), 0o644))

	var r Reader
	b, err := r.Read(small)
	require.NoError(t, err)
	assert.Equal(t, "cpu  1 2 3 4\n", string(b))

	b, err = r.Read(exact)
	require.NoError(t, err)
	assert.Len(t, b, MaxSize)

	b, err = r.Read(big)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Len(t, b, MaxSize, "a prefix for callers that can use one")

	b, err = r.Read(small)
	require.NoError(t, err, "the reader is still usable")
	assert.Equal(t, "cpu  1 2 3 4\n", string(b))

	_, err = ReadFile(filepath.Join(dir, "none"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = ReadFile(dir)
	assert.ErrorIs(t, err, ErrNotRegular, "a directory")
}

func TestNextLineField(t *testing.T) {
	line, rest := NextLine([]byte("a b\nc"))
	assert.Equal(t, "a b", string(line))
	assert.Equal(t, "c", string(rest))
	line, rest = NextLine(rest)
	assert.Equal(t, "c", string(line))
	assert.Empty(t, rest)

	f, rest := Field([]byte(" \tkey\t 12 kB"))
	assert.Equal(t, "key", string(f))
	f, rest = Field(rest)
	assert.Equal(t, "12", string(f))
	f, _ = Field(rest)
	assert.Equal(t, "kB", string(f))
	f, rest = Field(nil)
	assert.Empty(t, f)
	assert.Empty(t, rest)
}

func TestParseKV(t *testing.T) {
	got := map[string]uint64{}
	ParseKV([]byte("pswpin 1\n\nnot a-number\noom_kill 2\n lone\n"), func(k []byte, v uint64) { got[string(k)] = v })
	assert.Equal(t, map[string]uint64{"pswpin": 1, "oom_kill": 2}, got)
	assert.Equal(t, uint64(3), Delta(2, 5))
	assert.Zero(t, Delta(5, 2), "a counter that went back")
}

func FuzzParseLines(f *testing.F) {
	f.Add([]byte("pswpin 1\noom_kill 2\n"))
	f.Add([]byte(" \t\n\t"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseKV(b, func([]byte, uint64) {})
		for rest := b; len(rest) > 0; {
			var line []byte
			line, rest = NextLine(rest)
			for len(line) > 0 {
				var fld []byte
				n := len(line)
				fld, line = Field(line)
				if len(fld) == 0 && len(line) == n {
					t.Fatal("Field made no progress")
				}
			}
		}
	})
}
