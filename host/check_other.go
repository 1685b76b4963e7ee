//go:build !linux

package host

import (
	"context"
	"fmt"
	"runtime"

	"github.com/triagekit/triage"
)

func run(context.Context, *Options, *Result) error {
	return fmt.Errorf("%w: the host check reads /proc, which %s/%s does not have",
		triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}
