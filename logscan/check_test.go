package logscan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func writeLog(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return p
}

func fixedNow() time.Time { return testNow }

// fileOpts reads only the given files, with the test clock and UTC.
// fileOpts reads the last DefaultLines lines whatever their age, as
// the fixtures' timestamps are fixed.
func fileOpts(files ...string) Options {
	return Options{Files: files, Now: fixedNow, Location: time.UTC, Lines: DefaultLines}
}

// TestDefaultWindowIsRecent: with neither Lines nor Since, the window is
// the last DefaultSince: an error from an hour ago is history, not a
// failure, while one from a minute ago still counts.
func TestDefaultWindowIsRecent(t *testing.T) {
	now := fixedNow()
	p := writeLog(t, t.TempDir(), "app.log",
		now.Add(-time.Hour).Format(time.RFC3339)+" ERROR dial tcp 10.0.0.9:5432: connect: connection refused",
		now.Add(-20*time.Minute).Format(time.RFC3339)+" INFO recovered",
	)
	r := Check(context.Background(), Options{Files: []string{p}, Now: fixedNow, Location: time.UTC})
	require.NoError(t, r.Err)
	assert.Equal(t, triage.OK, r.Status, "old trouble is history: %v", r.Findings)
	assert.Zero(t, r.ErrorLines)

	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(now.Add(-time.Minute).Format(time.RFC3339) + " ERROR dial tcp 10.0.0.9:5432: connect: connection refused\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	r = Check(context.Background(), Options{Files: []string{p}, Now: fixedNow, Location: time.UTC})
	assert.Contains(t, codes(r), CodeDependencyRefused)
	assert.Equal(t, 1, r.ErrorLines)
}

func codes(r Result) []triage.Code {
	var out []triage.Code
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

func signal(t *testing.T, r Result, code triage.Code, target string) Signal {
	t.Helper()
	for _, s := range r.Signals {
		if s.Code == code && s.Target == target {
			return s
		}
	}
	t.Fatalf("no %s signal for %q in %+v", code, target, r.Signals)
	return Signal{}
}

const javaTrace = `2026-11-25 07:52:00,123 ERROR [http-nio-8080-exec-1] c.e.Payments - charge failed for order 12345
org.springframework.web.client.ResourceAccessException: I/O error on POST request for "http://payments:8443/charge": Connection refused
	at org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:785)
	at com.example.Payments.charge(Payments.java:42)
Caused by: java.net.ConnectException: Connection refused (Connection refused)
	at java.base/java.net.PlainSocketImpl.socketConnect(Native Method)
	... 12 common frames omitted`

const goPanic = `2026/11/25 07:53:00 http: panic serving 127.0.0.1:51234: runtime error: invalid memory address or nil pointer dereference
goroutine 42 [running]:
net/http.(*conn).serve.func1()
	/usr/local/go/src/net/http/server.go:1898 +0xbe
panic({0x6b8f20?, 0x9c4f90?})
	/usr/local/go/src/runtime/panic.go:770 +0x132
main.handler({0x7f1c58, 0xc0001a2000}, 0xc0001b6000)
	/app/main.go:21 +0x1d
created by net/http.(*Server).Serve in goroutine 1
	/usr/local/go/src/net/http/server.go:3285 +0x4b4`

const pyTrace = `2026-11-25 07:54:00,001 ERROR app: request failed
Traceback (most recent call last):
  File "/app/app.py", line 10, in handle
    r = requests.get("http://search:9200/q", timeout=5)
  File "/usr/lib/python3/site-packages/requests/api.py", line 73, in get
    return request("get", url, params=params, **kwargs)
requests.exceptions.ConnectionError: HTTPConnectionPool(host='search', port=9200): Max retries exceeded with url: /q (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))`

func TestCheckStackTraces(t *testing.T) {
	dir := t.TempDir()
	p := writeLog(t, dir, "app.log",
		"2026-11-25 07:51:00,000 INFO started",
		javaTrace,
		"2026-11-25 07:52:30,000 INFO still here",
		goPanic,
		"2026/11/25 07:53:30 served /health",
		pyTrace,
		"2026-11-25 07:55:00,000 INFO done",
	)
	r := Check(context.Background(), fileOpts(p))
	require.NoError(t, r.Err)
	assert.Equal(t, KindCheck, r.Check)
	assert.Equal(t, triage.Target{Paths: []string{p}}, r.Target)
	assert.Equal(t, 3, r.ErrorLines)
	assert.Equal(t, 3, r.StackTraces)
	assert.Equal(t, 28, r.Lines)
	byPrefix := map[string]Signature{}
	for _, s := range r.Signatures {
		byPrefix[strings.Fields(s.Pattern)[0]] = s
	}
	t.Run("java", func(t *testing.T) {
		s := byPrefix["[http-nio-<n>-exec-<n>]"]
		require.Len(t, s.Example.Stack, 6)
		assert.Contains(t, s.Example.Stack[3], "Caused by: java.net.ConnectException")
		assert.Equal(t, "error", s.Example.Level)
		assert.Equal(t, "payments:8443", signal(t, r, CodeDependencyRefused, "payments:8443").Target)
	})
	t.Run("go", func(t *testing.T) {
		s := byPrefix["http:"]
		assert.Len(t, s.Example.Stack, 9)
		assert.Equal(t, time.Date(2026, 11, 25, 7, 53, 0, 0, time.UTC), s.Example.Time)
	})
	t.Run("python", func(t *testing.T) {
		s := byPrefix["app:"]
		assert.Len(t, s.Example.Stack, 6)
		assert.Equal(t, 1, signal(t, r, CodeDependencyRefused, "search:9200").Count)
	})
	assert.Contains(t, codes(r), CodeErrors)
	assert.NotContains(t, codes(r), CodeTimeoutsNoStack)
}

func TestCheckUncaughtPythonTraceback(t *testing.T) {
	p := writeLog(t, t.TempDir(), "stderr.log",
		"Traceback (most recent call last):",
		`  File "app.py", line 3, in <module>`,
		"    main()",
		"KeyError: 'user_42'",
		"next line",
	)
	r := Check(context.Background(), fileOpts(p))
	require.Len(t, r.Signatures, 1)
	assert.Equal(t, "KeyError: '<q>'", r.Signatures[0].Pattern)
	assert.Equal(t, 1, r.StackTraces)
}

func TestCheckSignaturesCounted(t *testing.T) {
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, fmt.Sprintf("2026-11-25T07:%02d:00Z ERROR user %d not found (id=%08x-1111-2222-3333-444455556666)", 20+i, i*7, i))
		if i%3 == 0 {
			lines = append(lines, fmt.Sprintf(`2026-11-25T07:%02d:30Z ERROR cache miss for key "k%d" after %dms`, 20+i, i, i*11))
		}
		lines = append(lines, fmt.Sprintf("2026-11-25T07:%02d:40Z INFO GET /api/%d 200", 20+i, i))
	}
	p := writeLog(t, t.TempDir(), "app.log", lines...)
	r := Check(context.Background(), fileOpts(p))
	require.Len(t, r.Signatures, 2)
	top := r.Signatures[0]
	assert.Equal(t, "user <n> not found (id=<uuid>)", top.Pattern)
	assert.Equal(t, 30, top.Count)
	assert.Equal(t, time.Date(2026, 11, 25, 7, 20, 0, 0, time.UTC), top.First)
	assert.Equal(t, time.Date(2026, 11, 25, 7, 49, 0, 0, time.UTC), top.Last)
	assert.Contains(t, top.Example.Text, "user 203 not found")
	assert.Equal(t, 10, r.Signatures[1].Count)
	f, ok := r.Find(CodeErrors)
	require.True(t, ok)
	n, _ := f.Evidence.Int("count")
	assert.EqualValues(t, 40, n)
	assert.Equal(t, top.Pattern, f.Evidence.String("top_signature"))
	assert.Equal(t, triage.Warn, r.Status)
}

