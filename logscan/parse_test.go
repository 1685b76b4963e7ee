package logscan

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func TestParseTime(t *testing.T) {
	utc := time.UTC
	plus9 := time.FixedZone("", 9*3600)
	tests := []struct {
		name string
		line string
		want time.Time
		rest string // what follows the timestamp
	}{
		{"rfc3339", "2026-11-25T07:58:42Z INFO x", time.Date(2026, 11, 25, 7, 58, 42, 0, utc), " INFO x"},
		{"rfc3339 nano offset", "2026-11-25T16:58:42.123456789+09:00 x", time.Date(2026, 11, 25, 16, 58, 42, 123456789, plus9), " x"},
		{"offset without colon", "2026-11-25T16:58:42+0900 x", time.Date(2026, 11, 25, 16, 58, 42, 0, plus9), " x"},
		{"python comma millis", "2026-11-25 07:58:42,123 - app - ERROR - boom", time.Date(2026, 11, 25, 7, 58, 42, 123e6, utc), " - app - ERROR - boom"},
		{"logback dot millis", "2026-11-25 07:58:42.123 ERROR [main] x", time.Date(2026, 11, 25, 7, 58, 42, 123e6, utc), " ERROR [main] x"},
		{"bracketed rust", "[2026-11-25T07:58:42Z ERROR app] x", time.Date(2026, 11, 25, 7, 58, 42, 0, utc), " ERROR app] x"},
		{"bracketed python", "[2026-11-25 07:58:42,001] ERROR in app: x", time.Date(2026, 11, 25, 7, 58, 42, 1e6, utc), " ERROR in app: x"},
		{"go log", "2026/11/25 07:58:42 http: panic serving", time.Date(2026, 11, 25, 7, 58, 42, 0, utc), " http: panic serving"},
		{"go log micro", "2026/11/25 07:58:42.000123 x", time.Date(2026, 11, 25, 7, 58, 42, 123000, utc), " x"},
		{"nginx error", "2026/11/25 07:58:42 [error] 12#12: *1 connect() failed", time.Date(2026, 11, 25, 7, 58, 42, 0, utc), " [error] 12#12: *1 connect() failed"},
		{"syslog", "Nov 25 07:58:42 host app[12]: x", time.Date(2026, 11, 25, 7, 58, 42, 0, utc), " host app[12]: x"},
		{"syslog padded day", "Nov  5 07:58:42 host x", time.Date(2026, 11, 5, 7, 58, 42, 0, utc), " host x"},
		{"syslog last year", "Dec 31 23:59:59 host x", time.Date(2025, 12, 31, 23, 59, 59, 0, utc), " host x"},
		{"syslog pri", "<34>Nov 25 07:58:42 host x", time.Date(2026, 11, 25, 7, 58, 42, 0, utc), " host x"},
		{"rfc5424", "<165>1 2026-11-25T07:58:42.003Z host app - - x", time.Date(2026, 11, 25, 7, 58, 42, 3e6, utc), " host app - - x"},
		{"apache error", "[Wed Nov 25 07:58:42.123456 2026] [proxy:error] [pid 1] x", time.Date(2026, 11, 25, 7, 58, 42, 123456000, utc), " [proxy:error] [pid 1] x"},
		{"access log", `127.0.0.1 - - [25/Nov/2026:07:58:42 +0000] "GET / HTTP/1.1" 502 157`, time.Date(2026, 11, 25, 7, 58, 42, 0, utc), ` "GET / HTTP/1.1" 502 157`},
		{"glog", "E1125 07:58:42.123456    1234 main.go:12] boom", time.Date(2026, 11, 25, 7, 58, 42, 123456000, utc), "    1234 main.go:12] boom"},
		{"jul", "Nov 25, 2026 7:58:42 AM com.example.Main run", time.Date(2026, 11, 25, 7, 58, 42, 0, utc), " com.example.Main run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, end, ok := parseTime([]byte(tt.line), testNow, time.UTC)
			require.True(t, ok)
			assert.True(t, tt.want.Equal(got), "got %v want %v", got, tt.want)
			assert.Equal(t, tt.rest, tt.line[end:])
		})
	}
	for _, bad := range []string{"", "hello", "2026-13-25T07:58:42Z x", "2026-11-25T25:58:42Z", "Foo 25 07:58:42", "12:30:00 x", "[", "<1>"} {
		t.Run("no time "+bad, func(t *testing.T) {
			_, _, ok := parseTime([]byte(bad), testNow, time.UTC)
			assert.False(t, ok)
		})
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		level   string
		message string
		trace   string
		timeSet bool
	}{
		{"iso level", "2026-11-25T07:58:42Z ERROR payment failed", "error", "payment failed", "", true},
		{"bracket level", "2026/11/25 07:58:42 [crit] 1#1: x", "fatal", "1#1: x", "", true},
		{"python", "2026-11-25 07:58:42,123 - app - WARNING - slow", "warn", "app - WARNING - slow", "", true},
		{"logfmt", `time=2026-11-25T07:58:42Z level=error msg="db down" err="dial tcp 10.0.0.5:5432: i/o timeout" trace_id=abcd1234`, "error", "db down: dial tcp 10.0.0.5:5432: i/o timeout", "abcd1234", true},
		{"glog", "E1125 07:58:42.123456 1 main.go:1] boom", "error", "1 main.go:1] boom", "", true},
		{"json", `{"ts":1764057522.5,"level":"ERROR","msg":"boom","traceId":"t-1234"}`, "error", "boom", "t-1234", true},
		{"json traceparent", `{"time":"2026-11-25T07:58:42Z","severity":"warning","message":"slow","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`, "warn", "slow", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"json nested level", `{"@timestamp":"2026-11-25T07:58:42.1Z","log":{"level":"error"},"message":"x","correlation_id":"c-99"}`, "error", "x", "c-99", true},
		{"json millis", `{"timestamp":1764057522000,"level":"info","msg":"ok","request_id":"r-777"}`, "info", "ok", "r-777", true},
		{"text traceparent", "2026-11-25T07:58:42Z INFO req traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "info", "req traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"mdc", "2026-11-25 07:58:42.1 ERROR [traceId: 5f3a9c] x", "error", "[traceId: 5f3a9c] x", "5f3a9c", true},
		{"no level", "plain text", "", "plain text", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := parseLine([]byte(tt.line), lineMeta{}, testNow, time.UTC)
			assert.Equal(t, tt.level, l.Level)
			assert.Equal(t, tt.message, l.Message)
			assert.Equal(t, tt.trace, l.TraceID)
			assert.Equal(t, tt.timeSet, !l.Time.IsZero())
			assert.Equal(t, tt.line, l.Text)
		})
	}
}

