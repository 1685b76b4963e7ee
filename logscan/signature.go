package logscan

import (
	"strings"
	"time"
)

// maxSignatureLen bounds a normalised message.
const maxSignatureLen = 240

// Signature is a group of error lines that differ only in numbers, ids,
// addresses and quoted values.
type Signature struct {
	// Pattern is the normalised message: numbers become <n>, hex strings
	// <hex>, UUIDs <uuid>, IP addresses with or without a port <ip>, quoted
	// values "<q>".
	Pattern string `json:"pattern"`
	// Count is how many lines had this pattern.
	Count int `json:"count"`
	// First and Last are the earliest and latest timestamps seen; zero
	// when no line had one.
	First time.Time `json:"first_seen,omitzero"`
	Last  time.Time `json:"last_seen,omitzero"`
	// Example is the most recent line with the pattern, stack included;
	// its text is cut at 8 KiB, each stack line at 1 KiB.
	Example Line `json:"example"`
}

// normalize turns a message into a signature pattern.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), maxSignatureLen))
	space := false
	for i := 0; i < len(s) && b.Len() < maxSignatureLen; {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			i++
			continue
		case c == '"' || c == '\'':
			if j := strings.IndexByte(s[i+1:min(len(s), i+1+512)], c); j >= 0 {
				b.WriteByte(c)
				b.WriteString("<q>")
				b.WriteByte(c)
				i += j + 2
				space = false
				continue
			}
		}
		space = false
		if isDigit(c) || isHex(c) {
			// Only at a word start: "sda1" keeps its letters, its
			// digits become <n> below.
			if i == 0 || !isWordByte(s[i-1]) {
				if n := uuidLen(s[i:]); n > 0 {
					b.WriteString("<uuid>")
					i += n
					continue
				}
				if n := ipLen(s[i:]); n > 0 {
					b.WriteString("<ip>")
					i += n
					continue
				}
				if n := hexLen(s[i:]); n > 0 {
					b.WriteString("<hex>")
					i += n
					continue
				}
			}
		}
		if isDigit(c) {
			j := i
			for j < len(s) && (isDigit(s[j]) || s[j] == '.' && j+1 < len(s) && isDigit(s[j+1])) {
				j++
			}
			b.WriteString("<n>")
			i = j
			continue
		}
		b.WriteByte(c)
		i++
	}
	// The length cap may have cut a multi-byte character.
	return strings.ToValidUTF8(strings.TrimRight(b.String(), " "), "")
}

func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// uuidLen returns the length of a UUID at the start of s, else 0.
func uuidLen(s string) int {
	if len(s) < 36 {
		return 0
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return 0
			}
		default:
			if !isHex(s[i]) {
				return 0
			}
		}
	}
	if len(s) > 36 && isWordByte(s[36]) {
		return 0
	}
	return 36
}

// ipLen returns the length of an IPv4 address, with an optional :port, at
// the start of s, else 0.
func ipLen(s string) int {
	i := 0
	for part := 0; part < 4; part++ {
		j := i
		for j < len(s) && j-i < 3 && isDigit(s[j]) {
			j++
		}
		if j == i {
			return 0
		}
		i = j
		if part < 3 {
			if i >= len(s) || s[i] != '.' {
				return 0
			}
			i++
		}
	}
	if i < len(s) && isDigit(s[i]) {
		return 0
	}
	if i+1 < len(s) && s[i] == ':' && isDigit(s[i+1]) {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i
}

// hexLen returns the length of 0x-prefixed hex, or of a run of at least
// eight hex digits holding a digit and a letter, at the start of s.
func hexLen(s string) int {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		i := 2
		for i < len(s) && isHex(s[i]) {
			i++
		}
		return i
	}
	i, digit, letter := 0, false, false
	for i < len(s) && isHex(s[i]) {
		if isDigit(s[i]) {
			digit = true
		} else {
			letter = true
		}
		i++
	}
	if i < 8 || !digit || !letter || i < len(s) && isWordByte(s[i]) {
		return 0
	}
	return i
}
