package human

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 1023: "1023B", 1024: "1.0KiB", 1536: "1.5KiB", 3 << 30: "3.0GiB", 1 << 62: "4.0EiB"} {
		assert.Equal(t, want, Bytes(n), "%d", n)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[uint64]string{512: "512", 1536: "1.5K", 12 << 30: "12G", 10 << 20: "10M"} {
		assert.Equal(t, want, Size(n), "%d", n)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"/var/log": "/var/log", "": "''", "a b": "'a b'", "it's": `'it'\''s'`} {
		assert.Equal(t, want, Quote(in), "%q", in)
	}
}
