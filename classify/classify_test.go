package classify_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/probe"
)

// result makes the common part of a result as a check of the kind its
// findings' codes name would: a "tcp." finding comes from probe.tcp, and
// so on. name is the caller's name for the check when it is not the kind.
// The port and host of the findings' evidence are the check's target, as
// the probes and sockstat set it.
func result(name string, fs ...triage.Finding) triage.Outcome {
	kind := name
	if len(fs) > 0 {
		switch code := string(fs[0].Code); {
		case strings.HasPrefix(code, "tcp."):
			kind = probe.KindTCP
		case strings.HasPrefix(code, "http."):
			kind = probe.KindHTTP
		case strings.HasPrefix(code, "sockstat."):
			kind = "sockstat"
		}
	}
	r := &triage.Result{Check: kind}
	if name != kind {
		r.Name = name
	}
	for _, f := range fs {
		if p, ok := f.Evidence.Int(triage.KeyPort); ok && r.Target.Port == 0 {
			r.Target.Port = int(p)
		}
		if h := f.Evidence.String(triage.KeyHost); h != "" && r.Target.Host == "" {
			r.Target.Host = h
		}
	}
	r.Add(fs...)
	r.Finish(nil)
	return r
}

func finding(code string, s triage.Status, ev ...slog.Attr) triage.Finding {
	return triage.Finding{Code: triage.Code(code), Status: s, Summary: code + " seen", Evidence: ev}
}

func ids(r classify.Report) []classify.ID {
	out := make([]classify.ID, len(r.Hypotheses))
	for i, h := range r.Hypotheses {
		out[i] = h.ID
	}
	return out
}

