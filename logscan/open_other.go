//go:build !unix

package logscan

import "os"

// openNoBlock opens path for reading; there are no FIFOs to wait on here.
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }
