//go:build linux && (amd64 || arm64)

package diskcheck

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatat stats name relative to dirfd without following a symlink. name
// ends in a NUL byte (it points into the getdents buffer), which saves the
// copy unix.Fstatat makes of every name.
func fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
