//go:build !linux

package process

func child() bool { return false }
