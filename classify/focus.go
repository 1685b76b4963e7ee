package classify

import (
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/container"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/host"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/process"
	"github.com/triagekit/triage/sockstat"
)

// focus is what the run is about: the target the caller named and the
// request probes dialled, and what the results add to it (the owner of
// the target's listener, its cgroup, its paths and logs). A finding is
// about the target, or it is host background.
type focus struct {
	// named is false when nothing names a target: the host itself is
	// the target, and every finding is about it.
	named bool
	// request is true when a probe reproduced the request.
	request bool
	t       triage.Target
	ports   map[int]bool
	pids    map[int]bool
	procs   map[string]bool
	cgroups []string
	paths   []string
	// netns are the network namespaces the checks looked at, by inode.
	netns map[int64]bool
}

// newFocus gathers the target from the options and the results.
func newFocus(results []*triage.Result, obs []observed, opts Options) *focus {
	f := &focus{ports: map[int]bool{}, pids: map[int]bool{}, procs: map[string]bool{}, netns: map[int64]bool{}}
	f.t = opts.Target.Merge(requestTarget(obs, opts.SymptomFrom))
	for _, r := range results {
		if isRequest(r, opts.SymptomFrom) {
			f.request = true
		}
	}
	// A check aimed at something (a port, a name, a path, a process, a
	// cgroup) names the target as much as the caller's options do; only
	// checks of the whole host leave it to be the host.
	f.named = f.request || !opts.Target.IsZero()
	for _, r := range results {
		if !r.Target.IsZero() {
			f.named = true
		}
	}
	if f.t.Port != 0 {
		f.ports[f.t.Port] = true
	}
	if f.t.PID != 0 {
		f.pids[f.t.PID] = true
	}
	if f.t.Process != "" {
		f.procs[f.t.Process] = true
	}
	f.addCgroup(f.t.Cgroup)
	f.paths = append(f.paths, f.t.Paths...)

	for _, r := range results {
		switch r.Check {
		case process.KindCheck:
			// The processes a caller asks about are the target's.
			if r.Target.PID != 0 {
				f.pids[r.Target.PID] = true
			}
			if r.Target.Process != "" {
				f.procs[r.Target.Process] = true
			}
			f.addCgroup(r.Target.Cgroup)
		case logscan.KindCheck, diskcheck.KindCheck:
			// Log files and paths a caller names are the target's.
			f.paths = append(f.paths, r.Target.Paths...)
		}
	}
	for _, o := range obs {
		if isRequest(o.r, opts.SymptomFrom) {
			if p, ok := o.f.Evidence.Int(triage.KeyPort); ok && p > 0 {
				f.ports[int(p)] = true
			}
		}
	}
	for _, o := range obs {
		if o.r.Check == sockstat.KindCheck {
			if ino, ok := o.f.Evidence.Int(triage.KeyNetNS); ok && ino != 0 {
				f.netns[ino] = true
			}
		}
		switch o.f.Code {
		case sockstat.CodeListening, sockstat.CodeWrongAddress, sockstat.CodeAcceptQueueFull:
			// The owner of the target's listener is the target's process.
			if p, ok := o.f.Evidence.Int(triage.KeyPort); ok && f.ports[int(p)] {
				if pid, ok := o.f.Evidence.Int(triage.KeyPID); ok && pid > 0 {
					f.pids[int(pid)] = true
				}
				if name, ok := o.f.Evidence.Lookup(triage.KeyProcess); ok && name.String() != "" {
					f.procs[name.String()] = true
				}
			}
		case process.CodeRunning, process.CodeRestartedRecently, process.CodeThreadHot, process.CodeFDsNearLimit, process.CodeSwapping:
			if o.r.Check == process.KindCheck {
				if pid, ok := o.f.Evidence.Int(triage.KeyPID); ok && pid > 0 {
					f.pids[int(pid)] = true
				}
				if v, ok := o.f.Evidence.Lookup(triage.KeyCgroup); ok {
					f.addCgroup(v.String())
				}
			}
		}
	}
	// A host check aimed at a process or a cgroup judges the target's
	// limits: the caller aimed it there.
	for _, r := range results {
		if r.Check == host.KindCheck && !r.Target.IsZero() {
			if r.Target.PID != 0 {
				f.pids[r.Target.PID] = true
			}
			f.addCgroup(r.Target.Cgroup)
		}
	}
	return f
}

func (f *focus) addCgroup(cg string) {
	if cg != "" && !slices.Contains(f.cgroups, cg) {
		f.cgroups = append(f.cgroups, cg)
	}
}

// inCgroup reports whether cgroup path cg is one of the target's
// cgroups or below one.
func (f *focus) inCgroup(cg string) bool {
	if cg == "" {
		return false
	}
	for _, t := range f.cgroups {
		if cg == t || strings.HasPrefix(cg, strings.TrimSuffix(t, "/")+"/") {
			return true
		}
	}
	return false
}

// holdsTargetPath reports whether the filesystem mounted at mount holds
// one of the target's paths or logs.
func (f *focus) holdsTargetPath(mount string) bool {
	if mount == "" {
		return false
	}
	for _, p := range f.paths {
		if within(p, mount) {
			return true
		}
	}
	return false
}

