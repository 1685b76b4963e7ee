package main

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBundled(t *testing.T) {
	fs := flag.NewFlagSet("ss", flag.ContinueOnError)
	for _, n := range []string{"l", "n", "t", "p"} {
		fs.Bool(n, false, "")
	}
	fs.Int("port", 0, "")
	fs.String("x", "", "")
	for _, tt := range []struct{ in, want []string }{
		{[]string{"-lntp"}, []string{"-l", "-n", "-t", "-p"}},
		{[]string{"-port", "80", "-lt"}, []string{"-port", "80", "-l", "-t"}},
		{[]string{"-lx"}, []string{"-lx"}},             // -x takes a value: not a bundle
		{[]string{"-lq"}, []string{"-lq"}},             // unknown letter: left for the parser to refuse
		{[]string{"--", "-lt"}, []string{"--", "-lt"}}, // after --, nothing is a flag
		{[]string{"-l"}, []string{"-l"}},
	} {
		assert.Equal(t, tt.want, bundled(fs, tt.in), "%q", tt.in)
	}
}
