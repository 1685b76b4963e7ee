package logscan

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Literals a line must hold one of to be looked at closer. Every default
// error pattern and every signal in signals.go contains one of them, so
// lines without any are skipped by a plain substring search.
var defaultLiterals = []string{
	// levels and errors
	"ERR", "rror", "FATAL", "atal", "CRIT", "crit]", "ALERT", "alert]", "EMERG", "emerg]", "SEVERE", "PANIC", "panic", "Exception", "Traceback",
	// connections
	"refused", "REFUSED", "timed out", "imeout", "TIMEDOUT", "deadline",
	// resources
	"space left", "ENOSPC", "open files", "EMFILE", "emory", "ENOMEM", "bad_alloc", "illed process",
	// names
	"no such host", "UnknownHost", "ENOTFOUND", "EAI_AGAIN", "resolve", "resolution", "not known", "misbehaving", "translate host",
	// pools and proxies
	"Pool", "pool", "not available", "too many clients", "connection slots", "upstream",
	// kernel
	"SYN flooding", "table full", "I/O error", "oom-kill:",
}

// matcher decides which lines are worth parsing.
type matcher struct {
	lits    [][]byte
	pairs   *[1024]uint64       // set of the literals' first two bytes
	byPair  map[uint16][][]byte // the literals by their first two bytes
	trace   []byte              // the trace id, nil when none
	callers []*regexp.Regexp    // caller patterns, (?m) so ^ and $ work per line
}

// defaultMatcher is built once: the literals never change.
var defaultMatcher = sync.OnceValue(func() *matcher {
	m := &matcher{pairs: new([1024]uint64), byPair: map[uint16][][]byte{}}
	for _, l := range slices.Concat(defaultLiterals, proxyLiterals) {
		m.lits = append(m.lits, []byte(l))
		k := uint16(l[0])<<8 | uint16(l[1])
		m.pairs[k>>6] |= 1 << (k & 63)
		m.byPair[k] = append(m.byPair[k], []byte(l))
	}
	return m
})

func newMatcher(callers []*regexp.Regexp, traceID string) *matcher {
	d := defaultMatcher()
	m := &matcher{lits: d.lits, pairs: d.pairs, byPair: d.byPair, callers: callers}
	if traceID != "" {
		m.trace = []byte(traceID)
	}
	return m
}

