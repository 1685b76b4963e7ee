package logscan

import (
	"bytes"
	"time"
)

// parseTime reads a timestamp at or near the start of a log line. It knows
// RFC 3339 and ISO 8601 with a space or T, comma or dot fractions and
// optional zones (Java, Python, logback, Rust), Go's log and nginx's error
// log (2006/01/02 15:04:05), syslog (Jan _2 15:04:05, with or without a
// <pri> prefix, RFC 5424 too), Apache's error log ([Mon Jan 02
// 15:04:05.000000 2006]), the common and combined access log
// ([02/Jan/2006:15:04:05 -0700]) and glog (E0102 15:04:05.000000).
//
// Times without a zone are read in loc; times without a year take now's
// year, or the year before when that would put them more than a day
// ahead of now. end is the index in b just past the timestamp (and its
// closing bracket), so the caller can cut it from the message.
func parseTime(b []byte, now time.Time, loc *time.Location) (t time.Time, end int, ok bool) {
	i := 0
	// RFC 3164/5424 priority: <34> or <34>1
	if len(b) > 2 && b[0] == '<' {
		j := 1
		for j < len(b) && j < 5 && isDigit(b[j]) {
			j++
		}
		if j > 1 && j < len(b) && b[j] == '>' {
			i = j + 1
			if i+1 < len(b) && b[i] == '1' && b[i+1] == ' ' {
				i += 2
			}
		}
	}
	bracket := false
	if i < len(b) && b[i] == '[' {
		bracket = true
		i++
	}
	rest := b[i:]
	switch {
	case len(rest) >= 19 && isDigit(rest[0]) && isDigit(rest[3]) && (rest[4] == '-' || rest[4] == '/'):
		t, n, ok := parseISO(rest, loc)
		if ok {
			return t, closeBracket(b, i+n, bracket), true
		}
	case len(rest) >= 15 && monthIndex(rest) > 0 && rest[3] == ' ':
		if t, n, ok := parseSyslog(rest, now, loc); ok {
			return t, closeBracket(b, i+n, bracket), true
		}
		if t, n, ok := parseJUL(rest, loc); ok {
			return t, i + n, true
		}
	case len(rest) >= 24 && bracket && dayName(rest) && rest[3] == ' ':
		if t, n, ok := parseApacheError(rest, loc); ok {
			return t, closeBracket(b, i+n, true), true
		}
	case len(rest) >= 20 && !bracket && (rest[0] == 'I' || rest[0] == 'W' || rest[0] == 'E' || rest[0] == 'F') && isDigit(rest[1]):
		if t, n, ok := parseGlog(rest, now, loc); ok {
			return t, i + n, true
		}
	}
	// Access logs: 127.0.0.1 - user [02/Jan/2006:15:04:05 -0700] "GET ...
	if !bracket {
		lim := b
		if len(lim) > 96 {
			lim = lim[:96]
		}
		if k := bytes.IndexByte(lim, '['); k > 0 && len(b) > k+27 && b[k+27] == ']' {
			if t, err := time.Parse("02/Jan/2006:15:04:05 -0700", string(b[k+1:k+27])); err == nil {
				return t, k + 28, true
			}
		}
	}
	return time.Time{}, 0, false
}