func TestClassifyTop(t *testing.T) {
	port := slog.Int("port", 8080)
	tests := []struct {
		name    string
		given   classify.Symptom
		results []triage.Outcome
		symptom classify.Symptom
		top     classify.ID
	}{
		{
			name: "refused, nothing listens",
			results: []triage.Outcome{
				result("probe.tcp", finding("tcp.refused", triage.Fail, port, slog.String("host", "127.0.0.1"))),
				result("sockstat", finding("sockstat.no_listener", triage.Fail, port)),
			},
			symptom: classify.Refused, top: classify.RefusedNotListening,
		},
		{
			name: "refused, process gone explains the closed port",
			results: []triage.Outcome{
				result("probe.tcp", finding("tcp.refused", triage.Fail, port)),
				result("sockstat", finding("sockstat.no_listener", triage.Fail, port)),
				result("process", finding("process.not_found", triage.Fail, slog.String(triage.KeyProcess, "api"))),
			},
			symptom: classify.Refused, top: classify.RefusedNoProcess,
		},
		{
			name: "refused while listening means a firewall",
			results: []triage.Outcome{
				result("probe.tcp", finding("tcp.refused", triage.Fail, port)),
				result("sockstat", finding("sockstat.listening", triage.OK, port)),
				result("process", finding("process.running", triage.OK)),
			},
			symptom: classify.Refused, top: classify.RefusedFirewall,
		},
		{
			name: "a listener on another port says nothing about the refused one",
			results: []triage.Outcome{
				result("dep", finding("tcp.refused", triage.Fail, slog.Int("port", 5432))),
				result("self", finding("tcp.connected", triage.OK, port)),
				result("sockstat", finding("sockstat.listening", triage.OK, port)),
			},
			symptom: classify.Refused, top: classify.RefusedNotListening,
		},
		{
			name: "refused by name, fine when pinned: the name is at fault",
			results: []triage.Outcome{
				result("by name", finding("tcp.refused", triage.Fail, port, slog.String("addr", "127.0.0.99"))),
				result("pinned", finding("http.ok", triage.OK, port, slog.Bool(probe.KeyPinned, true))),
				result("dnscheck", finding("dns.mismatch", triage.Warn)),
			},
			symptom: classify.Refused, top: classify.DNSMismatch,
		},
		{
			name: "refused, bound to another address",
			results: []triage.Outcome{
				result("probe.tcp", finding("tcp.refused", triage.Fail, port)),
				result("sockstat", finding("sockstat.wrong_address", triage.Fail, port, slog.String("listen_addr", "127.0.0.2"))),
			},
			symptom: classify.Refused, top: classify.RefusedWrongAddress,
		},
		{
			name: "timeout with a full accept queue",
			results: []triage.Outcome{
				result("probe.tcp", finding("tcp.timeout", triage.Fail, port)),
				result("sockstat", finding("sockstat.accept_queue_full", triage.Fail, port)),
			},
			symptom: classify.Timeout, top: classify.TimeoutBacklogFull,
		},
		{
			name:    "timeout with nothing else is a drop",
			results: []triage.Outcome{result("probe.tcp", finding("tcp.timeout", triage.Fail, port))},
			symptom: classify.Timeout, top: classify.TimeoutPacketDrop,
		},
		{
			name: "silent server",
			results: []triage.Outcome{
				result("probe.http", finding("tcp.connected", triage.OK), finding("http.no_first_byte", triage.Fail)),
			},
			symptom: classify.Timeout, top: classify.TimeoutSlowApp,
		},
		{
			name: "slow because the pool is exhausted",
			results: []triage.Outcome{
				result("probe.http", finding("http.no_first_byte", triage.Fail)),
				result("probe.db", finding("db.pool_exhausted", triage.Fail)),
			},
			symptom: classify.Timeout, top: classify.TimeoutDependency,
		},
		{
			name: "502 with the upstream refused in nginx's log",
			results: []triage.Outcome{
				result("probe.http", finding("http.status_5xx", triage.Fail, slog.Int(probe.KeyHTTPStatus, 502))),
				result("logscan", finding("log.upstream_refused", triage.Fail, slog.String("target", "127.0.0.1:9000"))),
			},
			symptom: classify.Status5xx, top: classify.UpstreamRefused,
		},
		{
			name: "504 alone points at a hung upstream",
			results: []triage.Outcome{
				result("probe.http", finding("http.status_5xx", triage.Fail, slog.Int(probe.KeyHTTPStatus, 504))),
			},
			symptom: classify.Status5xx, top: classify.UpstreamTimeout,
		},
		{
			name: "500 and no space left",
			results: []triage.Outcome{
				result("probe.http", finding("http.status_5xx", triage.Fail, slog.Int(probe.KeyHTTPStatus, 500))),
				result("logscan", finding("log.errors", triage.Warn), finding("log.disk_full", triage.Fail)),
			},
			symptom: classify.Status5xx, top: classify.DiskFullWrites,
		},
		{
			name:    "no symptom, full disk",
			results: []triage.Outcome{result("diskcheck", finding("disk.full", triage.Fail, slog.String("path", "/var/log")))},
			symptom: classify.None, top: classify.DiskFull,
		},
		{
			name:  "given symptom without a probe",
			given: classify.Timeout,
			results: []triage.Outcome{
				result("host", finding("host.cpu_saturated", triage.Fail)),
			},
			symptom: classify.Timeout, top: classify.TimeoutResourceSaturation,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := classify.Classify(tt.results, classify.Options{Symptom: tt.given})
			assert.Equal(t, tt.symptom, rep.Symptom)
			assert.Equal(t, tt.given == "" && tt.symptom != classify.None, rep.Derived)
			top, ok := rep.Top()
			require.True(t, ok, "a hypothesis is raised")
			assert.Equal(t, tt.top, top.ID, "ranking: %v", ids(rep))
			assert.NotEmpty(t, top.Evidence)
			assert.NotEmpty(t, top.Summary)
			for i := 1; i < len(rep.Hypotheses); i++ {
				assert.GreaterOrEqual(t, rep.Hypotheses[i-1].Score, rep.Hypotheses[i].Score)
			}
		})
	}
}

