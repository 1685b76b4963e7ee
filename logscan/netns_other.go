//go:build !linux

package logscan

import "errors"

func ownNetNS() (uint64, error) { return 0, errors.ErrUnsupported }
