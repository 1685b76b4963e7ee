package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/container"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/internal/human"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/process"
	"github.com/triagekit/triage/sockstat"
)

// openContainer holds the namespaces of -container PID for the run, so
// that every check is made from inside them: the probes and the DNS
// queries dial from its network namespace, the socket check reads it,
// the application's resolv.conf and hosts file, -log files, its journal
// (-unit, -journal-dir) and -path filesystems are the ones inside its
// root, and the host step judges its cgroup. It returns a planned check that
// stands for the whole routine when the namespaces cannot be entered
// (no permission): the report then says the routine could not tell,
// rather than showing the host's view as the container's.
func (c *config) openContainer() (*planned, error) {
	if c.netnsFlag != "" {
		if c.container != 0 {
			return nil, usagef("give -container or -netns, not both: -container enters the network namespace of its process already")
		}
		return c.openNetNS()
	}
	if c.container == 0 {
		return nil, nil
	}
	if c.container < 0 {
		return nil, usagef("-container must be a positive process id, not %d", c.container)
	}
	ctr, err := container.Open(c.container)
	switch {
	case errors.Is(err, container.ErrGone), errors.Is(err, triage.ErrInvalid):
		return nil, usagef("-container %d: %v", c.container, err)
	case err != nil:
		return &planned{step: stepSymptom, check: triage.Func("container", func(ctx context.Context) triage.Result {
			r := triage.Begin("container", triage.Target{PID: c.container})
			r.Finish(fmt.Errorf("entering the namespaces of pid %d: %w", c.container, err))
			return r
		}), target: true}, nil
	}
	c.ctr = ctr
	// -pid names processes as the container numbers them: found by
	// their PID there, and kept by their PID here for the checks.
	for i, n := range c.pid {
		if n <= 0 {
			return nil, usagef("-pid must be a positive process id, not %d", n)
		}
		r := process.Check(context.Background(), process.Options{PIDNamespaceOf: c.container, PID: n, Window: time.Millisecond, TopThreads: -1})
		if len(r.Processes) != 1 {
			return nil, usagef("-pid %d: no such process in the PID namespace of pid %d", n, c.container)
		}
		c.pid[i] = r.Processes[0].PID
	}
	if len(c.pid) == 0 {
		// The container's process is the one asked about: its process
		// check, its cgroup's limits, its proxy environment.
		c.pid = append(c.pid, c.container)
	}
	// The application's files, read inside the container whatever their
	// links say; the checks read them through descriptors held open.
	for _, f := range []struct {
		flag string
		name *string
		def  string
	}{{"-resolv-conf", &c.resolvConf, dnscheck.DefaultResolvConf}, {"-hosts-file", &c.hostsFile, dnscheck.DefaultHostsFile}} {
		name := *f.name
		if name == "" {
			name = f.def
		}
		file, err := ctr.Open(name)
		if err != nil {
			if *f.name == "" && errors.Is(err, os.ErrNotExist) {
				continue // an image without one: the resolver's defaults
			}
			return nil, usagef("%s %s in pid %d: %v", f.flag, name, c.container, err)
		}
		if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() {
			file.Close()
			return nil, usagef("%s %s in pid %d is not a regular file", f.flag, name, c.container)
		}
		c.held = append(c.held, file)
		*f.name = fmt.Sprintf("/proc/self/fd/%d", file.Fd())
	}
	return nil, nil
}

