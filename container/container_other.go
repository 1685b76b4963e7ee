//go:build !linux

package container

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/triagekit/triage"
)

// ErrGone is returned (wrapped) when the process exited, or its PID now
// belongs to another process.
var ErrGone = errors.New("container: process is gone")

// Container is the namespaces of a process. Namespaces are Linux's; on
// other platforms nothing can be opened.
type Container struct{}

// Open returns an error matching triage.ErrUnsupported.
func Open(pid int) (*Container, error) {
	return nil, fmt.Errorf("container: namespaces: %w", triage.ErrUnsupported)
}

// OpenNetNS returns an error matching triage.ErrUnsupported.
func OpenNetNS(name string) (*Container, error) {
	return nil, fmt.Errorf("container: namespaces: %w", triage.ErrUnsupported)
}

func (c *Container) PID() int                               { return 0 }
func (c *Container) NetNS() uint64                          { return 0 }
func (c *Container) NetNSPath() string                      { return "" }
func (c *Container) Root() (string, error)                  { return "", triage.ErrUnsupported }
func (c *Container) Open(string) (*os.File, error)          { return nil, triage.ErrUnsupported }
func (c *Container) Do(context.Context, func() error) error { return triage.ErrUnsupported }
func (c *Container) DialContext(context.Context, string, string) (net.Conn, error) {
	return nil, triage.ErrUnsupported
}
func (c *Container) Close() error { return nil }
