//go:build !linux

package sockstat

import (
	"context"
	"fmt"
	"runtime"

	"github.com/triagekit/triage"
)

func newReader(context.Context, config) (reader, error) {
	return nil, fmt.Errorf("sockstat: %w on %s/%s", triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}

func findOwners(context.Context, string, map[uint64][]Process) error {
	return fmt.Errorf("sockstat: %w on %s/%s", triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}

func kernelCountsCloseWait() bool { return false }