func TestCheckTimeoutsWithoutStacks(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 0; i < 8; i++ {
		lines = append(lines, fmt.Sprintf("2026-11-25T07:5%d:00Z WARN call to orders failed: dial tcp 10.1.2.3:8080: i/o timeout", i))
		lines = append(lines, fmt.Sprintf("2026-11-25T07:5%d:10Z INFO GET /x 200", i))
	}
	r := Check(context.Background(), fileOpts(writeLog(t, dir, "a.log", lines...)))
	assert.Contains(t, codes(r), CodeTimeoutsNoStack)
	assert.Equal(t, 8, signal(t, r, CodeDependencyTimeout, "10.1.2.3:8080").Count)
	f, _ := r.Find(CodeDependencyTimeout)
	assert.Equal(t, "10.1.2.3:8080", f.Evidence.String("target"))
	assert.Equal(t, "10.1.2.3", f.Evidence.String(triage.KeyHost))
	port, _ := f.Evidence.Int(triage.KeyPort)
	assert.EqualValues(t, 8080, port)
	n, _ := f.Evidence.Int("count")
	assert.EqualValues(t, 8, n)

	r = Check(context.Background(), fileOpts(writeLog(t, dir, "b.log", append(lines, javaTrace)...)))
	assert.NotContains(t, codes(r), CodeTimeoutsNoStack, "a stack trace points at the application")
}

