//go:build !linux

package logscan

import (
	"context"
	"fmt"

	"github.com/triagekit/triage"
)

// readKernel is not supported off Linux.
func readKernel(ctx context.Context, a *agg, c config) Source {
	src := Source{Name: "kernel"}
	src.setErr(fmt.Errorf("kernel log: %w", triage.ErrUnsupported))
	return src
}
