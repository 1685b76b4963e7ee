package traceparent

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct {
		v        string
		id       string // "" when ID refuses it
		accepted bool
	}{
		{"00-" + id + "-00f067aa0ba902b7-01", id, true},
		{"01-" + id + "-00f067aa0ba902b7-01-extra", id, true},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "4BF92F3577B34DA6A3CE929D0E0E4736", false},
		{"ff-" + id + "-00f067aa0ba902b7-01", id, false},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00000000000000000000000000000000", false},
		{"00-" + id + "-0000000000000000-01", id, false},
		{"00-" + id + "-00f067aa0ba902b7-01-extra", id, false},
		{"01-" + id + "-00f067aa0ba902b7-01x", id, false},
		{"00-" + id + "-00f067aa0ba902b7-0", "", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", "", false},
		{"00_" + id + "-00f067aa0ba902b7-01", "", false},
		{"", "", false},
	} {
		got, ok := ID(tc.v)
		assert.Equal(t, tc.id, got, tc.v)
		assert.Equal(t, tc.id != "", ok, tc.v)
		assert.Equal(t, tc.accepted, Accepted(tc.v), tc.v)
	}
}
