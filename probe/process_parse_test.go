package probe

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "proc", "4242", "stat"))
	require.NoError(t, err)
	s, err := parseProcStat(b)
	require.NoError(t, err)
	assert.Equal(t, procStat{pid: 4242, comm: "my (odd) srv", state: 'S', ppid: 1, ticks: 1800,
		threads: 2, startTime: 50000, rssPages: 2560}, s)
	assert.Equal(t, "my (odd) srv", string(procStatComm(b)))

	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"no name", "12 S 1 2 3"},
		{"bad pid", "x (a) S 1"},
		{"truncated", "12 (a) S 1 2 3"},
		{"long state", "12 (a) SS 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0"},
		{"bad ppid", "12 (a) S x 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseProcStat([]byte(tc.in))
			assert.ErrorIs(t, err, errHostMalformed)
		})
	}
}

func TestParseProcFiles(t *testing.T) {
	t.Run("status uid", func(t *testing.T) {
		uid, err := parseProcStatusUID([]byte("Name:\tx\nUid:\t1000\t0\t0\t0\n"))
		require.NoError(t, err)
		assert.Equal(t, 1000, uid)
		_, err = parseProcStatusUID([]byte("Name:\tx\n"))
		assert.ErrorIs(t, err, errHostMalformed)
		_, err = parseProcStatusUID([]byte("Uid:\tme\n"))
		assert.ErrorIs(t, err, errHostMalformed)
	})
	t.Run("limits", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", "4242", "limits"))
		require.NoError(t, err)
		n, err := parseProcLimitsNofile(b)
		require.NoError(t, err)
		assert.Equal(t, uint64(10), n)
		n, err = parseProcLimitsNofile([]byte("Max open files            unlimited            unlimited            files\n"))
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = parseProcLimitsNofile([]byte("Max processes 1 1 processes\n"))
		assert.ErrorIs(t, err, errHostMalformed)
		_, err = parseProcLimitsNofile([]byte("Max open files  many\n"))
		assert.ErrorIs(t, err, errHostMalformed)
	})
	t.Run("pidfile", func(t *testing.T) {
		for in, want := range map[string]int{"42\n": 42, "  42  \n": 42, "\n42\nmore\n": 42, "7": 7} {
			pid, err := parseProcPidfile([]byte(in))
			require.NoError(t, err, "%q", in)
			assert.Equal(t, want, pid, "%q", in)
		}
		for _, in := range []string{"", "\n", "abc\n", "0\n", "-3\n", "12 34\n"} {
			_, err := parseProcPidfile([]byte(in))
			assert.ErrorIs(t, err, errHostMalformed, "%q", in)
		}
	})
	t.Run("cmdline", func(t *testing.T) {
		b := []byte("/usr/bin/python3\x00-m\x00http.server\x00")
		assert.Equal(t, "/usr/bin/python3 -m http.server", procCmdline(b))
		assert.Equal(t, "python3", string(procArgv0Base(b)))
		assert.Empty(t, procCmdline(nil))
	})
}

func FuzzParseProcStat(f *testing.F) {
	for _, p := range []string{"4242/stat", "77/stat", "99/stat", "4242/task/4250/stat"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseProcStat(b)
		_ = procStatComm(b)
	})
}

func FuzzParseProcFiles(f *testing.F) {
	for _, p := range []string{"4242/limits", "4242/status", "4242/cmdline"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("1234\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseProcStatusUID(b)
		_, _ = parseProcLimitsNofile(b)
		_, _ = parseProcPidfile(b)
		_ = procCmdline(b)
		_ = procArgv0Base(b)
	})
}
