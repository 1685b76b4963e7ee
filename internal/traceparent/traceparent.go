// Package traceparent reads W3C Trace Context traceparent values
// ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), for the
// HTTP probe that sends them and the log scanner that looks for them.
package traceparent

import "strings"

// ID returns the trace-id field of a value shaped like a traceparent:
// four dash-separated fields of 2, 32, 16 and 2 hex digits, in either
// case, as logs print them.
func ID(v string) (string, bool) {
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", false
	}
	id := v[3:35]
	if !hex(id, true) {
		return "", false
	}
	return id, true
}

// Accepted reports whether a server following the W3C rules would take v
// as its parent trace: lowercase hex fields, a version other than ff,
// trace and parent ids not all zero, and for version 00 nothing more; a
// later version may add fields after a dash.
func Accepted(v string) bool {
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return false
	}
	version, id, parent, flags := v[:2], v[3:35], v[36:52], v[53:55]
	for _, f := range []string{version, id, parent, flags} {
		if !hex(f, false) {
			return false
		}
	}
	if version == "ff" || strings.Trim(id, "0") == "" || strings.Trim(parent, "0") == "" {
		return false
	}
	return len(v) == 55 || version != "00" && v[55] == '-'
}

func hex(s string, upper bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || upper && 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
