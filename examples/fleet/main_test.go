package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestFleet runs the example end to end against a real Prometheus: three
// services in namespaces of their own, the middle one's database gone,
// and Prometheus naming its cause and firing the alert for it alone.
func TestFleet(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, bin := range []string{"prometheus", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (Debian: prometheus, iproute2)", bin)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, 3), out.String())
	text := out.String()
	assert.Contains(t, text, "all 3 services ready")
	assert.Contains(t, text, "prometheus: instance 10.253.2.2:8080 has top hypothesis 5xx.dependency_down (layer dependency)")
	assert.Contains(t, text, "alert TriageCause firing: instance 10.253.2.2:8080, 5xx.dependency_down")
	for _, healthy := range []string{"10.253.1.2:8080", "10.253.3.2:8080"} {
		assert.NotContains(t, text, "instance "+healthy, "a healthy instance has no hypothesis and no alert")
	}
	// Nothing is left behind: namespaces and links go with the run.
	ns, err := exec.Command("ip", "netns", "list").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(ns), "triage-fleet-")
	assert.False(t, strings.Contains(text, "error"), text)
}

func TestBadInput(t *testing.T) {
	for _, n := range []int{0, -1, 51} {
		assert.Error(t, run(context.Background(), &bytes.Buffer{}, n), "n=%d", n)
	}
}
