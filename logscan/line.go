package logscan

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/triagekit/triage/internal/traceparent"
)

// maxLineBytes is where a line is cut. The rest is dropped and a marker
// says how much.
const maxLineBytes = 64 << 10

// maxStackLines bounds the continuation lines kept with one head line.
const maxStackLines = 64

// Line is one log line, or one entry with the stack trace lines that
// belong to it.
type Line struct {
	// Source names where the line came from: a file path, "journal",
	// "journal:UNIT" or "kernel".
	Source string `json:"source"`
	// Time is the line's timestamp; zero when it had none that could be
	// read.
	Time time.Time `json:"time,omitzero"`
	// Level is the severity, normalised to "fatal", "error", "warn",
	// "info", "debug" or "trace"; empty when the line has none.
	Level string `json:"level,omitempty"`
	// Text is the whole line as it was written, made safe: invalid UTF-8
	// and control characters replaced, cut at 64 KiB with a marker.
	Text string `json:"text"`
	// Message is the line without its timestamp and level, or a JSON
	// line's message field.
	Message string `json:"message"`
	// TraceID is the trace or correlation id the line carries (trace_id,
	// traceId, traceparent, correlation_id, request_id ...); for a W3C
	// traceparent, its trace-id part.
	TraceID string `json:"trace_id,omitempty"`
	// Stack holds the lines that continue this one: Java "\tat" frames and
	// "Caused by:", Go goroutine dumps, Python traceback lines.
	Stack []string `json:"stack,omitempty"`
	// Truncated is set when the line (or its stack) was cut.
	Truncated bool `json:"truncated,omitempty"`
}

// safeString returns b as valid UTF-8 without control characters other
// than tab, cut at max bytes with a marker saying how many were dropped.
func safeString(b []byte, max int) (string, bool) {
	b = bytes.TrimRight(b, "\r\n")
	cut := 0
	if len(b) > max {
		cut = len(b) - max
		b = b[:max]
		// Do not split a UTF-8 sequence.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.FullRune(b[len(b)-1-i:]); i++ {
			if utf8.RuneStart(b[len(b)-1-i]) {
				cut += i + 1
				b = b[:len(b)-1-i]
				break
			}
		}
	}
	clean := true
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	var s string
	if clean {
		s = string(b)
	} else {
		var sb strings.Builder
		sb.Grow(len(b))
		for len(b) > 0 {
			r, n := utf8.DecodeRune(b)
			switch {
			case r == utf8.RuneError && n <= 1, r < 0x20 && r != '\t', r == 0x7f:
				sb.WriteRune(utf8.RuneError)
			default:
				sb.Write(b[:n])
			}
			b = b[n:]
		}
		s = sb.String()
	}
	if cut > 0 {
		s += "…[truncated " + strconv.Itoa(cut) + " bytes]"
		return s, true
	}
	return s, false
}

// cutMarker rewrites the marker of a line that was already cut before
// safeString saw it, so that it counts every dropped byte.
func cutMarker(text string, trunc bool, seen, cut int) string {
	if trunc {
		if i := strings.LastIndex(text, "…[truncated "); i >= 0 {
			text = text[:i]
		}
	}
	return text + "…[truncated " + strconv.Itoa(seen+cut-len(text)) + " bytes]"
}

// lineMeta is what a source already knows about a line (journald's
// realtime stamp and priority, the kernel's record time).
type lineMeta struct {
	time  time.Time
	level string
	// cut is how many bytes of the line were dropped before it was
	// handed over (a line longer than the read buffer).
	cut int
}

// parseLine reads one physical line: timestamp, level, message and trace
// id, from plain text, logfmt or a JSON object.
func parseLine(b []byte, meta lineMeta, now time.Time, loc *time.Location) Line {
	text, trunc := safeString(b, maxLineBytes)
	if meta.cut > 0 {
		text, trunc = cutMarker(text, trunc, len(b), meta.cut), true
	}
	l := Line{Text: text, Truncated: trunc, Time: meta.time}
	s := bytes.TrimSpace(b)
	if len(s) > 1 && s[0] == '{' && !trunc && parseJSONLine(s, &l, now, loc) {
		if l.Level == "" {
			l.Level = meta.level
		}
		return l
	}
	rest := s
	if t, ok := logfmtTime(s, now, loc); ok && l.Time.IsZero() {
		l.Time = t
	}
	if t, end, ok := parseTime(s, now, loc); ok {
		if l.Time.IsZero() {
			l.Time = t
		}
		rest = s[end:]
		if len(s) > 1 && isGlogLevel(s[0]) && isDigit(s[1]) {
			l.Level = normLevel(s[:1])
		}
	}
	lvl, msg := findLevel(rest)
	if l.Level == "" {
		l.Level = lvl
	}
	if l.Level == "" {
		l.Level = meta.level
	}
	if v, ok := logfmtValue(s, "msg="); ok {
		msg = v
		if e, ok := logfmtValue(s, "err="); ok {
			msg = append(append(append([]byte(nil), msg...), ": "...), e...)
		} else if e, ok := logfmtValue(s, "error="); ok {
			msg = append(append(append([]byte(nil), msg...), ": "...), e...)
		}
	}
	l.Message, _ = safeString(bytes.TrimSpace(bytes.TrimLeft(msg, " \t-|:")), maxLineBytes)
	l.TraceID = findTraceID(s)
	return l
}

