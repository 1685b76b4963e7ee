package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-symptom", "slow"},
		{"-timeout", "0s"},
		{"-timeout", "-1s"},
		{"-nosuchflag"},
		{"stray"},
		{"-pid", "abc"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, 2, run(context.Background(), args, &out, &errb))
			assert.NotEmpty(t, errb.String())
		})
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &out, &errb))
	assert.Contains(t, errb.String(), "examples:")
}

func TestJSONShape(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-json", "-symptom", "timeout", "-timeout", "5s"}, &out, &errb)
	assert.Equal(t, 1, code, "a stated symptom is trouble")
	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	for _, k := range []string{"symptom", "hypotheses", "results"} {
		assert.Contains(t, got, k)
	}
	assert.JSONEq(t, `"timeout"`, string(got["symptom"]))
	var results []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(got["results"], &results))
	for _, r := range results {
		for _, k := range []string{"check", "status", "findings", "duration_ms"} {
			assert.Contains(t, r, k)
		}
	}
}
