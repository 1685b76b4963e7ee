//go:build linux && !amd64 && !arm64

package diskcheck

import "golang.org/x/sys/unix"

// fstatat stats name (NUL-terminated) relative to dirfd without following
// a symlink.
func fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	return unix.Fstatat(dirfd, string(name[:len(name)-1]), st, unix.AT_SYMLINK_NOFOLLOW)
}
