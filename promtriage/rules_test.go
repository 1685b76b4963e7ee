package promtriage_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/promtriage"
)

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("needs promtool (Debian's prometheus package)")
	}
	return p
}

// TestRules checks the shipped rules with promtool and runs their unit
// tests: what each alert does with a fleet's series.
func TestRules(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "triage.rules.yml"},
		{"test", "rules", "triage.rules.test.yml"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = "rules"
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "promtool %v:\n%s", args, out)
	}
}

// TestRulesUseTheCollectorsMetrics: every metric the rules read is one
// the collector exports, so a rename cannot leave an alert that never
// fires.
func TestRulesUseTheCollectorsMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("rules", "triage.rules.yml"))
	require.NoError(t, err)
	h := health.New(health.Options{Checks: []triage.Check{
		check("disk", triage.Finding{Code: "disk.full", Status: triage.Fail, Summary: "/data is full"}),
	}})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(promtriage.NewCollector(h)))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	exported := map[string]bool{}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
	}
	used := regexp.MustCompile(`\btriage_[a-z_]+`).FindAllString(string(b), -1)
	require.NotEmpty(t, used)
	for _, name := range used {
		assert.True(t, exported[name], "the rules read %s, which the collector does not export", name)
	}
}

// TestMetricsLint runs promtool's linter over a real scrape: names,
// units and types as Prometheus' guidelines want them.
func TestMetricsLint(t *testing.T) {
	bin := promtool(t)
	h := health.New(health.Options{Checks: []triage.Check{
		check("disk", triage.Finding{Code: "disk.full", Status: triage.Fail, Summary: "/data is full"}),
		check("sockstat", triage.Finding{Code: "sockstat.listening", Status: triage.OK, Summary: "listening"}),
	}})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(promtriage.NewCollector(h)))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		require.NoError(t, enc.Encode(mf))
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = &text
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "promtool check metrics:\n%s\n%s", out, text.String())
}