// openNetNS holds -netns's network namespace for the run: a name of ip
// netns (/var/run/netns/NAME) or a namespace file. Only the network steps
// run inside it. As ip netns exec does, /etc/netns/NAME/resolv.conf and
// hosts, where they exist, are the application's files.
func (c *config) openNetNS() (*planned, error) {
	file, name := c.netnsFlag, ""
	if !strings.Contains(c.netnsFlag, "/") {
		if c.netnsFlag == "." || c.netnsFlag == ".." {
			return nil, usagef("-netns %q is not a namespace name", c.netnsFlag)
		}
		name = c.netnsFlag
		file = "/var/run/netns/" + name
	}
	ctr, err := container.OpenNetNS(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, usagef("-netns %s: no such network namespace (ip netns list names them)", c.netnsFlag)
	case errors.Is(err, triage.ErrInvalid):
		return nil, usagef("-netns %s: %v", c.netnsFlag, err)
	case err != nil:
		return &planned{step: stepSymptom, check: triage.Func("netns", func(ctx context.Context) triage.Result {
			r := triage.Begin("netns", triage.Target{})
			r.Finish(fmt.Errorf("entering the network namespace %s: %w", c.netnsFlag, err))
			return r
		}), target: true}, nil
	}
	c.ctr, c.netOnly = ctr, true
	if name != "" {
		for _, f := range []struct {
			name *string
			file string
		}{{&c.resolvConf, "resolv.conf"}, {&c.hostsFile, "hosts"}} {
			p := "/etc/netns/" + name + "/" + f.file
			if st, err := os.Stat(p); *f.name == "" && err == nil && st.Mode().IsRegular() {
				*f.name = p
			}
		}
	}
	return nil, nil
}

// inContainer says the checks look at a container's files, processes,
// disks and cgroup (-container), not only its network (-netns).
func (c *config) inContainer() bool { return c.ctr != nil && !c.netOnly }

// closeContainer releases what openContainer holds.
func (c *config) closeContainer() {
	for _, f := range c.held {
		f.Close()
	}
	c.held = nil
	if c.ctr != nil {
		c.ctr.Close()
	}
}

// dialer is where the probes dial from: inside -container's network
// namespace, or here (nil).
func (c *config) dialer() probe.Dialer {
	if c.ctr == nil {
		return nil
	}
	return c.ctr
}

// dnsDialer is dialer for the DNS check.
func (c *config) dnsDialer() dnscheck.Dialer {
	if c.ctr == nil {
		return nil
	}
	return c.ctr
}

// netns is the network namespace file the socket checks read: the
// container's, or this host's (empty).
func (c *config) netns() string {
	if c.ctr == nil {
		return ""
	}
	return c.ctr.NetNSPath()
}

// netTools are the commands that answer for the network namespace they
// run in: under -container they must run in the container's.
var netTools = []string{"ss", "curl", "dig", "iptables", "ip6tables", "nft", "nstat", "conntrack", "traceroute", "ping", "ip", "tcpdump", "nc", "sysctl", "lsof"}

// insideCommands rewrites the commands of the target's hypotheses and of
// the findings of the checks made inside -container or -netns, so that
// the network ones an operator copies run in the network namespace
// (nsenter -t PID -n, ip netns exec NAME), with this host's tools (ss on
// the host would show the host's sockets), and the files they read are
// the container's. Background hypotheses are about the host and keep
// theirs.
func insideCommands(in input, verdict *classify.Report, results []triage.Outcome) {
	if in.Container == nil {
		return
	}
	ns := *in.Container
	for i := range verdict.Hypotheses {
		h := &verdict.Hypotheses[i]
		h.Next = slices.Clone(h.Next)
		for j, cmd := range h.Next {
			h.Next[j] = insideCommand(ns, cmd)
		}
	}
	if verdict.Close != nil {
		cl := *verdict.Close
		cl.Command = insideCommand(ns, cl.Command)
		verdict.Close = &cl
	}
	for _, o := range results {
		r := o.Common()
		switch {
		case r.Check == sockstat.KindCheck, r.Check == dnscheck.KindCheck, r.Check == logscan.KindCheck,
			r.Check == diskcheck.KindCheck, r.Check == diskcheck.KindUsage, strings.HasPrefix(r.Check, "probe."):
		default:
			continue
		}
		for i := range r.Findings {
			r.Findings[i].Command = insideCommand(ns, r.Findings[i].Command)
		}
	}
}