func closeBracket(b []byte, n int, bracket bool) int {
	if bracket {
		if k := bytes.IndexByte(b[n:min(len(b), n+8)], ']'); k >= 0 {
			return n + k + 1
		}
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num reads n digits at b[i:].
func num(b []byte, i, n int) (int, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseISO reads 2006-01-02[T ]15:04:05[.,frac][Z|±07:00|±0700| UTC] and
// 2006/01/02 15:04:05[.frac].
func parseISO(b []byte, loc *time.Location) (time.Time, int, bool) {
	sep := b[4]
	y, ok1 := num(b, 0, 4)
	mo, ok2 := num(b, 5, 2)
	d, ok3 := num(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[7] != sep || (b[10] != 'T' && b[10] != ' ') {
		return time.Time{}, 0, false
	}
	h, ok4 := num(b, 11, 2)
	mi, ok5 := num(b, 14, 2)
	s, ok6 := num(b, 17, 2)
	if !ok4 || !ok5 || !ok6 || b[13] != ':' || b[16] != ':' || !validDate(mo, d, h, mi, s) {
		return time.Time{}, 0, false
	}
	i := 19
	ns := 0
	if i < len(b) && (b[i] == '.' || b[i] == ',') && i+1 < len(b) && isDigit(b[i+1]) {
		i++
		scale := 100000000
		for i < len(b) && isDigit(b[i]) {
			ns += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
	}
	zone := loc
	switch {
	case i < len(b) && (b[i] == 'Z' || b[i] == 'z'):
		zone = time.UTC
		i++
	case i+5 <= len(b) && (b[i] == '+' || b[i] == '-'):
		zh, okh := num(b, i+1, 2)
		k := i + 3
		if k < len(b) && b[k] == ':' {
			k++
		}
		zm, okm := num(b, k, 2)
		if okh && okm && zh < 24 && zm < 60 {
			off := (zh*60 + zm) * 60
			if b[i] == '-' {
				off = -off
			}
			zone = time.FixedZone("", off)
			i = k + 2
		}
	case i+4 <= len(b) && string(b[i:i+4]) == " UTC":
		zone = time.UTC
		i += 4
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, zone), i, true
}

func validDate(mo, d, h, mi, s int) bool {
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s <= 60
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// monthIndex returns 1..12 for a month abbreviation at the start of b, else 0.
func monthIndex(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	for i, m := range months {
		if string(b[:3]) == m {
			return i + 1
		}
	}
	return 0
}

func dayName(b []byte) bool {
	switch string(b[:3]) {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// clock reads 15:04:05 at b[i:].
func clock(b []byte, i int) (h, m, s int, ok bool) {
	h, ok1 := num(b, i, 2)
	m, ok2 := num(b, i+3, 2)
	s, ok3 := num(b, i+6, 2)
	if !ok1 || !ok2 || !ok3 || b[i+2] != ':' || b[i+5] != ':' || h > 23 || m > 59 || s > 60 {
		return 0, 0, 0, false
	}
	return h, m, s, true
}

// fraction reads .123456 at b[i:], returning nanoseconds and the new index.
func fraction(b []byte, i int) (int, int) {
	if i+1 >= len(b) || (b[i] != '.' && b[i] != ',') || !isDigit(b[i+1]) {
		return 0, i
	}
	i++
	ns, scale := 0, 100000000
	for i < len(b) && isDigit(b[i]) {
		ns += int(b[i]-'0') * scale
		scale /= 10
		i++
	}
	return ns, i
}

// guessYear places a year-less time in now's year, or the one before when
// it would otherwise lie more than a day ahead.
func guessYear(mo, d, h, mi, s, ns int, now time.Time, loc *time.Location) time.Time {
	t := time.Date(now.Year(), time.Month(mo), d, h, mi, s, ns, loc)
	if t.Sub(now) > 24*time.Hour {
		t = t.AddDate(-1, 0, 0)
	}
	return t
}

// parseSyslog reads "Jan _2 15:04:05[.frac]".
func parseSyslog(b []byte, now time.Time, loc *time.Location) (time.Time, int, bool) {
	mo := monthIndex(b)
	var d int
	switch {
	case b[4] == ' ' && isDigit(b[5]):
		d = int(b[5] - '0')
	case isDigit(b[4]) && isDigit(b[5]):
		d = int(b[4]-'0')*10 + int(b[5]-'0')
	default:
		return time.Time{}, 0, false
	}
	if b[6] != ' ' || d < 1 || d > 31 {
		return time.Time{}, 0, false
	}
	h, mi, s, ok := clock(b, 7)
	if !ok {
		return time.Time{}, 0, false
	}
	ns, i := fraction(b, 15)
	return guessYear(mo, d, h, mi, s, ns, now, loc), i, true
}

// parseJUL reads java.util.logging's "Jan 2, 2006 3:04:05 PM".
func parseJUL(b []byte, loc *time.Location) (time.Time, int, bool) {
	lim := min(len(b), 26)
	for n := lim; n >= 20; n-- {
		if t, err := time.ParseInLocation("Jan 2, 2006 3:04:05 PM", string(b[:n]), loc); err == nil {
			return t, n, true
		}
	}
	return time.Time{}, 0, false
}

// parseApacheError reads "Mon Jan 02 15:04:05[.000000] 2006".
func parseApacheError(b []byte, loc *time.Location) (time.Time, int, bool) {
	mo := monthIndex(b[4:])
	d, okd := num(b, 8, 2)
	if mo == 0 || !okd || b[7] != ' ' || b[10] != ' ' {
		return time.Time{}, 0, false
	}
	h, mi, s, ok := clock(b, 11)
	if !ok {
		return time.Time{}, 0, false
	}
	ns, i := fraction(b, 19)
	if i >= len(b) || b[i] != ' ' {
		return time.Time{}, 0, false
	}
	y, oky := num(b, i+1, 4)
	if !oky || d < 1 || d > 31 {
		return time.Time{}, 0, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, loc), i + 5, true
}

// parseGlog reads "E0102 15:04:05.000000".
func parseGlog(b []byte, now time.Time, loc *time.Location) (time.Time, int, bool) {
	mo, ok1 := num(b, 1, 2)
	d, ok2 := num(b, 3, 2)
	if !ok1 || !ok2 || b[5] != ' ' {
		return time.Time{}, 0, false
	}
	h, mi, s, ok := clock(b, 6)
	if !ok || !validDate(mo, d, h, mi, s) {
		return time.Time{}, 0, false
	}
	ns, i := fraction(b, 14)
	return guessYear(mo, d, h, mi, s, ns, now, loc), i, true
}
