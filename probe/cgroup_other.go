//go:build !linux

package probe

func cgroupUnreadable(error) bool { return false }
