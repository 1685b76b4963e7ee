//go:build linux

package process

import "github.com/triagekit/triage/internal/testcgroup"

// child runs the test binary as a helper process when a test started it
// as one, and reports whether it did.
func child() bool { return testcgroup.Child() }
