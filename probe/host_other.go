//go:build !linux

package probe

import (
	"context"
	"fmt"
	"runtime"

	"github.com/triagekit/triage"
)

func hostRun(context.Context, *HostOptions, *HostResult) error {
	return fmt.Errorf("%w: the host check reads /proc, which %s/%s does not have",
		triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}