// within reports whether path p is at or below dir. The longest mount
// that holds a path is the one it lives on; a finding names the mount it
// is about, so a prefix match is enough here.
func within(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// hostNow are host-wide conditions measured while the checks ran: they
// starve every process on the host, the target's too, but say nothing
// about an answer the target gave.
var hostNow = []triage.Code{
	host.CodeCPUSaturated, host.CodeCPUImbalance, host.CodeNICErrors, host.CodeDiskBusy, host.CodeLoadHigh, host.CodeCPUPressure, host.CodeStealHigh,
	host.CodeIOWaitHigh, host.CodeIOPressure, host.CodeMemoryLow, host.CodeSwapping, host.CodeMemoryPressure,
	sockstat.CodeListenOverflows, sockstat.CodeRetransmitsHigh, sockstat.CodeConntrackFull, logscan.CodeKernelConntrackFull,
}

// starvable says whether a condition of the whole host can be the
// target's problem under symptom s: a timeout or a slow answer can come
// from a starved host; so can trouble with a process or a cgroup the caller asks about
// (not a service's port) without a request. An answer the target gave (refused, 5xx), or a
// request that worked, is not explained by the host being busy.
func (f *focus) starvable(s Symptom) bool {
	return s == Timeout || s == Slow || (s == None && !f.request && f.t.Port == 0)
}

// judge marks finding o as about the target or host background under
// symptom s, and as shared when it is a condition of the whole host
// counted for the target: it may starve the target, but it says less
// about it than a finding of the target's own.
func (f *focus) judge(o *observed, s Symptom) {
	o.bg = !f.about(*o, s)
	scope, _ := o.f.Evidence.Lookup("scope")
	o.shared = f.named && !o.bg && o.r.Check != process.KindCheck && slices.Contains(hostNow, o.f.Code) &&
		scope.String() != "cgroup"
}

// about reports whether finding o is about the target under symptom s,
// rather than host background.
func (f *focus) about(o observed, s Symptom) bool {
	if !f.named {
		return true
	}
	ev := o.f.Evidence
	switch o.r.Check {
	case probe.KindTCP, probe.KindHTTP, probe.KindDB, process.KindCheck:
		// The request, the dependencies and the processes the caller
		// named.
		return true
	case host.KindCheck:
		if scope, ok := ev.Lookup("scope"); (ok && scope.String() == "cgroup") ||
			o.f.Code == host.CodeCgroupCPUThrottled || o.f.Code == host.CodeCgroupMemoryNearLimit {
			return f.inCgroup(o.r.Target.Cgroup) || f.pids[o.r.Target.PID]
		}
		if o.f.Code == host.CodeOOMKills {
			// The host's counter: someone, somewhere.
			return false
		}
		return slices.Contains(hostNow, o.f.Code) && f.starvable(s)
	case logscan.KindCheck:
		return f.aboutLog(o, s)
	case diskcheck.KindCheck:
		if o.f.Code == diskcheck.CodeDeletedOpen {
			if pid, ok := ev.Int(triage.KeyPID); ok && f.pids[int(pid)] {
				return true
			}
		}
		// The filesystem a finding is about must hold one of the
		// target's paths or logs; a check that also looks at every other
		// filesystem says nothing about the target with those.
		if mp, ok := ev.Lookup("mount_point"); ok && f.holdsTargetPath(mp.String()) {
			return true
		}
		if p, ok := ev.Lookup(triage.KeyPath); ok && slices.Contains(f.paths, p.String()) {
			return true
		}
		return false
	case sockstat.KindCheck:
		return f.aboutSockets(o, s)
	case container.KindCompare:
		// The container seeing a name or an address otherwise than the
		// host explains a request that fails or is slow from inside;
		// when it works, the difference is by design (a hosts-file pin,
		// a resolver of its own), not trouble.
		return s != None
	}
	// DNS checks ask about the name the caller named; checks of other
	// kinds (a caller's own) are taken as asked.
	return true
}

func (f *focus) aboutLog(o observed, s Symptom) bool {
	ev := o.f.Evidence
	switch o.f.Code {
	case logscan.CodeKernelOOMKill:
		if v, ok := ev.Lookup(triage.KeyCgroup); ok && f.inCgroup(v.String()) {
			return true
		}
		if pid, ok := ev.Int(triage.KeyPID); ok && f.pids[int(pid)] {
			return true
		}
		if v, ok := ev.Lookup(triage.KeyProcess); ok && f.procs[v.String()] {
			return true
		}
		return false
	case logscan.CodeKernelSYNFlood:
		p, ok := ev.Int(triage.KeyPort)
		return ok && f.ports[int(p)]
	case logscan.CodeKernelConntrackFull:
		// The kernel log is the host's: a table full in a namespace other
		// than the one the checks ran in (another container's) is about
		// the target only when a check looked into that namespace.
		if ino, ok := ev.Int(triage.KeyNetNS); ok {
			own, _ := ev.Lookup("netns_own")
			if !(own.Kind() == slog.KindBool && own.Bool()) && !f.netns[ino] {
				return false
			}
		}
		return f.starvable(s) || s == Refused
	case logscan.CodeKernelIOError:
		return false
	}
	// The target's own logs.
	return true
}

func (f *focus) aboutSockets(o observed, s Symptom) bool {
	ev := o.f.Evidence
	if slices.Contains(hostNow, o.f.Code) {
		return f.starvable(s)
	}
	if len(f.ports) == 0 {
		// No port to tell the target's sockets by.
		return true
	}
	if p, ok := ev.Int(triage.KeyPort); ok {
		return f.ports[int(p)]
	}
	if v, ok := ev.Lookup("peer"); ok {
		// Connections towards the target, from this host.
		ap, err := netip.ParseAddrPort(v.String())
		return err == nil && f.ports[int(ap.Port())] && (!f.t.Addr.IsValid() || f.t.Addr.Addr() == ap.Addr().Unmap())
	}
	if o.r.Target.Port != 0 {
		return f.ports[o.r.Target.Port]
	}
	return false
}