func TestCheckJSONTrace(t *testing.T) {
	dir := t.TempDir()
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	a := writeLog(t, dir, "api.log",
		`{"time":"2026-11-25T07:58:00Z","level":"info","msg":"request","traceparent":"00-`+id+`-00f067aa0ba902b7-01"}`,
		`{"time":"2026-11-25T07:58:01Z","level":"info","msg":"other","trace_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`,
		`{"time":"2026-11-25T07:58:02Z","level":"error","msg":"db call failed","traceId":"`+id+`","error":"dial tcp 10.0.0.5:5432: connect: connection refused"}`,
	)
	b := writeLog(t, dir, "worker.log",
		"2026-11-25T07:58:03Z ERROR job failed trace_id="+id+" err=timeout",
		"2026-11-25T07:58:04Z INFO unrelated",
	)
	o := fileOpts(a, b)
	o.TraceID = "00-" + id + "-00f067aa0ba902b7-01" // as the HTTP probe sends it
	r := Check(context.Background(), o)
	require.Len(t, r.Trace, 3)
	assert.Equal(t, id, r.Trace[0].TraceID)
	assert.Equal(t, "db call failed: dial tcp 10.0.0.5:5432: connect: connection refused", r.Trace[1].Message)
	assert.Equal(t, b, r.Trace[2].Source)
	f, ok := r.Find(CodeTraceFound)
	require.True(t, ok)
	n, _ := f.Evidence.Int("error_lines")
	assert.EqualValues(t, 2, n)
	n, _ = f.Evidence.Int("sources")
	assert.EqualValues(t, 2, n)
	assert.Equal(t, triage.OK, f.Status)
}

func TestCheckCallerPatterns(t *testing.T) {
	p := writeLog(t, t.TempDir(), "a.log",
		"2026-11-25T07:58:00Z INFO order 17 rejected by risk",
		"2026-11-25T07:58:01Z INFO order 18 accepted",
	)
	o := fileOpts(p)
	o.Patterns = []string{`order \d+ rejected`}
	r := Check(context.Background(), o)
	assert.Equal(t, 1, r.ErrorLines)
	require.Len(t, r.Signatures, 1)
	assert.Equal(t, "order <n> rejected by risk", r.Signatures[0].Pattern)
}

func TestCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		o    Options
		want error
	}{
		{"negative lines", Options{Files: []string{"x"}, Lines: -1}, triage.ErrInvalid},
		{"negative since", Options{Files: []string{"x"}, Since: -time.Second}, triage.ErrInvalid},
		{"empty path", Options{Files: []string{""}}, triage.ErrInvalid},
		{"bad pattern", Options{Files: []string{"x"}, Patterns: []string{"("}}, triage.ErrInvalid},
		{"pattern matching everything", Options{Files: []string{"x"}, Patterns: []string{".*"}}, triage.ErrInvalid},
		{"unit like a flag", Options{Units: []string{"--all"}}, triage.ErrInvalid},
		{"missing file", Options{Files: []string{filepath.Join(dir, "nope.log")}}, os.ErrNotExist},
		{"directory", Options{Files: []string{dir}}, triage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := Check(ctx, tt.o)
			assert.ErrorIs(t, r.Err, tt.want)
			assert.Equal(t, triage.Unknown, r.Status)
			assert.Equal(t, "logscan", r.Check)
		})
	}
}

func TestCheckMissingFileKeepsOthers(t *testing.T) {
	dir := t.TempDir()
	p := writeLog(t, dir, "a.log", "2026-11-25T07:58:00Z ERROR dial tcp 10.0.0.1:80: connect: connection refused")
	r := Check(context.Background(), fileOpts(filepath.Join(dir, "gone.log"), p))
	assert.ErrorIs(t, r.Err, os.ErrNotExist)
	assert.Equal(t, triage.Fail, r.Status, "the refused connection is still reported")
	assert.Contains(t, codes(r), CodeDependencyRefused)
	require.Len(t, r.Sources, 2)
	assert.NotEmpty(t, r.Sources[0].Error)
}