func TestClassifyHealthyIsEmpty(t *testing.T) {
	rep := classify.Classify([]triage.Outcome{
		result("probe.http", finding("tcp.connected", triage.OK), finding("http.ok", triage.OK)),
		result("sockstat", finding("sockstat.listening", triage.OK)),
		result("process", finding("process.running", triage.OK)),
		nil,
	}, classify.Options{})
	assert.Equal(t, classify.None, rep.Symptom)
	assert.Empty(t, rep.Hypotheses)
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.JSONEq(t, `{"symptom":"none","symptom_derived":false,"hypotheses":[],"inconclusive":false,"background":[],
		"ruled_out":[{"check":"probe.tcp","name":"probe.http","code":"tcp.connected","status":"ok","summary":"tcp.connected seen"},
			{"check":"probe.tcp","name":"probe.http","code":"http.ok","status":"ok","summary":"http.ok seen"},
			{"check":"sockstat","code":"sockstat.listening","status":"ok","summary":"sockstat.listening seen"},
			{"check":"process","code":"process.running","status":"ok","summary":"process.running seen"}]}`, string(b))
}

func TestClassifyAbsentEvidenceIsNotNegative(t *testing.T) {
	// Only the probe ran: the refused port still yields candidates, weakly.
	rep := classify.Classify([]triage.Outcome{
		result("probe.tcp", finding("tcp.refused", triage.Fail, slog.Int("port", 81))),
	}, classify.Options{})
	assert.Equal(t, classify.Refused, rep.Symptom)
	assert.Equal(t, []classify.ID{classify.RefusedNotListening, classify.RefusedFirewall}, ids(rep))
	assert.Less(t, rep.Hypotheses[0].Score, 0.5, "weak without sockstat")
}

func TestClassifyContradictionLowersScore(t *testing.T) {
	base := []triage.Outcome{
		result("probe.tcp", finding("tcp.timeout", triage.Fail)),
		result("sockstat", finding("sockstat.syn_sent_backlog", triage.Warn)),
	}
	plain := classify.Classify(base, classify.Options{})
	contra := classify.Classify(append(base, result("probe.tcp2", finding("tcp.connected", triage.OK))), classify.Options{Symptom: classify.Timeout})
	a, ok := plain.Find(classify.TimeoutPacketDrop)
	require.True(t, ok)
	b, ok := contra.Find(classify.TimeoutPacketDrop)
	require.True(t, ok)
	assert.Less(t, b.Score, a.Score)
	assert.NotEmpty(t, b.Against)
}

func TestClassifySymptomFrom(t *testing.T) {
	results := []triage.Outcome{
		result("target", finding("http.ok", triage.OK)),
		result("dep db", finding("tcp.refused", triage.Fail)),
	}
	assert.Equal(t, classify.Refused, classify.Classify(results, classify.Options{}).Symptom)
	assert.Equal(t, classify.None, classify.Classify(results, classify.Options{SymptomFrom: []string{"target"}}).Symptom)
}

func TestClassifyCustomRulesAndWeights(t *testing.T) {
	results := []triage.Outcome{
		result("diskcheck", finding("disk.full", triage.Fail, slog.String("path", "/data"))),
		result("app", finding("app.queue_stuck", triage.Fail, slog.String("queue", "orders"))),
	}
	mine := classify.Rule{
		ID: "app.queue_stuck", Layer: classify.LayerProcess, Weight: 0.99, Title: "the order queue is stuck",
		Support: []classify.Sign{{Code: "app.queue_stuck", Weight: 1}},
		Next:    []string{"queuectl inspect {queue}", "never {missing}"},
	}
	rep := classify.Classify(results, classify.Options{Rules: []classify.Rule{mine}})
	require.Equal(t, []classify.ID{"app.queue_stuck", classify.DiskFull}, ids(rep))
	assert.Equal(t, []string{"queuectl inspect orders", "never <missing>"}, rep.Hypotheses[0].Next,
		"a fact nobody knows stays a visible hole, not a command that disappears")

	rep = classify.Classify(results, classify.Options{Rules: []classify.Rule{mine}, Weights: map[classify.ID]float64{"app.queue_stuck": 0.1}})
	assert.Equal(t, classify.DiskFull, rep.Hypotheses[0].ID, "weights override")

	rep = classify.Classify(results, classify.Options{Rules: []classify.Rule{mine}, NoDefaults: true})
	assert.Equal(t, []classify.ID{"app.queue_stuck"}, ids(rep))
}