func isGlogLevel(c byte) bool { return c == 'I' || c == 'W' || c == 'E' || c == 'F' }

// normLevel maps the many spellings of a severity onto a few names.
func normLevel(b []byte) string {
	switch strings.ToLower(string(b)) {
	case "f", "fatal", "critical", "crit", "panic", "emerg", "emergency", "alert", "dpanic", "0", "1", "2", "60":
		return "fatal"
	case "e", "error", "err", "severe", "3", "50":
		return "error"
	case "w", "warn", "warning", "4", "40":
		return "warn"
	case "i", "info", "notice", "information", "informational", "5", "6", "30":
		return "info"
	case "d", "debug", "fine", "config", "7", "20":
		return "debug"
	case "trace", "finer", "finest", "verbose", "10":
		return "trace"
	}
	return ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// findLevel looks for a level near the start of the rest of a line: a
// bare token (ERROR, WARN), a bracketed one ([error], <ERROR>), logfmt's
// level=error or Python's "- ERROR -". It returns the level and the text
// after it when the level leads the line, else the whole rest.
func findLevel(b []byte) (string, []byte) {
	lim := min(len(b), 160)
	for i := 0; i < lim; {
		if !isLetter(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isLetter(b[j]) {
			j++
		}
		if lvl := tokenLevel(b, i, j); lvl != "" {
			// The message starts after the level token and its
			// punctuation when the level came first.
			if len(bytes.TrimLeft(b[:i], " \t[<(-|")) == 0 {
				k := j
				for k < len(b) && (b[k] == ']' || b[k] == '>' || b[k] == ')' || b[k] == ':' || b[k] == ' ' || b[k] == '|' || b[k] == '-' || b[k] == '\t') {
					k++
				}
				return lvl, b[k:]
			}
			return lvl, b
		}
		i = j
	}
	return "", b
}

// tokenLevel decides whether b[i:j] is a level: all upper case (ERROR),
// or lower case inside brackets ([error]) or after level=.
func tokenLevel(b []byte, i, j int) string {
	w := b[i:j]
	if len(w) < 3 || len(w) > 11 {
		return ""
	}
	upper := true
	for _, c := range w {
		if c < 'A' || c > 'Z' {
			upper = false
			break
		}
	}
	if upper {
		switch string(w) {
		case "FATAL", "CRITICAL", "CRIT", "PANIC", "EMERG", "ALERT", "ERROR", "ERR", "SEVERE", "WARN", "WARNING", "INFO", "NOTICE", "DEBUG", "TRACE":
			return normLevel(w)
		}
		return ""
	}
	before := byte(0)
	if i > 0 {
		before = b[i-1]
	}
	after := byte(0)
	if j < len(b) {
		after = b[j]
	}
	// [error], <error>, and Apache's [module:error].
	bracketed := (before == '[' || before == ':') && after == ']' || before == '<' && after == '>'
	logfmt := i >= 6 && strings.EqualFold(string(b[i-6:i]), "level=") || i >= 7 && strings.EqualFold(string(b[i-7:i]), "level=\"")
	if bracketed || logfmt {
		return normLevel(w)
	}
	return ""
}

// parseJSONLine fills l from a JSON object line. It reports false when
// the line is not a JSON object.
func parseJSONLine(b []byte, l *Line, now time.Time, loc *time.Location) bool {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return false
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := lookupJSON(m, k); ok {
				switch v := v.(type) {
				case string:
					return v
				case json.Number:
					return v.String()
				}
			}
		}
		return ""
	}
	if l.Time.IsZero() {
		for _, k := range []string{"time", "ts", "timestamp", "@timestamp", "t", "date", "datetime"} {
			v, ok := lookupJSON(m, k)
			if !ok {
				continue
			}
			if t, ok := jsonTime(v, now, loc); ok {
				l.Time = t
				break
			}
		}
	}
	l.Level = normLevel([]byte(str("level", "lvl", "severity", "log.level", "levelname", "loglevel", "level_name")))
	msg := str("msg", "message", "@message", "error", "err", "log", "text")
	if ex := str("exception", "stack_trace", "stacktrace", "stack", "exc_info", "error.stack_trace"); ex != "" {
		lines := strings.Split(strings.TrimRight(ex, "\n"), "\n")
		for i, s := range lines {
			if i == maxStackLines {
				l.Truncated = true
				break
			}
			s, _ = safeString([]byte(s), maxLineBytes)
			l.Stack = append(l.Stack, s)
		}
	}
	if e := str("error", "err"); e != "" && e != msg {
		msg += ": " + e
	}
	l.Message, _ = safeString([]byte(msg), maxLineBytes)
	tid := str("trace_id", "traceId", "traceid", "trace.id", "dd.trace_id", "logging.googleapis.com/trace", "traceparent",
		"correlation_id", "correlationId", "correlation.id", "request_id", "requestId", "req_id", "x_request_id", "x-request-id")
	if tid != "" {
		if id, ok := traceparent.ID(tid); ok {
			tid = id
		}
		if i := strings.LastIndexByte(tid, '/'); i >= 0 { // projects/p/traces/ID
			tid = tid[i+1:]
		}
		l.TraceID, _ = safeString([]byte(tid), 128)
	}
	return true
}