func TestCheckCancelled(t *testing.T) {
	p := writeLog(t, t.TempDir(), "a.log", "2026-11-25T07:58:00Z ERROR x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Check(ctx, fileOpts(p))
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, triage.Unknown, r.Status)
}

func TestCheckUnsafeBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bin.log")
	require.NoError(t, os.WriteFile(p, []byte("2026-11-25T07:58:00Z ERROR bad \x00\x01 bytes \xff\xfe here\n"), 0o644))
	r := Check(context.Background(), fileOpts(p))
	require.Len(t, r.Signatures, 1)
	ex := r.Signatures[0].Example
	assert.True(t, utf8.ValidString(ex.Text))
	assert.NotContains(t, ex.Text, "\x00")
	assert.Contains(t, ex.Text, "bytes \uFFFD\uFFFD here")
}

func TestCheckLongLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "long.log")
	var b bytes.Buffer
	b.WriteString("2026-11-25T07:57:00Z INFO before\n")
	b.WriteString("2026-11-25T07:58:00Z ERROR huge payload: ")
	b.Write(bytes.Repeat([]byte("x"), 10<<20))
	b.WriteString("\n2026-11-25T07:59:00Z ERROR dial tcp 10.9.9.9:9: connect: connection refused\n")
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	r := Check(context.Background(), fileOpts(p))
	require.NoError(t, r.Err)
	assert.Equal(t, 3, r.Lines)
	assert.Equal(t, 2, r.ErrorLines)
	var huge Line
	for _, s := range r.Signatures {
		if strings.HasPrefix(s.Pattern, "huge") {
			huge = s.Example
		}
	}
	require.True(t, huge.Truncated)
	assert.Less(t, len(huge.Text), maxLineBytes+100)
	m := regexp.MustCompile(`…\[truncated (\d+) bytes\]$`).FindStringSubmatchIndex(huge.Text)
	require.NotNil(t, m, "a marker ends the line")
	dropped, _ := strconv.Atoi(huge.Text[m[2]:m[3]])
	assert.Equal(t, len("2026-11-25T07:58:00Z ERROR huge payload: ")+10<<20, m[0]+dropped, "kept and dropped make the whole line")
	assert.Equal(t, 1, signal(t, r, CodeDependencyRefused, "10.9.9.9:9").Count)
}

func TestCheckQuietHeadsKeepTheirStacks(t *testing.T) {
	p := writeLog(t, t.TempDir(), "a.log",
		"2026-11-25T07:58:00Z INFO handled a retry",
		"java.lang.IllegalStateException: ignored",
		"\tat com.example.ErrorHandler.handle(ErrorHandler.java:10)",
		"Caused by: java.net.ConnectException: Connection refused",
		"2026-11-25T07:58:01Z DEBUG ok",
	)
	r := Check(context.Background(), fileOpts(p))
	assert.Equal(t, 1, r.ErrorLines, "the exception line is an error, its frames are not heads")
	assert.Equal(t, 5, r.Lines)
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(javaTrace + "\n" + goPanic + "\n" + pyTrace + "\n"))
	f.Add([]byte("2026-11-25T07:58:00Z INFO x\n2026-11-25T07:58:00Z ERROR dial tcp 1.2.3.4:5: connect: connection refused\n\tat x\n"))
	f.Add([]byte("{\"level\":\"error\",\"msg\":\"\xff\x00\"}\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a := newAgg(newMatcher(nil, "abcd"), nil, "abcd", testNow, time.UTC)
		a.setSource("fuzz", false)
		a.block(b, nil)
		a.flush()
		lines := bytes.Count(b, []byte{'\n'})
		if len(b) > 0 && b[len(b)-1] != '\n' {
			lines++
		}
		if a.lines != lines {
			t.Fatalf("counted %d lines, want %d", a.lines, lines)
		}
		for _, s := range a.sigs {
			if !utf8.ValidString(s.Example.Text) || !utf8.ValidString(s.Pattern) {
				t.Fatalf("invalid UTF-8 in %q", s.Example.Text)
			}
		}
	})
}

// TestExamplesHideCredentials: an error line quoting a connection string
// is shown in the report without its password.
func TestExamplesHideCredentials(t *testing.T) {
	p := writeLog(t, t.TempDir(), "app.log",
		`2026-11-25T07:59:00Z ERROR cannot connect to postgres://orders:s3cret-pw@db.internal:5432/orders: connection refused`)
	r := Check(context.Background(), fileOpts(p))
	require.NotEmpty(t, r.Signals)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "s3cret-pw")
	assert.Contains(t, string(b), "postgres://orders:xxxxx@db.internal:5432")
}