func TestClassifyDeterministicTies(t *testing.T) {
	results := []triage.Outcome{
		result("sockstat", finding("sockstat.syn_sent_backlog", triage.Warn)),
		result("sockstat2", finding("sockstat.time_wait_excess", triage.Warn)),
	}
	first := ids(classify.Classify(results, classify.Options{}))
	for range 20 {
		assert.Equal(t, first, ids(classify.Classify(results, classify.Options{})))
	}
	// Equal scores and equal support go by id, never by the order of
	// the rules.
	assert.Equal(t, []classify.ID{classify.ConnSynSentBacklog, classify.ConnTimeWaitExcess}, first)
}

func TestClassifyNextCommandsFromEvidence(t *testing.T) {
	rep := classify.Classify([]triage.Outcome{
		result("probe.tcp", triage.Finding{Code: "tcp.refused", Status: triage.Fail, Summary: "refused",
			Evidence: triage.Evidence{slog.String("host", "127.0.0.1"), slog.Int("port", 8080)}}),
		result("sockstat", triage.Finding{Code: "sockstat.no_listener", Status: triage.Fail, Summary: "no listener on :8080",
			Evidence: triage.Evidence{slog.Int("port", 8080)}, Command: "ss -lntp 'sport = :8080'"}),
	}, classify.Options{})
	top, _ := rep.Top()
	assert.Equal(t, []string{"ss -lntp 'sport = :8080'", "lsof -iTCP:8080 -sTCP:LISTEN -nP"}, top.Next)
	assert.Contains(t, top.Summary, "no listener on :8080", "explanation carries the measured values")

	var buf bytes.Buffer
	require.NoError(t, rep.WriteText(&buf))
	assert.Contains(t, buf.String(), "1. refused.not_listening")
	assert.Contains(t, buf.String(), "$ ss -lntp 'sport = :8080'")
}

func TestParseSymptom(t *testing.T) {
	for _, s := range []string{"none", "refused", "timeout", "5xx", "slow", "tls", "4xx"} {
		got, err := classify.ParseSymptom(s)
		require.NoError(t, err)
		assert.Equal(t, classify.Symptom(s), got)
	}
	got, err := classify.ParseSymptom("")
	require.NoError(t, err)
	assert.Equal(t, classify.None, got, `"" is none`)
	_, err = classify.ParseSymptom("sluggish")
	assert.ErrorIs(t, err, triage.ErrInvalid)
}

func TestDefaultRulesAreWellFormed(t *testing.T) {
	seen := map[classify.ID]bool{}
	for _, r := range classify.DefaultRules() {
		assert.False(t, seen[r.ID], "duplicate id %s", r.ID)
		seen[r.ID] = true
		assert.NotEmpty(t, r.Support, r.ID)
		assert.NotEmpty(t, r.Title, r.ID)
		assert.NotEmpty(t, r.Layer, r.ID)
		assert.Greater(t, r.Weight, 0.0, r.ID)
		assert.LessOrEqual(t, r.Weight, 1.0, r.ID)
	}
	// Every stable id of the design has a rule.
	for _, id := range []classify.ID{
		"refused.no_process", "refused.not_listening", "refused.wrong_address", "refused.firewall",
		"timeout.packet_drop", "timeout.backlog_full", "timeout.slow_app", "timeout.resource_saturation",
		"timeout.dependency", "timeout.dns", "5xx.upstream_refused", "5xx.upstream_timeout", "5xx.app_error",
		"5xx.disk_full", "dns.nxdomain", "dns.servfail", "dns.mismatch", "dns.hosts_override", "dns.ipv6_broken",
		"disk.full", "disk.inodes_exhausted", "disk.readonly", "disk.deleted_open_files",
		"conn.time_wait_excess", "conn.syn_sent_backlog", "conn.fd_exhaustion",
		"resource.cpu_saturated", "resource.memory_pressure", "resource.oom_killed",
	} {
		assert.True(t, seen[id], "missing rule for %s", id)
	}
}

