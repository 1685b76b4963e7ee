package logscan

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckFormats writes, for each layout, a line older than the window,
// quiet lines and an error inside it, and checks that the window is
// honoured and the error and its signal are read.
func TestCheckFormats(t *testing.T) {
	old := testNow.Add(-time.Hour)
	in := testNow.Add(-2 * time.Minute)
	type layout struct {
		name  string
		line  func(t time.Time, level, msg string) string
		level map[string]string // our level names to the layout's
	}
	upper := map[string]string{"info": "INFO", "error": "ERROR"}
	lower := map[string]string{"info": "info", "error": "error"}
	layouts := []layout{
		{"rfc3339", func(t time.Time, l, m string) string { return t.Format(time.RFC3339Nano) + " " + l + " " + m }, upper},
		{"logback", func(t time.Time, l, m string) string {
			return t.Format("2006-01-02 15:04:05.000") + " " + l + " [main] c.e.App - " + m
		}, upper},
		{"python", func(t time.Time, l, m string) string {
			return t.Format("2006-01-02 15:04:05,000") + " - app - " + l + " - " + m
		}, upper},
		{"go log", func(t time.Time, l, m string) string {
			return t.Format("2006/01/02 15:04:05.000000") + " " + l + ": " + m
		}, upper},
		{"nginx error", func(t time.Time, l, m string) string {
			return t.Format("2006/01/02 15:04:05") + " [" + l + "] 7#7: *1 " + m
		}, map[string]string{"info": "notice", "error": "error"}},
		{"syslog", func(t time.Time, l, m string) string {
			return t.Format(time.Stamp) + " web1 app[42]: " + l + " " + m
		}, upper},
		{"apache error", func(t time.Time, l, m string) string {
			return t.Format("[Mon Jan 02 15:04:05.000000 2006]") + " [proxy:" + l + "] [pid 42] " + m
		}, lower},
		{"glog", func(t time.Time, l, m string) string {
			return map[string]string{"info": "I", "error": "E"}[l] + t.Format("0102 15:04:05.000000") + "    42 main.go:10] " + m
		}, lower},
		{"logfmt", func(t time.Time, l, m string) string {
			return fmt.Sprintf("time=%s level=%s msg=%q", t.Format(time.RFC3339), l, m)
		}, lower},
		{"json", func(t time.Time, l, m string) string {
			return fmt.Sprintf(`{"ts":%d.%03d,"level":%q,"msg":%q}`, t.Unix(), t.Nanosecond()/1e6, l, m)
		}, lower},
		{"json iso", func(t time.Time, l, m string) string {
			return fmt.Sprintf(`{"@timestamp":%q,"log.level":%q,"message":%q}`, t.Format(time.RFC3339Nano), l, m)
		}, lower},
	}
	for _, lay := range layouts {
		t.Run(lay.name, func(t *testing.T) {
			p := writeLog(t, t.TempDir(), "app.log",
				lay.line(old, lay.level["error"], "dial tcp 10.9.0.1:6379: connect: connection refused"),
				lay.line(in, lay.level["info"], "GET /health 200"),
				lay.line(in.Add(time.Second), lay.level["error"], "dial tcp 10.9.0.2:6379: connect: connection refused"),
				lay.line(in.Add(2*time.Second), lay.level["info"], "GET /health 200"),
			)
			o := fileOpts(p)
			o.Since = 10 * time.Minute
			r := Check(context.Background(), o)
			require.NoError(t, r.Err)
			assert.Equal(t, 3, r.Lines, "the line from an hour ago is outside the window")
			assert.Equal(t, 1, r.ErrorLines)
			s := signal(t, r, CodeDependencyRefused, "10.9.0.2:6379")
			assert.Equal(t, in.Add(time.Second), s.Last.UTC().Truncate(time.Second))
			for _, sg := range r.Signals {
				assert.NotEqual(t, "10.9.0.1:6379", sg.Target)
			}
		})
	}
	t.Run("access log", func(t *testing.T) {
		line := func(ts time.Time, status int) string {
			return fmt.Sprintf(`10.0.0.1 - - [%s] "GET /api HTTP/1.1" %d 12 "-" "curl/8.0"`, ts.Format("02/Jan/2006:15:04:05 -0700"), status)
		}
		p := writeLog(t, t.TempDir(), "access.log", line(old, 502), line(in, 200), line(in, 502))
		o := fileOpts(p)
		o.Since = 10 * time.Minute
		r := Check(context.Background(), o)
		require.NoError(t, r.Err)
		assert.Equal(t, 2, r.Lines)
	})
}
