// Command ss lists sockets like ss(8), through the sockstat package.
//
//	go run ./examples/ss -lntp          # listening TCP sockets with owners
//	go run ./examples/ss -ant           # every TCP socket
//	go run ./examples/ss -s             # the kernel's counts, like ss -s
//	go run ./examples/ss -s -a          # every TCP state counted exactly
//	go run ./examples/ss -port 8080 -state time-wait
//	go run ./examples/ss -netns /var/run/netns/blue -l
//
// It is meant to be at least as fast as ss(8) for the same question, at
// a few sockets or at a hundred thousand: see the sockets section of
// BENCHMARKS.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/triagekit/triage/sockstat"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

type stateList []sockstat.State

func (l *stateList) String() string {
	if l == nil {
		return ""
	}
	names := make([]string, len(*l))
	for i, s := range *l {
		names[i] = s.String()
	}
	return strings.Join(names, ",")
}

func (l *stateList) Set(s string) error {
	var st sockstat.State
	if err := st.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	*l = append(*l, st)
	return nil
}

// outBuffer returns the size of the output buffer for about n lines: a
// listing of 100k sockets is 10 MB of text, and fewer, larger writes cost
// less than the formatting; a short answer needs no more than a page.
func outBuffer(n int) int { return min(max(n*100, 4<<10), 1<<20) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ss", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		summary = fs.Bool("s", false, "print the kernel's socket counts and the listeners, like ss -s; with -a or -state, count TCP states exactly")
		all     = fs.Bool("a", false, "every state: listings show every state anyway; with -s, count each state exactly (walks every socket)")
		listen  = fs.Bool("l", false, "listening sockets only")
		procs   = fs.Bool("p", false, "show owning processes")
		tcp     = fs.Bool("t", false, "TCP sockets")
		udp     = fs.Bool("u", false, "UDP sockets")
		info    = fs.Bool("i", false, "show tcp_info (rtt and its variance in ms, retransmissions)")
		port    = fs.Int("port", 0, "sockets with `PORT` at either end")
		netns   = fs.String("netns", "", "network namespace `FILE`")
		asJSON  = fs.Bool("json", false, "print JSON")
		_       = fs.Bool("n", false, "numeric addresses (always; accepted for ss(8) habits)")
		timeout = fs.Duration("timeout", 10*time.Second, "give up after `DURATION`")
		states  stateList
	)
	fs.Var(&states, "state", "only sockets in `STATE` (repeatable): established, syn-sent, time-wait, close-wait, listen, ...")
	if err := fs.Parse(bundled(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	if *summary {
		o := sockstat.Options{NetNS: *netns, States: states}
		if !*all && len(states) == 0 {
			// What ss -s tells, and the listeners: no walk of the sockets.
			o.States = []sockstat.State{sockstat.Listen}
		}
		s, err := sockstat.Summarize(ctx, o)
		if err != nil {
			fmt.Fprintln(stderr, "ss:", err)
			return 1
		}
		bw := bufio.NewWriterSize(stdout, outBuffer(0))
		defer bw.Flush()
		if *asJSON {
			return writeJSON(bw, stderr, s)
		}
		writeSummary(bw, s, *all || len(states) > 0)
		return 0
	}

	o := sockstat.Options{Port: *port, Owners: *procs, TCPInfo: *info, NetNS: *netns, States: states}
	if *tcp {
		o.Protocols |= sockstat.TCP
	}
	if *udp {
		o.Protocols |= sockstat.UDP
	}
	if *listen {
		o.States = []sockstat.State{sockstat.Listen, sockstat.Close}
	}
	l, err := sockstat.Sockets(ctx, o)
	if err != nil && l.Sockets == nil {
		fmt.Fprintln(stderr, "ss:", err)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "ss: warning:", err)
	}
	bw := bufio.NewWriterSize(stdout, outBuffer(len(l.Sockets)))
	defer bw.Flush()
	if *asJSON {
		return writeJSON(bw, stderr, l)
	}
	if l.Source.Fallback != "" {
		fmt.Fprintf(stderr, "ss: read /proc/net instead of netlink (%s)\n", l.Source.Fallback)
	}
	socks := l.Sockets
	if *listen {
		// A TCP socket in CLOSE is not a listener; a UDP one is bound.
		kept := socks[:0]
		for _, s := range socks {
			if s.Proto != sockstat.TCP || s.State == sockstat.Listen {
				kept = append(kept, s)
			}
		}
		socks = kept
	}
	if err := writeTable(bw, socks, *procs); err != nil {
		fmt.Fprintln(stderr, "ss:", err)
		return 1
	}
	return 0
}

// writeSummary prints the kernel's counts and the states counted. exact
// says that the states are every state asked, counted one by one.
func writeSummary(w *bufio.Writer, s sockstat.Summary, exact bool) {
	total := s.Total
	if !exact && s.Totals != nil {
		total = s.Totals.TCP + s.Totals.TimeWait
	}
	b := w.AvailableBuffer()
	b = append(b, "TCP: "...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, " (source "...)
	b = append(b, s.Source.Name...)
	if s.Source.Fallback != "" {
		b = append(b, ", fallback: "...)
		b = append(b, s.Source.Fallback...)
	}
	b = append(b, ")\n"...)
	for st := sockstat.State(1); st < 16; st++ {
		if n, ok := s.States[st]; ok {
			b = append(b, "  "...)
			b = cell(b, st.String(), 10, true)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, '\n')
		}
	}
	if t := s.Totals; t != nil {
		if !exact {
			b = append(b, "  kernel: estab "...)
			b = strconv.AppendInt(b, int64(t.Established), 10)
			b = append(b, ", timewait "...)
			b = strconv.AppendInt(b, int64(t.TimeWait), 10)
			b = append(b, ", orphaned "...)
			b = strconv.AppendInt(b, int64(t.Orphans), 10)
			b = append(b, " (-a counts each state)\n"...)
		}
		b = append(b, "UDP: "...)
		b = strconv.AppendInt(b, int64(t.UDP), 10)
		b = append(b, '\n')
	}
	w.Write(b)
}

func writeJSON(w io.Writer, stderr io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "ss:", err)
		return 1
	}
	return 0
}

// bundled splits ss(8)-style bundles of one-letter switches ("-lntp") into
// separate flags, as people type them from habit. An argument is split
// only when every letter is a boolean flag, so "-port" stays whole.
func bundled(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		name, ok := strings.CutPrefix(a, "-")
		if !ok || len(name) < 2 || strings.HasPrefix(name, "-") || fs.Lookup(name) != nil {
			out = append(out, a)
			continue
		}
		split := true
		for _, r := range name {
			f := fs.Lookup(string(r))
			if f == nil {
				split = false
				break
			}
			if b, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool || !b.IsBoolFlag() {
				split = false
				break
			}
		}
		if !split {
			out = append(out, a)
			continue
		}
		for _, r := range name {
			out = append(out, "-"+string(r))
		}
	}
	return out
}
