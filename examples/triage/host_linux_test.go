package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/host"
	"github.com/triagekit/triage/internal/testcgroup"
)

// TestPIDJudgesItsCgroup: with -pid, the host step judges the process's
// container, here a memory cgroup of 64MiB that a child nearly fills.
func TestPIDJudgesItsCgroup(t *testing.T) {
	m := testcgroup.NewMemory(t, 64<<20)
	pid := m.Hold(t, 60<<20)

	var out, errb bytes.Buffer
	run(context.Background(), []string{"-json", "-pid", strconv.Itoa(pid), "-timeout", "5s"}, &out, &errb)
	var doc jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
	var codes []string
	found := false
	for _, r := range doc.Results {
		if r.Check != "host" {
			continue
		}
		found = true
		var res host.Result
		require.NoError(t, r.typed(&res))
		require.NotNil(t, res.Cgroup, out.String())
		assert.Equal(t, uint64(64<<20), res.Cgroup.MemoryMaxBytes)
		for _, f := range r.Findings {
			codes = append(codes, f.Code)
		}
	}
	require.True(t, found, "the host step ran")
	assert.Contains(t, codes, string(host.CodeCgroupMemoryNearLimit))
}
