//go:build !unix

package main

import "math"

// fileLimit is how many files the process may hold open: no limit this
// program can read here.
func fileLimit() int { return math.MaxInt32 }
