//go:build !linux

package probe

import (
	"context"
	"fmt"
	"runtime"

	"github.com/triagekit/triage"
)

func procRun(context.Context, *ProcessOptions, *ProcessResult) error {
	return fmt.Errorf("%w: the process check reads /proc, which %s/%s does not have",
		triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}
