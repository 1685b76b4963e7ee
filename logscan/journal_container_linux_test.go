//go:build linux

package logscan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testcontainer"
	"github.com/triagekit/triage/internal/testjournal"
)

// TestContainerJournal reads a container's journal through its opener.
// The container's journal directory also holds a link to a journal file
// of this host's (at a path that inside the container is an empty
// tmpfs) and a file named like a journal that is not one: read by path,
// journalctl follows the link and reports the host's entries as the
// container's; read through the opener, only the container's files are
// read.
func TestContainerJournal(t *testing.T) {
	hostDir := t.TempDir()
	ctr := testcontainer.New(t, "mount -t tmpfs tmpfs /var/log; mkdir -p /var/log/journal; mount -t tmpfs tmpfs "+hostDir)
	root, err := ctr.Root()
	require.NoError(t, err)

	now := time.Now()
	testjournal.Write(t, hostDir, []testjournal.Entry{
		{At: now.Add(-30 * time.Second), Unit: "api.service", Priority: 3,
			Message: "dial tcp 10.9.9.9:5432: connect: connection refused"},
	})
	// journald's layout: a machine-id directory under /var/log/journal.
	inside := filepath.Join(root, "var/log/journal/0123456789abcdef0123456789abcdef")
	require.NoError(t, os.Mkdir(inside, 0o755))
	testjournal.Write(t, inside, []testjournal.Entry{
		{At: now.Add(-40 * time.Second), Unit: "api.service", Priority: 6, Message: "listening on :8080"},
		{At: now.Add(-20 * time.Second), Unit: "api.service", Priority: 3,
			Message: "dial tcp 10.20.0.5:5432: connect: connection refused"},
		{At: now.Add(-10 * time.Second), Unit: "sidecar.service", Priority: 6, Message: "ok"},
	})
	require.NoError(t, os.Symlink(filepath.Join(hostDir, "test.journal"), filepath.Join(root, "var/log/journal/host.journal")))
	require.NoError(t, os.WriteFile(filepath.Join(inside, "bogus.journal"), []byte("not a journal"), 0o644))
	// A journal of a format this journalctl does not know (an
	// incompatible flag it lacks), which fails a run given it.
	b, err := os.ReadFile(filepath.Join(hostDir, "test.journal"))
	require.NoError(t, err)
	b[12], b[13], b[14], b[15] = 0, 0, 0, 0x40
	require.NoError(t, os.WriteFile(filepath.Join(inside, "newer.journal"), b, 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(ents)
	}
	fds0 := fds()
	defer func() { assert.Equal(t, fds0, fds(), "every journal file opened was closed") }()
	targets := func(r Result) []string {
		var out []string
		for _, s := range r.Signals {
			out = append(out, s.Target)
		}
		return out
	}

	// By path, the way it must not be read: the host's entry comes in.
	r := Check(ctx, Options{JournalDir: filepath.Join(root, "var/log/journal"), Units: []string{"api.service"}, Since: 10 * time.Minute})
	require.NoError(t, r.Err)
	require.Contains(t, targets(r), "10.9.9.9:5432", "the link reaches the host's file when journalctl is given the path")

	for _, dir := range []string{"", "/var/log/journal"} {
		t.Run(fmt.Sprintf("dir %q", dir), func(t *testing.T) {
			r := Check(ctx, Options{Open: ctr.Open, JournalDir: dir, Units: []string{"api.service"}, Since: 10 * time.Minute})
			require.NoError(t, r.Err)
			require.Len(t, r.Sources, 1)
			assert.Equal(t, "journal:api.service", r.Sources[0].Name)
			assert.Equal(t, 2, r.Sources[0].Lines, "the container's api entries, not its sidecar's nor the host's")
			assert.Equal(t, []string{"10.20.0.5:5432"}, targets(r))
			f := findingOf(t, r, CodeDependencyRefused)
			assert.Contains(t, f.Command, "journalctl -D /var/log/journal -u api.service")
		})
	}
	t.Run("all units", func(t *testing.T) {
		r := Check(ctx, Options{Open: ctr.Open, Since: 10 * time.Minute})
		require.NoError(t, r.Err)
		i := slices.IndexFunc(r.Sources, func(s Source) bool { return s.Name == "journal" })
		require.GreaterOrEqual(t, i, 0, "%+v", r.Sources)
		assert.Equal(t, 3, r.Sources[i].Lines)
	})
	t.Run("no journal", func(t *testing.T) {
		empty := testcontainer.New(t, "mount -t tmpfs tmpfs /var/log; mount -t tmpfs tmpfs /run")
		r := Check(ctx, Options{Open: empty.Open, Units: []string{"api.service"}})
		assert.ErrorIs(t, r.Err, ErrNoJournal)
		assert.Equal(t, triage.Unknown, r.Status)
		r = Check(ctx, Options{Open: empty.Open, JournalDir: "/var/log/nothing", Units: []string{"api.service"}})
		assert.ErrorIs(t, r.Err, os.ErrNotExist)
		assert.Equal(t, triage.Unknown, r.Status)
	})
}
