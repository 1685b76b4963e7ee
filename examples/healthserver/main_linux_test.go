package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/triagekit/triage/internal/testmount"
)

// A full disk under the request log fails readiness. The tmpfs lives in
// a mount namespace of the test's own, so no other test sees it full.
func TestServeDiskFull(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	logs := testmount.Tmpfs(t, "size=1m")
	s := start(t, "-log", filepath.Join(logs, "requests.log"), "-db", filepath.Join(t.TempDir(), "notes.db"), "-token", "t", "-ttl", "1ms")
	code, body := s.get(t, "/readyz?verbose", "")
	require.Equal(t, http.StatusOK, code, body)

	buf := make([]byte, 64<<10)
	for i := 0; ; i++ {
		err := os.WriteFile(filepath.Join(logs, fmt.Sprintf("fill%04d", i)), buf, 0o644)
		if errors.Is(err, unix.ENOSPC) {
			break
		}
		require.NoError(t, err)
	}
	s.await(t, "/readyz?verbose", "", "[-]disk failed\n")
	code, body = s.get(t, "/readyz?verbose", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "[-]disk failed\n")
	assert.NotContains(t, body, logs)
	code, body = s.get(t, "/readyz?verbose", "t")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "[-]disk failed: ")
}
