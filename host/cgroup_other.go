//go:build !linux

package host

func cgroupUnreadable(error) bool { return false }
