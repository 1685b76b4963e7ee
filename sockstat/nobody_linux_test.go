package sockstat

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testpriv"
)

// As nobody, the owner of root's listener cannot be looked up: the
// listener is still reported, its owner is not made up, and the result
// says it could not tell with os.ErrPermission, never OK.
func TestIntegrationOwnersAsNobody(t *testing.T) {
	port := os.Getenv("SOCKSTAT_TEST_PORT")
	if !testpriv.InChild() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	testpriv.AsNobody(t, func(t *testing.T) {
		p, err := strconv.Atoi(port)
		require.NoError(t, err)
		var r Result
		require.NotPanics(t, func() { r = Check(context.Background(), Options{Port: p, Owners: true, Sample: -1}) })
		t.Logf("status %v err %v findings %v", r.Status, r.Err, r.Findings)
		require.NotEmpty(t, r.Listeners, "the listener is seen without privileges")
		for _, l := range r.Listeners {
			assert.Empty(t, l.Processes, "no owner is made up")
		}
		assert.NotEqual(t, triage.OK, r.Status)
		assert.True(t, errors.Is(r.Err, os.ErrPermission), "%v", r.Err)
		assert.False(t, r.Has(CodeNoListener))
	}, "SOCKSTAT_TEST_PORT="+port)
}
