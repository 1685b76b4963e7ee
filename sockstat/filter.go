package sockstat

import (
	"bytes"
	"strconv"
)

// matchFilter applies request port ranges in user space, as the
// kernel does with the compiled bytecode.
func matchFilter(f []portRange, m *diagMsg) bool {
	if len(f) == 0 {
		return true
	}
	for _, pr := range f {
		p := m.local.Port()
		if pr.peer {
			p = m.peer.Port()
		}
		if p >= pr.lo && p <= pr.hi {
			return true
		}
	}
	return false
}

// releaseAtLeast reports whether a kernel release ("6.10.3-arch1") is
// at least major.minor.
func releaseAtLeast(rel string, major, minor int) bool {
	a, rest, _ := bytes.Cut([]byte(rel), []byte("."))
	b, _, _ := bytes.Cut(rest, []byte("."))
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	ma, err1 := strconv.Atoi(string(a))
	mi, err2 := strconv.Atoi(string(b[:i]))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
