//go:build !linux

package process

import (
	"context"
	"fmt"
	"runtime"

	"github.com/triagekit/triage"
)

func run(context.Context, *Options, *Result) error {
	return fmt.Errorf("%w: the process check reads /proc, which %s/%s does not have",
		triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}
