// Command ss lists sockets like ss(8), through the sockstat package.
//
//	go run ./examples/ss -lntp          # listening TCP sockets with owners
//	go run ./examples/ss -s            # state histogram
//	go run ./examples/ss -port 8080 -state time-wait
//	go run ./examples/ss -netns /var/run/netns/blue -l
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
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triagekit/triage/sockstat"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

type stateList []sockstat.State

func (l *stateList) String() string { return fmt.Sprint(*l) }

func (l *stateList) Set(s string) error {
	var st sockstat.State
	if err := st.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	*l = append(*l, st)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// A listing of 100k sockets is 100k small writes: buffer them, or
	// the writes to a terminal or pipe cost more than the dump.
	bw := bufio.NewWriterSize(stdout, 64<<10)
	defer bw.Flush()
	stdout = bw
	fs := flag.NewFlagSet("ss", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		summary = fs.Bool("s", false, "print the state histogram")
		listen  = fs.Bool("l", false, "listening sockets only")
		procs   = fs.Bool("p", false, "show owning processes")
		tcp     = fs.Bool("t", false, "TCP sockets")
		udp     = fs.Bool("u", false, "UDP sockets")
		info    = fs.Bool("i", false, "show tcp_info (rtt, retransmissions)")
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
		s, err := sockstat.Summarize(ctx, sockstat.Options{NetNS: *netns})
		if err != nil {
			fmt.Fprintln(stderr, "ss:", err)
			return 1
		}
		if *asJSON {
			return writeJSON(stdout, stderr, s)
		}
		fmt.Fprintf(stdout, "TCP: %d (source %s%s)\n", s.Total, s.Source.Name, note(s.Source))
		keys := make([]sockstat.State, 0, len(s.States))
		for st := range s.States {
			keys = append(keys, st)
		}
		slices.Sort(keys)
		for _, st := range keys {
			fmt.Fprintf(stdout, "  %-11s %d\n", st, s.States[st])
		}
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
	if *asJSON {
		return writeJSON(stdout, stderr, l)
	}
	if l.Source.Fallback != "" {
		fmt.Fprintf(stderr, "ss: read /proc/net instead of netlink (%s)\n", l.Source.Fallback)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	head := "Netid\tState\tRecv-Q\tSend-Q\tLocal Address:Port\tPeer Address:Port"
	if *procs {
		head += "\tProcess"
	}
	fmt.Fprintln(tw, head)
	for _, s := range l.Sockets {
		if *listen && s.Proto == sockstat.TCP && s.State != sockstat.Listen {
			continue
		}
		peer := "*:*"
		if s.Peer.IsValid() && (s.Peer.Port() != 0 || !s.Peer.Addr().IsUnspecified()) {
			peer = s.Peer.String()
		}
		line := fmt.Sprintf("%s\t%s\t%d\t%d\t%s\t%s", s.Proto, s.State, s.RecvQ, s.SendQ, s.Local, peer)
		if *procs {
			var ps []string
			for _, p := range s.Processes {
				ps = append(ps, fmt.Sprintf("(%q,pid=%d)", p.Name, p.PID))
			}
			line += "\t" + strings.Join(ps, ",")
		}
		if s.Info != nil {
			line += fmt.Sprintf("\trtt:%s/%s retrans:%d/%d", s.Info.RTT, s.Info.RTTVar, s.Info.Retrans, s.Info.TotalRetrans)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	return 0
}

func note(s sockstat.Source) string {
	if s.Fallback == "" {
		return ""
	}
	return ", fallback: " + s.Fallback
}

func writeJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
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
