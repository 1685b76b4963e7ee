//go:build !linux

package diskcheck

import (
	"context"
	"fmt"
	"runtime"

	"github.com/triagekit/triage"
)

func check(ctx context.Context, o *Options, r *Result) error {
	return fmt.Errorf("%w: diskcheck on %s/%s", triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}

func usage(ctx context.Context, o *UsageOptions, r *UsageResult) error {
	return fmt.Errorf("%w: diskcheck usage on %s/%s", triage.ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}
