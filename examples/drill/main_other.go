//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "drill: the exercises use Linux (process death signals, tmpfs, sock_diag); nothing was run")
	os.Exit(1)
}
