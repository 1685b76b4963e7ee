package promtriage_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/promtriage"
)

// Names that Prometheus cannot take as they are never crash the process
// or fail the scrape: invalid UTF-8 is mended, checks that share a name
// are one series whose status is the worst of theirs.
func TestCollectBadNames(t *testing.T) {
	tests := []struct {
		name   string
		checks []triage.Check
		want   string
	}{
		{"invalid UTF-8", []triage.Check{
			check("db\xff\xfe", triage.Finding{Code: "db.\xffdown", Status: triage.Fail, Summary: "down"}),
		}, `
triage_check_status{check="db�",status="fail"} 1
triage_check_status{check="db�",status="ok"} 0
triage_check_status{check="db�",status="unknown"} 0
triage_check_status{check="db�",status="warn"} 0
triage_findings{check="db�",code="db.�down",status="fail"} 1
`},
		{"duplicate names", []triage.Check{
			check("db", triage.Finding{Code: "db.ok", Status: triage.OK, Summary: "up"}),
			check("db", triage.Finding{Code: "db.down", Status: triage.Fail, Summary: "down"}),
			check("db", triage.Finding{Code: "db.down", Status: triage.Fail, Summary: "down"}),
		}, `
triage_check_status{check="db",status="fail"} 1
triage_check_status{check="db",status="ok"} 0
triage_check_status{check="db",status="unknown"} 0
triage_check_status{check="db",status="warn"} 0
triage_findings{check="db",code="db.down",status="fail"} 2
triage_findings{check="db",code="db.ok",status="ok"} 1
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := health.New(health.Options{Checks: tt.checks})
			reg := prometheus.NewPedanticRegistry()
			require.NoError(t, reg.Register(promtriage.NewCollector(h)))
			srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "the scrape succeeds")

			want := "# HELP triage_check_status Current status of a triage check: 1 for the status it has, 0 for the others.\n# TYPE triage_check_status gauge\n"
			lines := strings.Split(strings.TrimSpace(tt.want), "\n")
			want += strings.Join(lines[:4], "\n") + "\n# HELP triage_findings Findings of a triage check by code and status.\n# TYPE triage_findings gauge\n" + strings.Join(lines[4:], "\n") + "\n"
			assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "triage_check_status", "triage_findings"))
		})
	}
}
