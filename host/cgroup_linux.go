package host

import (
	"errors"
	"syscall"
)

// cgroupUnreadable reports errors of cgroup files that exist but cannot be
// read on this kernel, such as pressure files with PSI turned off.
func cgroupUnreadable(err error) bool {
	return errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL)
}
