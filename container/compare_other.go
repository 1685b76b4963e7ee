//go:build !linux

package container

import (
	"context"
	"fmt"

	"github.com/triagekit/triage"
)

// Compare returns an Unknown result whose error matches
// triage.ErrUnsupported: namespaces are Linux's.
func Compare(ctx context.Context, c *Container, o CompareOptions) CompareResult {
	r := CompareResult{Result: triage.Begin(KindCompare, triage.Target{Name: o.Name})}
	r.Finish(fmt.Errorf("container: compare: %w", triage.ErrUnsupported))
	return r
}
