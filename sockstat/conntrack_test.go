package sockstat

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// The file as a 6.18 kernel writes it, with two CPUs.
const nfConntrackStat = `entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000003 00000000 00000000  00000000 00000000 00000000 00000000
00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 0000000a 00000000 00000000  00000000 00000000 00000000 00000000
`

func TestConntrackDrops(t *testing.T) {
	n, err := conntrackDrops([]byte(nfConntrackStat))
	require.NoError(t, err)
	assert.Equal(t, uint64(13), n, "3 + 0xa")

	for _, bad := range []string{
		"entries found\n00000001 00000002\n",                      // no drop column
		"entries drop\n00000001\n",                                // a short line
		"entries drop\n00000001 zz\n",                             // not hexadecimal
		"entries drop\n00000001 ffffffffffffffffffffffffffffff\n", // overflows
	} {
		_, err := conntrackDrops([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
	n, err = conntrackDrops([]byte("entries drop\n"))
	require.NoError(t, err, "no CPU lines: nothing counted")
	assert.Zero(t, n)
}

func TestConntrackFinding(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		ct                   Counters
		want                 triage.Status // Unknown for none
		drops, entries, max_ int64
	}{
		{"roomy", Counters{ConntrackEntries: 100, ConntrackMax: 1000}, triage.Unknown, 0, 0, 0},
		{"untracked", Counters{}, triage.Unknown, 0, 0, 0},
		{"nearly full", Counters{ConntrackEntries: 900, ConntrackMax: 1000}, triage.Warn, 0, 900, 1000},
		{"full, no sample", Counters{ConntrackEntries: 1000, ConntrackMax: 1000}, triage.Fail, 0, 1000, 1000},
		{"dropped in the window", Counters{ConntrackEntries: 1, ConntrackMax: 1000, Window: time.Second,
			Growth: &Counters{ConntrackDrops: 7, ConntrackEntries: 990, ConntrackMax: 1000}}, triage.Fail, 7, 990, 1000},
		{"emptied by the end of the window", Counters{ConntrackEntries: 1000, ConntrackMax: 1000, Window: time.Second,
			Growth: &Counters{ConntrackEntries: 10, ConntrackMax: 1000}}, triage.Unknown, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Result{Source: Source{NetNS: 4026531840}}
			conntrackFinding(&r, &tc.ct)
			f, ok := r.Find(CodeConntrackFull)
			if tc.want == triage.Unknown {
				assert.False(t, ok, "%v", r.Findings)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, f.Status)
			for k, v := range map[string]int64{"drops": tc.drops, "entries": tc.entries, "max": tc.max_, triage.KeyNetNS: 4026531840} {
				n, _ := f.Evidence.Int(k)
				assert.Equal(t, v, n, k)
			}
		})
	}
}
