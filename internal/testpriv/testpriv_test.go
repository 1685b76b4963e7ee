//go:build linux

package testpriv_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/triagekit/triage/internal/testpriv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestIntegrationAsNobody(t *testing.T) {
	// A file only root may read, made by the parent.
	secret := os.Getenv("TESTPRIV_SECRET")
	if !testpriv.InChild() {
		secret = filepath.Join(testpriv.Dir(t), "secret")
		require.NoError(t, os.WriteFile(secret, []byte("x"), 0o600))
	}
	ran := false
	testpriv.AsNobody(t, func(t *testing.T) {
		ran = true
		assert.Equal(t, testpriv.NobodyUID, os.Getuid())
		assert.Equal(t, testpriv.NobodyUID, os.Getegid())
		groups, err := os.Getgroups()
		require.NoError(t, err)
		assert.Empty(t, groups)
		_, err = os.ReadFile(secret)
		assert.True(t, errors.Is(err, os.ErrPermission), "%v", err)
		assert.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "f"), nil, 0o644), "TempDir works as nobody")
	}, "TESTPRIV_SECRET="+secret)
	if !testpriv.InChild() {
		assert.False(t, ran, "fn runs in the child only")
	}

	t.Run("sub test", func(t *testing.T) {
		testpriv.AsNobody(t, func(t *testing.T) {
			assert.Equal(t, testpriv.NobodyUID, os.Geteuid())
		})
	})
}

// A failure as nobody must fail the test as root.
func TestIntegrationAsNobodyReportsFailure(t *testing.T) {
	if os.Getenv("TESTPRIV_MUST_FAIL") != "" {
		testpriv.AsNobody(t, func(t *testing.T) { t.Error("as nobody") })
		return
	}
	if testpriv.InChild() || os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	// This same test, run again as root, hands fn to a nobody child.
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntegrationAsNobodyReportsFailure$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTPRIV_MUST_FAIL=1")
	out, err := cmd.CombinedOutput()
	assert.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "the test failed as nobody")
}
