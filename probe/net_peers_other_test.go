//go:build !unix

package probe

import "testing"

func fullAcceptQueue(t *testing.T) string {
	t.Skip("needs listen(2) with a backlog of 0")
	return ""
}
