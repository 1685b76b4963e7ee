// Package human formats values the way the tools operators know print
// them: sizes like free -h and df -h, words quoted for a POSIX shell.
package human

import (
	"strconv"
	"strings"
)

// Bytes formats a byte count like free -h: "512B", "1.5KiB", "3.0GiB".
func Bytes(n uint64) string {
	if n < 1024 {
		return strconv.FormatUint(n, 10) + "B"
	}
	v, unit := scale(n)
	return strconv.FormatFloat(v, 'f', 1, 64) + string(unit) + "iB"
}

// Size formats a byte count like df -h and du -h: "512", "1.5K", "12G";
// one decimal under ten, none from ten up.
func Size(n uint64) string {
	if n < 1024 {
		return strconv.FormatUint(n, 10)
	}
	v, unit := scale(n)
	prec := 1
	if v >= 10 {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + string(unit)
}

// scale divides n (at least 1024) by the largest power of 1024 that keeps
// it at least 1, and names the power.
func scale(n uint64) (float64, byte) {
	div, exp := uint64(1024), 0
	for m := n / 1024; m >= 1024 && exp < 5; m /= 1024 {
		div *= 1024
		exp++
	}
	return float64(n) / float64(div), "KMGTPE"[exp]
}

// Quote quotes s for a POSIX shell when it needs it.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
