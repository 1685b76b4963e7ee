package logscan

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeJournal is a journal file header (signature, header_size 264,
// arena_size) followed by an arena of size bytes, as journalctl checks it
// first; arena overstates the arena when it is larger than size.
func fakeJournal(size, arena uint64) []byte {
	b := make([]byte, 264+size)
	copy(b, journalMagic)
	binary.LittleEndian.PutUint64(b[88:], 264)
	binary.LittleEndian.PutUint64(b[96:], arena)
	return b
}

// TestOpenJournalFiles: what is handed to journalctl out of a directory
// another root controls is bounded, the newest files, and only files
// that start as journal files do; nothing stays open on an error.
func TestOpenJournalFiles(t *testing.T) {
	root := t.TempDir()
	open := func(name string) (*os.File, error) { return os.Open(filepath.Join(root, filepath.Clean("/"+name))) }
	dir := filepath.Join(root, "var/log/journal")
	id := filepath.Join(dir, "0123456789abcdef0123456789abcdef")
	require.NoError(t, os.MkdirAll(id, 0o755))
	base := time.Now().Add(-time.Hour)
	n := maxJournalFiles*2 + 10
	for i := range n {
		p := filepath.Join(id, fmt.Sprintf("system@%04d.journal", i))
		require.NoError(t, os.WriteFile(p, fakeJournal(64, 64), 0o640))
		require.NoError(t, os.Chtimes(p, base, base.Add(time.Duration(i)*time.Second)))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "short.journal"), []byte("LPK"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cut.journal"), fakeJournal(64, 8<<20), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "header.journal"), []byte(journalMagic), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.journal"), []byte("something else"), 0o640))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "dir.journal"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(journalMagic), 0o640))

	j, err := openJournalFiles(open, "")
	require.NoError(t, err)
	require.Len(t, j.files, maxJournalFiles)
	assert.Equal(t, "/var/log/journal", j.dir)
	for _, f := range j.files {
		var i int
		_, err := fmt.Sscanf(filepath.Base(f.Name()), "system@%04d.journal", &i)
		require.NoError(t, err, f.Name())
		assert.GreaterOrEqual(t, i, n-maxJournalFiles, "only the newest are kept: %s", f.Name())
	}
	assert.Len(t, j.args(), maxJournalFiles)
	assert.Equal(t, "--file=/proc/self/fd/3", j.args()[0])
	j.close()

	// The volatile journal when there is no persistent one.
	require.NoError(t, os.RemoveAll(dir))
	_, err = openJournalFiles(open, "")
	assert.ErrorIs(t, err, ErrNoJournal)
	run := filepath.Join(root, "run/log/journal")
	require.NoError(t, os.MkdirAll(run, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(run, "system.journal"), fakeJournal(0, 0), 0o640))
	j, err = openJournalFiles(open, "")
	require.NoError(t, err)
	assert.Len(t, j.files, 1)
	assert.Equal(t, "/run/log/journal", j.dir)
	j.close()

	// A directory named that is missing or is a file.
	_, err = openJournalFiles(open, "/var/log/journal")
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = openJournalFiles(open, "/run/log/journal/system.journal")
	assert.ErrorContains(t, err, "not a directory")
}