// insideCommand rewrites cmd to run from this host against the
// namespaces ns: the files its file tools name are named through a
// container's root, and a command that starts with a network tool runs
// in the network namespace (nsenter, or ip netns exec for a named one),
// a pipeline or a list whole in a shell there.
func insideCommand(ns inputContainer, cmd string) string {
	if ns.PID > 0 {
		cmd = insideFiles(ns.PID, cmd)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(cmd), " ")
	if !slices.Contains(netTools, first) {
		return cmd
	}
	var prefix string
	switch {
	case ns.PID > 0:
		prefix = fmt.Sprintf("nsenter -t %d -n ", ns.PID)
	case !strings.Contains(ns.NetNSName, "/"):
		prefix = "ip netns exec " + human.Quote(ns.NetNSName) + " "
	default:
		prefix = "nsenter --net=" + human.Quote(ns.NetNSName) + " "
	}
	if strings.ContainsAny(cmd, ";|&<>") {
		return prefix + "sh -c '" + strings.ReplaceAll(cmd, "'", `'\''`) + "'"
	}
	return prefix + cmd
}

// fileTools are the commands whose absolute path arguments are files and
// directories; findmnt reads a mount table, the container's with -N. df
// looks its mount point up again by path, which /proc/PID/root does not
// give it: it runs in the container's mount namespace instead.
var fileTools = []string{"cat", "tail", "head", "du", "find", "ls", "stat", "journalctl", "touch", "rm"}

// kernelPaths are named from this host in every command: the kernel's
// views of the container's processes and cgroup, not files inside it.
var kernelPaths = []string{"/proc/", "/sys/", "/dev/"}

// insideFiles names, in each command of the list or pipeline cmd, the
// absolute paths a file tool reads through /proc/PID/root, where this
// host reaches the container's files (shell-quoted ones too), gives
// findmnt the container's mount table and runs df in its mount
// namespace.
func insideFiles(pid int, cmd string) string {
	words := strings.Split(cmd, " ")
	root := fmt.Sprintf("/proc/%d/root", pid)
	tool, start, quoted := "", true, false
	for i, w := range words {
		if quoted {
			quoted = strings.Count(w, "'")%2 == 0
			continue
		}
		switch {
		case w == "":
			continue
		case w == ";" || w == "|" || w == "&&" || w == "||":
			start = true
			continue
		case start:
			tool, start = w, false
			switch w {
			case "findmnt":
				words[i] = fmt.Sprintf("findmnt -N %d", pid)
			case "df":
				words[i] = fmt.Sprintf("nsenter -t %d -m df", pid)
			}
			continue
		}
		// A word ending a command ("/x;") ends it.
		next := strings.HasSuffix(w, ";")
		bare := strings.TrimPrefix(w, "'")
		if slices.Contains(fileTools, tool) && strings.HasPrefix(bare, "/") &&
			!slices.ContainsFunc(kernelPaths, func(k string) bool { return strings.HasPrefix(bare, k) }) {
			words[i] = w[:len(w)-len(bare)] + root + bare
		}
		quoted = strings.Count(w, "'")%2 == 1
		if next {
			start = true
		}
	}
	return strings.Join(words, " ")
}

// planCompare adds, with -container, what the host and the container see
// differently: the -url or -dns name resolved on both sides, and the
// request's address connected to from both (loopback excepted, which is
// another host on each side).
func planCompare(c *config) ([]planned, error) {
	if !c.inContainer() || c.readOnly {
		// With -netns alone, the application's files are this host's.
		return nil, nil
	}
	var o container.CompareOptions
	if t, err := sockstatTarget(c); err == nil && t.Host != "" && t.Port != 0 {
		o.Address = t.HostPort()
		if _, err := netip.ParseAddr(t.Host); err != nil {
			o.Name = t.Host
		}
	}
	if c.dns != "" {
		o.Name = strings.TrimSuffix(strings.TrimSpace(c.dns), ".")
	}
	if o.Name == "" && o.Address == "" {
		return nil, nil
	}
	ctr := c.ctr
	return []planned{{step: stepDNSHTTP, check: triage.Func("container vs host", func(ctx context.Context) container.CompareResult {
		return container.Compare(ctx, ctr, o)
	})}}, nil
}
