package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/host"
	"github.com/triagekit/triage/internal/human"
)

// facts are the numbers behind a verdict, for -v: what a person would
// have read off top, free, df and dig before saying "fine".
func facts(o triage.Outcome) []string {
	var out []string
	switch r := o.(type) {
	case *host.Result:
		if r.Window > 0 {
			out = append(out, fmt.Sprintf("cpu %.1f%% busy over %s on %d cores (iowait %.1f%%, steal %.1f%%), load %.2f per core",
				r.CPU.BusyPct, r.Window, r.CPU.Cores, r.CPU.IOWaitPct, r.CPU.StealPct, r.Load.Load1PerCore))
		}
		if m := r.Memory; m.TotalBytes > 0 {
			out = append(out, fmt.Sprintf("memory %s of %s available (%.0f%%, judged against the %s), swap %s used",
				human.Bytes(m.AvailableBytes), human.Bytes(m.TotalBytes), m.AvailablePct, m.JudgedAgainst, human.Bytes(m.SwapUsedBytes)))
		}
	case *diskcheck.Result:
		for _, fs := range r.Filesystems {
			if fs.Size == 0 {
				continue
			}
			line := fmt.Sprintf("%s %.0f%% used (%s free)", fs.MountPoint, fs.UsedPct, human.Bytes(fs.Avail))
			if !fs.NoInodeLimit {
				line += fmt.Sprintf(", inodes %.0f%% used", fs.InodesUsedPct)
			}
			out = append(out, line)
		}
	case *dnscheck.Result:
		if a := r.App; a != nil {
			out = append(out, fmt.Sprintf("the application resolves %s through its %s to %s", r.Name, a.Source, addrList(a.Addrs)))
		}
		for _, s := range r.Servers {
			for _, ans := range s.Answers {
				rcode := ans.Rcode
				if rcode == "" {
					rcode = "no answer"
				}
				out = append(out, fmt.Sprintf("%s says %s %s: %s", s.Addr, ans.Type, rcode, addrList(ans.Addrs)))
			}
		}
	}
	if a := o.Common().Target.Addr; a.IsValid() {
		out = append(out, "dialled "+a.String())
	}
	return out
}

func addrList(addrs []netip.Addr) string {
	if len(addrs) == 0 {
		return "no address"
	}
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
