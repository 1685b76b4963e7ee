package sockstat

import "context"

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

// supported reports whether this platform can read sockets at all.
func supported() bool {
	_, err := newReader(context.Background(), &Options{ProcRoot: "/proc"})
	return err == nil
}