// forced appends to out the start offsets of the lines in block that
// carry the trace id or match a caller pattern, sorted and unique.
func (m *matcher) forced(block []byte, out []int) []int {
	out = out[:0]
	mark := func(j int) int {
		s := bytes.LastIndexByte(block[:j], '\n') + 1
		out = append(out, s)
		e := bytes.IndexByte(block[j:], '\n')
		if e < 0 {
			return len(block)
		}
		return j + e + 1
	}
	if m.trace != nil {
		for i := 0; i < len(block); {
			j := bytes.Index(block[i:], m.trace)
			if j < 0 {
				break
			}
			i = mark(i + j)
		}
	}
	for _, re := range m.callers {
		for i := 0; i < len(block); {
			loc := re.FindIndex(block[i:])
			if loc == nil {
				break
			}
			i = mark(i + loc[0])
		}
	}
	if len(out) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// matchLits reports whether line holds one of the literals. It walks the
// line once, looking up each pair of bytes in a set of the literals' first
// two bytes, instead of searching it once per literal.
func (m *matcher) matchLits(line []byte) bool {
	if len(line) < 2 {
		return false
	}
	for i := 0; i < len(line)-1; i++ {
		k := uint16(line[i])<<8 | uint16(line[i+1])
		if m.pairs[k>>6]&(1<<(k&63)) == 0 {
			continue
		}
		for _, lit := range m.byPair[k] {
			if bytes.HasPrefix(line[i:], lit) {
				return true
			}
		}
	}
	return false
}

// match reports whether one line is a candidate: a literal, the trace id
// or a caller pattern.
func (m *matcher) match(line []byte) bool {
	if m.matchLits(line) || m.trace != nil && bytes.Contains(line, m.trace) {
		return true
	}
	for _, re := range m.callers {
		if re.Match(line) {
			return true
		}
	}
	return false
}

// Stack trace layouts a group can be in.
const (
	stackNone = iota
	stackGo
	stackPython
)

// group is a head line and the lines that continue it.
type group struct {
	head     []byte
	meta     lineMeta
	stack    [][]byte
	dropped  int
	mode     int
	pyOpen   bool
	hasStack bool
}

// agg gathers what the sources' lines say.
type agg struct {
	m       *matcher
	callers []*regexp.Regexp
	traceID string
	now     time.Time
	loc     *time.Location

	source string
	kernel bool
	g      *group // the group being built, nil when none
	lvlOff int    // where the level sat in the last quiet line

	lines         int
	errorLines    int
	stackTraces   int
	timeouts      int
	otherErrors   int
	sigs          map[string]*Signature
	sigOverflow   int // error lines whose pattern was past maxDistinctSignatures
	signals       map[hitKey]*Signal
	oomCgroup     map[int]string // killed task's cgroup by pid, from oom-kill lines
	trace         []Line
	traceCount    int
	traceErrLines int
	traceSources  map[string]bool
}

type hitKey struct {
	code   string
	target string
	cgroup string
}

const (
	// maxTraceLines bounds the lines kept for a trace id.
	maxTraceLines = 1000
	// maxDistinctSignatures bounds the signatures counted; error lines
	// with a new pattern past it are counted as error lines only.
	maxDistinctSignatures = 10000
	// maxOOMTasks bounds the killed tasks whose cgroup is remembered.
	maxOOMTasks = 10000
	// maxExampleBytes bounds the text a signature keeps of its example.
	maxExampleBytes = 8 << 10
)

func newAgg(m *matcher, callers []*regexp.Regexp, traceID string, now time.Time, loc *time.Location) *agg {
	return &agg{m: m, callers: callers, traceID: traceID, now: now, loc: loc,
		sigs: map[string]*Signature{}, signals: map[hitKey]*Signal{}, traceSources: map[string]bool{}, oomCgroup: map[int]string{}}
}

// setSource ends the current group and names the source of the lines
// that follow.
func (a *agg) setSource(name string, kernel bool) {
	a.flush()
	a.source, a.kernel = name, kernel
	a.lvlOff = 0
}

// feed handles one line of a source read line by line (journal, kernel).
func (a *agg) feed(line []byte, meta lineMeta, candidate bool) {
	a.lines++
	if a.cont(line) {
		return
	}
	if candidate || (a.m.trace != nil && bytes.Contains(line, a.m.trace)) || !orphan(line) && a.m.match(line) {
		a.head(line, meta)
	}
}

// block handles a block of whole lines from a file. Lines at a quiet
// level (info, debug, trace) are skipped after a glance at where the
// level sits; the others are searched for the literals. Lines carrying the
// trace id or matching a caller pattern are found by a search over the
// whole block, so they are never skipped.
func (a *agg) block(b []byte, forced []int) []int {
	forced = a.m.forced(b, forced)
	fi := 0
	for p := 0; p < len(b); {
		e := bytes.IndexByte(b[p:], '\n')
		next := len(b)
		if e >= 0 {
			e += p
			next = e + 1
		} else {
			e = len(b)
		}
		line := b[p:e]
		a.lines++
		isForced := false
		for fi < len(forced) && forced[fi] < p {
			fi++
		}
		if fi < len(forced) && forced[fi] == p {
			isForced = true
		}
		if a.g != nil && a.cont(line) {
			p = next
			continue
		}
		if isForced || !a.quiet(line) && !orphan(line) && a.m.matchLits(line) {
			a.head(line, lineMeta{})
		}
		p = next
	}
	return forced
}

// orphan reports whether a line continues another one ("\tat ...",
// "Caused by: ...") although no group is open: its head was passed over,
// so it is too.
func orphan(l []byte) bool {
	return len(l) > 0 && (l[0] == '\t' || l[0] == ' ') ||
		bytes.HasPrefix(l, []byte("Caused by:")) || bytes.HasPrefix(l, []byte("Suppressed:"))
}

// quiet reports whether a line's level is info, debug, trace or notice.
// The level's offset in the line is learnt from the first quiet line of
// a source and tried first on the next ones, so that most lines cost a
// few byte comparisons.
func (a *agg) quiet(l []byte) bool {
	if len(l) == 0 {
		return true
	}
	if k := a.lvlOff; k > 0 && k < len(l) && quietWordAt(l, k) {
		return true
	}
	switch {
	case l[0] == '{':
		return quietAfterKey(l, []byte(`"level"`)) || quietAfterKey(l, []byte(`"severity"`))
	case len(l) > 1 && l[0] == 'I' && isDigit(l[1]): // glog
		return true
	}
	if _, end, ok := parseTime(l, a.now, a.loc); ok {
		k := end
		for k < len(l) && (l[k] == ' ' || l[k] == '[' || l[k] == '<' || l[k] == '\t') {
			k++
		}
		if k < len(l) && quietWordAt(l, k) {
			a.lvlOff = k
			return true
		}
		return false
	}
	return quietAfterKey(l, []byte("level="))
}

// quietAfterKey finds key near the start of l and looks at the word after
// it: level=info, "level":"debug".
func quietAfterKey(l, key []byte) bool {
	h := l[:min(len(l), 512)]
	i := bytes.Index(h, key)
	if i < 0 {
		return false
	}
	k := i + len(key)
	for k < len(l) && (l[k] == ':' || l[k] == ' ' || l[k] == '"' || l[k] == '=') {
		k++
	}
	return k < len(l) && quietWordAt(l, k)
}

func quietWordAt(l []byte, k int) bool {
	w := l[k:]
	switch w[0] {
	case 'I':
		return bytes.HasPrefix(w, []byte("INFO"))
	case 'i':
		return bytes.HasPrefix(w, []byte("info"))
	case 'D':
		return bytes.HasPrefix(w, []byte("DEBUG"))
	case 'd':
		return bytes.HasPrefix(w, []byte("debug"))
	case 'T':
		return bytes.HasPrefix(w, []byte("TRACE"))
	case 't':
		return bytes.HasPrefix(w, []byte("trace"))
	case 'N':
		return bytes.HasPrefix(w, []byte("NOTICE"))
	case 'n':
		return bytes.HasPrefix(w, []byte("notice"))
	}
	return false
}

// head starts a group with line.
func (a *agg) head(line []byte, meta lineMeta) {
	a.flush()
	g := &group{head: bytes.Clone(line), meta: meta}
	t := bytes.TrimSpace(line)
	switch {
	case bytes.Contains(t, []byte("panic:")) || bytes.Contains(t, []byte("fatal error:")):
		g.mode = stackGo
	case bytes.HasPrefix(t, []byte("Traceback (most recent call last)")):
		g.mode, g.pyOpen, g.hasStack = stackPython, true, true
	}
	a.g = g
}

// cont adds line to the current group when it continues it, and ends the
// group when it does not.
func (a *agg) cont(line []byte) bool {
	g := a.g
	if g == nil {
		return false
	}
	if !a.continues(g, bytes.TrimRight(line, "\r")) {
		a.flush()
		return false
	}
	if len(g.stack) < maxStackLines {
		g.stack = append(g.stack, bytes.Clone(line))
	} else {
		g.dropped++
	}
	return true
}

var (
	goroutineRe = regexp.MustCompile(`^goroutine \d+ \[`)
	// A Java exception line printed after the message that logged it.
	javaExceptionRe = regexp.MustCompile(`^(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::|$)`)
)

func (a *agg) continues(g *group, l []byte) bool {
	if len(l) == 0 {
		return g.mode == stackGo
	}
	switch {
	case l[0] == '\t' || l[0] == ' ':
		if bytes.HasPrefix(bytes.TrimLeft(l, " \t"), []byte("at ")) || bytes.HasPrefix(bytes.TrimLeft(l, " \t"), []byte("File \"")) {
			g.hasStack = true
		}
		return true
	case bytes.HasPrefix(l, []byte("Caused by:")), bytes.HasPrefix(l, []byte("Suppressed:")), bytes.HasPrefix(l, []byte("Wrapped by:")):
		return true
	case bytes.HasPrefix(l, []byte("Traceback (most recent call last)")):
		g.mode, g.pyOpen, g.hasStack = stackPython, true, true
		return true
	case bytes.HasPrefix(l, []byte("During handling of the above exception")), bytes.HasPrefix(l, []byte("The above exception was the direct cause")):
		return true
	case g.mode == stackNone && javaExceptionRe.Match(l):
		return true
	case goroutineRe.Match(l):
		g.mode, g.hasStack = stackGo, true
		return true
	}
	switch g.mode {
	case stackPython:
		if g.pyOpen && pyExceptionLine(l) {
			g.pyOpen = false
			return true
		}
	case stackGo:
		if bytes.HasPrefix(l, []byte("created by ")) || bytes.HasPrefix(l, []byte("[signal ")) ||
			bytes.HasPrefix(l, []byte("exit status ")) || bytes.HasPrefix(l, []byte("panic:")) ||
			bytes.HasPrefix(l, []byte("[recovered]")) || goFrame(l) {
			return true
		}
	}
	return false
}

// pyExceptionLine reports whether l looks like the last line of a Python
// traceback: "ValueError: bad" or "KeyboardInterrupt".
func pyExceptionLine(l []byte) bool {
	i := 0
	for i < len(l) && (isWordByte(l[i]) || l[i] == '.') {
		i++
	}
	return i > 0 && isLetter(l[0]) && (i == len(l) || l[i] == ':')
}

// goFrame reports whether l looks like a frame of a goroutine dump:
// "main.handler(0xc000012345, ...)" or "net/http.(*conn).serve(...)".
func goFrame(l []byte) bool {
	if bytes.IndexByte(l, ' ') >= 0 && !bytes.HasSuffix(l, []byte(")")) {
		return false
	}
	i := bytes.IndexByte(l, '(')
	return i > 0 && bytes.HasSuffix(l, []byte(")")) && (bytes.IndexByte(l[:i], '.') > 0 || string(l[:i]) == "panic")
}

// flush ends the current group and counts what it says.
func (a *agg) flush() {
	g := a.g
	if g == nil {
		return
	}
	a.g = nil
	l := parseLine(g.head, g.meta, a.now, a.loc)
	l.Source = a.source
	for _, s := range g.stack {
		t, trunc := safeString(s, maxLineBytes)
		l.Stack = append(l.Stack, t)
		l.Truncated = l.Truncated || trunc
	}
	if g.dropped > 0 {
		l.Truncated = true
	}
	hasStack := g.hasStack || len(l.Stack) > 0 && g.mode == stackNone && strings.HasPrefix(strings.TrimSpace(l.Stack[0]), "at ")
	texts := append([]string{l.Message}, l.Stack...)
	if l.Message == "" {
		texts[0] = l.Text
	}

	// Trace correlation: any line of the group carrying the id.
	if a.traceID != "" && (l.TraceID == a.traceID || containsAny(l.Text, l.Stack, a.traceID)) {
		a.traceCount++
		a.traceSources[a.source] = true
		if len(a.trace) < maxTraceLines {
			a.trace = append(a.trace, exampleOf(l))
		}
	}

	isErr := l.Level == "error" || l.Level == "fatal" ||
		strings.Contains(l.Text, "Exception") || strings.Contains(l.Text, "Traceback (most recent call last)") ||
		strings.HasPrefix(strings.TrimSpace(l.Text), "panic:") || strings.Contains(l.Text, "panic: ") ||
		strings.Contains(l.Text, "fatal error:") || strings.Contains(l.Text, "http: panic serving") || hasStack
	if a.kernel {
		isErr = false // kernel lines count through their signals only
	}
	for _, re := range a.callers {
		if re.MatchString(l.Text) {
			isErr = true
			break
		}
	}
	timeout := false
	for _, t := range texts {
		if isTimeout(t) {
			timeout = true
			break
		}
	}
	if timeout {
		a.timeouts++
	}
	if isErr {
		a.errorLines++
		if hasStack {
			a.stackTraces++
		}
		if !timeout {
			a.otherErrors++
		}
		if l.TraceID != "" && l.TraceID == a.traceID {
			a.traceErrLines++
		}
		a.addSignature(l, g)
	}
	a.addSignals(l, texts)
}

func containsAny(text string, more []string, s string) bool {
	if strings.Contains(text, s) {
		return true
	}
	for _, m := range more {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func (a *agg) addSignature(l Line, g *group) {
	msg := l.Message
	if msg == "" {
		msg = l.Text
	}
	// An uncaught Python exception: the traceback's last line names it.
	if g.mode == stackPython && strings.HasPrefix(strings.TrimSpace(l.Text), "Traceback") && len(l.Stack) > 0 {
		msg = l.Stack[len(l.Stack)-1]
	}
	if l.TraceID != "" {
		msg = strings.ReplaceAll(msg, l.TraceID, "<trace>")
	}
	key := normalize(msg)
	s := a.sigs[key]
	if s == nil {
		if len(a.sigs) >= maxDistinctSignatures {
			a.sigOverflow++ // bounded memory on a window of unique messages
			return
		}
		s = &Signature{Pattern: key}
		a.sigs[key] = s
	}
	s.Count++
	s.First, s.Last = widen(s.First, s.Last, l.Time)
	if s.Example.Time.IsZero() || !l.Time.Before(s.Example.Time) {
		s.Example = exampleOf(l)
	}
}

// exampleOf bounds what a signature keeps of its example line.
// reCredential is the password of a URL's user information: what a
// connection string logged with an error carries.
var reCredential = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s"']+):[^@\s"']+@`)

// redactLine replaces the passwords of the URLs in s, so that an example
// line quoted in a report does not leak them.
func redactLine(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	return reCredential.ReplaceAllString(s, "${1}:xxxxx@")
}

func exampleOf(l Line) Line {
	l.Text, l.Message = redactLine(l.Text), redactLine(l.Message)
	if len(l.Text) > maxExampleBytes {
		l.Text, l.Truncated = cutText(l.Text, maxExampleBytes), true
	}
	if len(l.Message) > maxExampleBytes {
		l.Message = cutText(l.Message, maxExampleBytes)
	}
	if len(l.Stack) > 0 {
		st := make([]string, len(l.Stack))
		for i, f := range l.Stack {
			st[i] = f
			if len(f) > 1024 {
				st[i], l.Truncated = clip(f, 1024), true
			}
		}
		l.Stack = st
	}
	return l
}

func widen(first, last, t time.Time) (time.Time, time.Time) {
	if t.IsZero() {
		return first, last
	}
	if first.IsZero() || t.Before(first) {
		first = t
	}
	if last.IsZero() || t.After(last) {
		last = t
	}
	return first, last
}

// addSignals counts the signals of one group, once per code and target.
func (a *agg) addSignals(l Line, texts []string) {
	var hits []hit
	for _, t := range texts {
		hits = append(hits, detect(t, a.kernel)...)
	}
	if len(hits) == 0 {
		return
	}
	// A stack trace often names the target on another line than the
	// error ("Failed to call payments:8443" ... "Caused by: ...
	// ConnectException: Connection refused").
	fallback, looked := "", false
	seen := map[hitKey]bool{}
	for _, h := range hits {
		if h.memcg != "" {
			// The kernel's oom-kill line names the killed task's cgroup;
			// its "Killed process" line follows.
			if len(a.oomCgroup) < maxOOMTasks {
				a.oomCgroup[h.pid] = h.memcg
			}
			continue
		}
		if h.target == "" {
			switch h.code {
			case CodeDependencyRefused, CodeDependencyTimeout, CodeUpstreamRefused, CodeUpstreamTimeout, CodeDNSFailure:
				if !looked {
					looked = true
					for _, t := range texts {
						if fallback = hostTarget(t); fallback != "" {
							break
						}
					}
				}
				h.target = fallback
			}
		}
		if h.target == "" {
			h.target = "unknown"
		}
		k := hitKey{code: string(h.code), target: h.target}
		if h.code == CodeKernelOOMKill {
			// Kills in different cgroups are different stories: the
			// target's own, or an unrelated job's.
			k.cgroup = a.oomCgroup[h.pid]
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		s := a.signals[k]
		if s == nil {
			s = &Signal{Code: h.code, Target: h.target, Cgroup: k.cgroup}
			a.signals[k] = s
		}
		s.Count++
		if h.pid != 0 {
			s.PID = h.pid
		}
		if h.noLive {
			s.NoLiveUpstreams++
		}
		s.First, s.Last = widen(s.First, s.Last, l.Time)
		if s.Example == "" || l.Time.IsZero() || !l.Time.Before(s.Last) {
			s.Example = redactLine(l.Text)
			if len(s.Example) > maxExampleBytes {
				s.Example = cutText(s.Example, maxExampleBytes)
			}
		}
	}
}

// longLine handles a line too long for the read buffer: its first bytes
// and how many more there were.
func (a *agg) longLine(head []byte, cut int) {
	a.lines++
	if a.cont(head) {
		return
	}
	if a.m.match(head) {
		a.head(head, lineMeta{cut: cut})
	}
}

var markerRe = regexp.MustCompile(`…\[truncated (\d+) bytes\]$`)

// cutText cuts s to about n bytes, keeping the truncation marker right:
// it counts the bytes cut before and now.
func cutText(s string, n int) string {
	dropped := 0
	if m := markerRe.FindStringSubmatchIndex(s); m != nil {
		dropped, _ = strconv.Atoi(s[m[2]:m[3]])
		s = s[:m[0]]
	}
	kept := strings.TrimSuffix(clip(s, n), "…")
	return kept + "…[truncated " + strconv.Itoa(dropped+len(s)-len(kept)) + " bytes]"
}
