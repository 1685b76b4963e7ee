//go:build linux

package logscan

import (
	"os"
	"syscall"
)

// ownNetNS returns the inode of the network namespace the calling thread
// is in, as the kernel names it in its messages.
func ownNetNS() (uint64, error) {
	fi, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		return 0, err
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}