func TestSafeString(t *testing.T) {
	t.Run("nul and invalid utf8", func(t *testing.T) {
		s, cut := safeString([]byte("a\x00b\xff\xfec\x1b[31m\tok\r\n"), 100)
		assert.False(t, cut)
		assert.True(t, utf8.ValidString(s))
		assert.NotContains(t, s, "\x00")
		assert.NotContains(t, s, "\x1b")
		assert.Equal(t, "a\uFFFDb\uFFFD\uFFFDc\uFFFD[31m\tok", s)
	})
	t.Run("cut at rune boundary", func(t *testing.T) {
		s, cut := safeString([]byte(strings.Repeat("é", 10)), 5)
		assert.True(t, cut)
		assert.True(t, utf8.ValidString(s))
		assert.Equal(t, "éé…[truncated 16 bytes]", s)
	})
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"user 12345 not found", "user <n> not found"},
		{"dial tcp 10.0.0.5:5432: connect: connection refused", "dial tcp <ip>: connect: connection refused"},
		{"order 3f2a9c1e-4b7d-4e2a-9f1c-0a1b2c3d4e5f failed", "order <uuid> failed"},
		{"bad pointer 0xc000012345 at deadbeef1234", "bad pointer <hex> at <hex>"},
		{`key "abc" missing in 'tbl'`, `key "<q>" missing in '<q>'`},
		{"took 1.25s   after   3 tries", "took <n>s after <n> tries"},
		{"HikariPool-1 timeout on sda1", "HikariPool-<n> timeout on sda<n>"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, normalize(tt.in))
		})
	}
	assert.Equal(t, normalize("timeout after 100ms for user 7"), normalize("timeout after 250ms for user 9912"))
	assert.LessOrEqual(t, len(normalize(strings.Repeat("x", 10000))), maxSignatureLen)
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T07:58:42.123+09:00 x", "Nov  5 07:58:42 h", "<34>1 2026-11-25T07:58:42Z", "[Wed Nov 25 07:58:42.1 2026]", `1.2.3.4 - - [25/Nov/2026:07:58:42 +0000] "GET`, "E1125 07:58:42.1 x", "Nov 25, 2026 7:58:42 AM"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, end, ok := parseTime(b, testNow, time.UTC)
		if ok && (end < 0 || end > len(b)) {
			t.Fatalf("end %d out of range for %d bytes", end, len(b))
		}
	})
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"2026-11-25T07:58:42Z ERROR x trace_id=abcd", `{"ts":1,"level":"error","msg":"x","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`, "a\x00\xff", "level=error msg=\"x\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l := parseLine(b, lineMeta{}, testNow, time.UTC)
		if !utf8.ValidString(l.Text) || !utf8.ValidString(l.Message) {
			t.Fatalf("invalid UTF-8 out of %q", b)
		}
		_ = normalize(l.Message)
		_ = detect(l.Text, false)
	})
}

func FuzzParseKmsg(f *testing.F) {
	f.Add([]byte("6,1,0,-;Command line: x\n SUBSYSTEM=x\n"))
	f.Add([]byte("3,2,5,-,caller=T1;Out of memory: Killed process 12 (java)"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := parseKmsg(b)
		if ok && (r.prio < 0 || r.prio > 7) {
			t.Fatalf("priority %d", r.prio)
		}
	})
}
