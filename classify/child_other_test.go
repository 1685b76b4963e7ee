//go:build !linux

package classify

func runChild() bool { return false }
