package dnscheck

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// TestHostileResolverFiles: a container controls its resolv.conf and
// hosts file. A FIFO must not block the check past its deadline, and a
// huge sparse file must not be read whole: either way the check says it
// could not tell (all of it, without a resolv.conf; the hosts part, beside
// what the nameserver said), and blames no timeout.
func TestHostileResolverFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<30))
	require.NoError(t, f.Close())
	good := filepath.Join(dir, "resolv.conf")
	require.NoError(t, os.WriteFile(good, []byte("nameserver 127.0.0.1\n"), 0o644))

	for _, tt := range []struct {
		name    string
		o       Options
		nothing bool // no resolv.conf: nothing else to tell
	}{
		{"resolv.conf is a FIFO", Options{ResolvConf: fifo}, true},
		{"resolv.conf is 1 GiB", Options{ResolvConf: huge}, true},
		{"hosts is a FIFO", Options{ResolvConf: good, HostsFile: fifo}, false},
		{"hosts is 1 GiB", Options{ResolvConf: good, HostsFile: huge}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Name = "example.internal."
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			done := make(chan Result, 1)
			go func() { done <- Check(ctx, tt.o) }()
			var r Result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the check blocked on the file")
			}
			assert.Less(t, time.Since(start), 5*time.Second, "returned near its deadline")
			if tt.nothing {
				assert.Equal(t, triage.Unknown, r.Status, "%+v", r.Findings)
			} else {
				assert.NotEqual(t, triage.OK, r.Status, "%+v", r.Findings)
			}
			require.Error(t, r.Err)
			assert.NotErrorIs(t, r.Err, context.DeadlineExceeded, "the file, not a timeout, is the reason")
			for _, f := range r.Findings {
				assert.NotEqual(t, CodeTimeout, f.Code, "no server is blamed")
			}
		})
	}
}