// lookupJSON finds key at the top level, or as a dotted path into nested
// objects (log.level, trace.id).
func lookupJSON(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	if i := strings.IndexByte(key, '.'); i > 0 {
		if sub, ok := m[key[:i]].(map[string]any); ok {
			return lookupJSON(sub, key[i+1:])
		}
	}
	return nil, false
}

// jsonTime reads a time field: a string in a known layout, or Unix
// seconds, milliseconds, microseconds or nanoseconds.
func jsonTime(v any, now time.Time, loc *time.Location) (time.Time, bool) {
	switch v := v.(type) {
	case string:
		if t, end, ok := parseTime([]byte(v), now, loc); ok && end > 0 {
			return t, true
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return unixTime(n)
		}
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return unixTime(f)
		}
	}
	return time.Time{}, false
}

func unixTime(f float64) (time.Time, bool) {
	switch {
	case f <= 0:
		return time.Time{}, false
	case f < 1e11: // seconds
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), true
	case f < 1e14:
		return time.UnixMilli(int64(f)), true
	case f < 1e17:
		return time.UnixMicro(int64(f)), true
	}
	return time.Unix(0, int64(f)), true
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

var traceKeys = [...]string{"traceparent", "trace_id", "traceid", "trace-id", "trace.id", "correlation_id", "correlationid", "correlation-id", "x-request-id", "request_id", "requestid", "request-id", "req_id"}

// findTraceID finds key=value or key: value for the trace keys in a text
// line, or a bare W3C traceparent.
func findTraceID(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	lower := bytes.ToLower(b)
	for _, k := range traceKeys {
		i := bytes.Index(lower, []byte(k))
		if i < 0 {
			continue
		}
		j := i + len(k)
		for j < len(b) && (b[j] == '"' || b[j] == '\'') {
			j++
		}
		if j >= len(b) || (b[j] != '=' && b[j] != ':') {
			continue
		}
		j++
		for j < len(b) && (b[j] == ' ' || b[j] == '"' || b[j] == '\'') {
			j++
		}
		e := j
		for e < len(b) && (isLetter(b[e]) || isDigit(b[e]) || b[e] == '-' || b[e] == '_' || b[e] == '.') {
			e++
		}
		if e-j < 4 {
			continue
		}
		v := string(b[j:e])
		if id, ok := traceparent.ID(v); ok {
			return id
		}
		return v
	}
	// A bare traceparent header value.
	for i := 0; i+55 <= len(b); i++ {
		i2 := bytes.Index(b[i:], []byte("00-"))
		if i2 < 0 {
			break
		}
		i += i2
		if i+55 <= len(b) {
			if id, ok := traceparent.ID(string(b[i : i+55])); ok {
				return id
			}
		}
	}
	return ""
}

// logfmtTime reads time=, ts= or timestamp= at the start of a logfmt
// line (Go's slog text handler, logrus).
func logfmtTime(b []byte, now time.Time, loc *time.Location) (time.Time, bool) {
	var v []byte
	for _, k := range [...]string{"time=", "ts=", "timestamp=", "t="} {
		if bytes.HasPrefix(b, []byte(k)) {
			v = b[len(k):]
			break
		}
	}
	if v == nil {
		return time.Time{}, false
	}
	if len(v) > 0 && v[0] == '"' {
		v = v[1:]
		if i := bytes.IndexByte(v, '"'); i >= 0 {
			v = v[:i]
		}
	} else if i := bytes.IndexByte(v, ' '); i >= 0 {
		v = v[:i]
	}
	if t, _, ok := parseTime(v, now, loc); ok {
		return t, true
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil {
		return unixTime(f)
	}
	return time.Time{}, false
}

// logfmtValue returns the value of key (with its "=") in a logfmt line,
// unquoted.
func logfmtValue(b []byte, key string) ([]byte, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 || i > 0 && b[i-1] != ' ' {
		return nil, false
	}
	v := b[i+len(key):]
	if len(v) > 0 && v[0] == '"' {
		if s, err := strconv.QuotedPrefix(string(v)); err == nil {
			if u, err := strconv.Unquote(s); err == nil {
				return []byte(u), true
			}
		}
		v = v[1:]
		if j := bytes.IndexByte(v, '"'); j >= 0 {
			v = v[:j]
		}
		return v, true
	}
	if j := bytes.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v, true
}
