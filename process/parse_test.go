package process

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/procfs"
)

func TestParseStat(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "proc", "4242", "stat"))
	require.NoError(t, err)
	s, err := parseStat(b)
	require.NoError(t, err)
	assert.Equal(t, taskStat{pid: 4242, comm: "my (odd) srv", state: 'S', ppid: 1, ticks: 1800,
		threads: 2, startTime: 50000, rssPages: 2560}, s)
	assert.Equal(t, "my (odd) srv", string(statComm(b)))

	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"no name", "12 S 1 2 3"},
		{"bad pid", "x (a) S 1"},
		{"truncated", "12 (a) S 1 2 3"},
		{"long state", "12 (a) SS 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0"},
		{"bad ppid", "12 (a) S x 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseStat([]byte(tc.in))
			assert.ErrorIs(t, err, procfs.ErrMalformed)
		})
	}
}

func TestParseFiles(t *testing.T) {
	t.Run("status uid", func(t *testing.T) {
		uid, err := parseStatusUID([]byte("Name:\tx\nUid:\t1000\t0\t0\t0\n"))
		require.NoError(t, err)
		assert.Equal(t, 1000, uid)
		_, err = parseStatusUID([]byte("Name:\tx\n"))
		assert.ErrorIs(t, err, procfs.ErrMalformed)
		_, err = parseStatusUID([]byte("Uid:\tme\n"))
		assert.ErrorIs(t, err, procfs.ErrMalformed)
	})
	t.Run("limits", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", "4242", "limits"))
		require.NoError(t, err)
		n, err := parseLimitsNofile(b)
		require.NoError(t, err)
		assert.Equal(t, uint64(10), n)
		n, err = parseLimitsNofile([]byte("Max open files            unlimited            unlimited            files\n"))
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = parseLimitsNofile([]byte("Max processes 1 1 processes\n"))
		assert.ErrorIs(t, err, procfs.ErrMalformed)
		_, err = parseLimitsNofile([]byte("Max open files  many\n"))
		assert.ErrorIs(t, err, procfs.ErrMalformed)
	})
	t.Run("pidfile", func(t *testing.T) {
		for in, want := range map[string]int{"42\n": 42, "  42  \n": 42, "\n42\nmore\n": 42, "7": 7} {
			pid, err := parsePidfile([]byte(in))
			require.NoError(t, err, "%q", in)
			assert.Equal(t, want, pid, "%q", in)
		}
		for _, in := range []string{"", "\n", "abc\n", "0\n", "-3\n", "12 34\n"} {
			_, err := parsePidfile([]byte(in))
			assert.ErrorIs(t, err, procfs.ErrMalformed, "%q", in)
		}
	})
	t.Run("cmdline", func(t *testing.T) {
		b := []byte("/usr/bin/python3\x00-m\x00http.server\x00")
		assert.Equal(t, "/usr/bin/python3 -m http.server", joinArgs(b))
		assert.Equal(t, "python3", string(argv0Base(b)))
		assert.Empty(t, joinArgs(nil))
	})
	t.Run("boot time and memory", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", "stat"))
		require.NoError(t, err)
		bt, err := parseBootTime(b)
		require.NoError(t, err)
		assert.Equal(t, int64(1700000000), bt)
		b, err = os.ReadFile(filepath.Join("testdata", "proc", "meminfo"))
		require.NoError(t, err)
		n, err := parseMemTotal(b)
		require.NoError(t, err)
		assert.Equal(t, uint64(16384000*1024), n)
		for _, in := range []string{"", "cpu  1 2 3 4\n", "btime soon\n"} {
			_, err := parseBootTime([]byte(in))
			assert.ErrorIs(t, err, procfs.ErrMalformed, "%q", in)
		}
		for _, in := range []string{"", "MemFree: 1 kB\n", "MemTotal: lots kB\n", "MemTotal: 18446744073709551615 kB\n"} {
			_, err := parseMemTotal([]byte(in))
			assert.ErrorIs(t, err, procfs.ErrMalformed, "%q", in)
		}
	})
}

func FuzzParseStat(f *testing.F) {
	for _, p := range []string{"4242/stat", "77/stat", "99/stat", "4242/task/4250/stat"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStat(b)
		_ = statComm(b)
	})
}

func FuzzParseFiles(f *testing.F) {
	for _, p := range []string{"4242/limits", "4242/status", "4242/cmdline", "stat", "meminfo"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("1234\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStatusUID(b)
		_, _ = parseLimitsNofile(b)
		_, _ = parsePidfile(b)
		_ = joinArgs(b)
		_ = argv0Base(b)
		_, _ = parseBootTime(b)
		_, _ = parseMemTotal(b)
	})
}
