package logscan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testpriv"
)

// As nobody, a log only root may read, and the kernel log where
// dmesg_restrict closes it, say they could not be read: Unknown with
// os.ErrPermission, never a clean log; a readable log next to them is
// still scanned.
func TestIntegrationUnreadableAsNobody(t *testing.T) {
	secret, open := os.Getenv("LOGSCAN_TEST_SECRET"), os.Getenv("LOGSCAN_TEST_OPEN")
	if !testpriv.InChild() {
		dir := testpriv.Dir(t)
		secret = writeLog(t, dir, "secret.log", "2026-11-25T07:58:00Z ERROR disk on fire")
		require.NoError(t, os.Chmod(secret, 0o600))
		open = writeLog(t, dir, "open.log", "2026-11-25T07:58:00Z ERROR dial tcp 10.0.0.1:80: connect: connection refused")
		require.NoError(t, os.Chmod(open, 0o644))
	}
	testpriv.AsNobody(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r := Check(ctx, Options{Files: []string{secret}, Lines: DefaultLines})
		assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
		assert.True(t, errors.Is(r.Err, os.ErrPermission), "%v", r.Err)

		r = Check(ctx, Options{Files: []string{secret, open}, Lines: DefaultLines})
		assert.True(t, errors.Is(r.Err, os.ErrPermission), "%v", r.Err)
		assert.Contains(t, codes(r), CodeDependencyRefused, "the readable log is still scanned")
		assert.NotEqual(t, triage.OK, r.Status)

		_, err := Tail(ctx, secret, 1)
		assert.True(t, errors.Is(err, os.ErrPermission), "%v", err)

		if b, _ := os.ReadFile("/proc/sys/kernel/dmesg_restrict"); len(b) > 0 && b[0] == '1' {
			r = Check(ctx, Options{Kernel: true})
			assert.NotEqual(t, triage.OK, r.Status, "findings: %v", r.Findings)
			assert.Error(t, r.Err, "the kernel log is closed to nobody")
		}
	}, "LOGSCAN_TEST_SECRET="+secret, "LOGSCAN_TEST_OPEN="+filepath.Clean(open))
}