func TestClassifyOKFindingsSupportOnlyWhereTheSignSaysSo(t *testing.T) {
	// On record but healthy: kills since boot, none during the check.
	rep := classify.Classify([]triage.Outcome{
		result("host", finding("host.oom_kills", triage.OK, slog.Int("oom_kills", 2))),
	}, classify.Options{})
	assert.Empty(t, rep.Hypotheses)

	// A listener present is healthy alone, telling under "refused".
	rep = classify.Classify([]triage.Outcome{
		result("sockstat", finding("sockstat.listening", triage.OK)),
	}, classify.Options{Symptom: classify.Refused})
	top, ok := rep.Top()
	require.True(t, ok)
	assert.Equal(t, classify.RefusedFirewall, top.ID)
}

// TestPinnedAnswerSpeaksAgainstTheServer: when the same URL answers with
// the name pinned (curl --resolve) but is refused by name, the refused
// hypotheses that blame the server lose ground to DNS.
func TestPinnedAnswerSpeaksAgainstTheServer(t *testing.T) {
	port := slog.Int("port", 8080)
	byName := result("by name", finding("tcp.refused", triage.Fail, port))
	mismatch := result("dnscheck", finding("dns.mismatch", triage.Warn))
	pinned := result("pinned", finding("http.ok", triage.OK, port, slog.Bool(probe.KeyPinned, true)))
	direct := result("direct", finding("http.ok", triage.OK, slog.Int("port", 9090)))

	without := classify.Classify([]triage.Outcome{byName, mismatch, direct}, classify.Options{})
	with := classify.Classify([]triage.Outcome{byName, mismatch, pinned}, classify.Options{})
	for _, id := range []classify.ID{classify.RefusedNotListening, classify.RefusedFirewall} {
		a, ok := without.Find(id)
		require.True(t, ok, id)
		b, ok := with.Find(id)
		if !ok {
			continue // dropped below the floor: lowered all the way
		}
		assert.Less(t, b.Score, a.Score, id)
		require.NotEmpty(t, b.Against, id)
		assert.Equal(t, "pinned", b.Against[len(b.Against)-1].Name, id)
	}
	top, ok := with.Top()
	require.True(t, ok)
	assert.Equal(t, classify.DNSMismatch, top.ID)
}

// TestOtherFilesystemIsBackground: a disk check asked about the log's
// directory that also looks at every filesystem finds another one full.
// That one holds none of the target's paths: background, not a cause.
func TestOtherFilesystemIsBackground(t *testing.T) {
	disk := &triage.Result{Check: "diskcheck", Target: triage.Target{Paths: []string{"/var/log"}}}
	disk.Add(triage.Finding{Code: "disk.full", Status: triage.Fail, Summary: "/mnt/batch is full",
		Evidence: triage.Evidence{slog.String("mount_point", "/mnt/batch")}})
	disk.Add(triage.Finding{Code: "disk.space_low", Status: triage.OK, Summary: "/var has room",
		Evidence: triage.Evidence{slog.String("mount_point", "/var"), slog.String("path", "/var/log")}})
	disk.Finish(nil)
	rep := classify.Classify([]triage.Outcome{disk}, classify.Options{Target: triage.Target{URL: "http://127.0.0.1:8080/", Port: 8080}})
	assert.Empty(t, rep.Hypotheses)
	require.Len(t, rep.Background, 1)
	assert.Equal(t, classify.DiskFull, rep.Background[0].ID)

	// The same finding on the filesystem that holds the log is the target's.
	disk.Findings[0].Evidence = triage.Evidence{slog.String("mount_point", "/var"), slog.String("path", "/var/log")}
	rep = classify.Classify([]triage.Outcome{disk}, classify.Options{Target: triage.Target{URL: "http://127.0.0.1:8080/", Port: 8080}})
	top, ok := rep.Cause()
	require.True(t, ok)
	assert.Equal(t, classify.DiskFull, top.ID)
}
