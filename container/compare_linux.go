//go:build linux

package container

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/internal/procfs"
)

// Compare resolves o.Name and connects to o.Address from inside the
// namespaces of c and from this host, and says where the two disagree:
// a name the container resolves elsewhere (its own resolver, hosts file
// or search list), an address only one side reaches (its network
// policy, its routes). Both sides run at once, each bounded by
// o.Timeout.
func Compare(ctx context.Context, c *Container, o CompareOptions) CompareResult {
	r := CompareResult{Result: triage.Begin(KindCompare, triage.Target{Name: o.Name, PID: c.PID()})}
	r.Finish(compare(ctx, c, o, &r))
	return r
}

func compare(ctx context.Context, c *Container, o CompareOptions, r *CompareResult) error {
	switch {
	case o.Name == "" && o.Address == "":
		return fmt.Errorf("%w: nothing to compare: no Name and no Address", triage.ErrInvalid)
	case o.Timeout < 0:
		return fmt.Errorf("%w: negative timeout %s", triage.ErrInvalid, o.Timeout)
	}
	var host, port string
	if o.Address != "" {
		var err error
		if host, port, err = net.SplitHostPort(o.Address); err != nil || host == "" || port == "" {
			return fmt.Errorf("%w: address %q: want HOST:PORT", triage.ErrInvalid, o.Address)
		}
	}
	if c.root == nil {
		return fmt.Errorf("%w: comparing needs a process's namespaces, not a network namespace alone", triage.ErrInvalid)
	}
	timeout := cmp.Or(o.Timeout, DefaultCompareTimeout)

	// The files inside are read through descriptors, never by a path
	// this host resolves.
	inside, err := c.lookup()
	if err != nil {
		return err
	}
	hostLookup, err := dnscheck.AppLookup("", "")
	if err != nil {
		return err
	}
	r.Inside.Nameservers = c.nameservers()
	r.Host.Nameservers = hostNameservers()

	var wg sync.WaitGroup
	side := func(v *View, lookup func(context.Context, string) ([]netip.Addr, error), dial func(context.Context, string, string) (net.Conn, error)) {
		defer wg.Done()
		if o.Name != "" {
			v.Addrs, v.LookupError = resolve(ctx, lookup, o.Name, timeout)
		}
		if o.Address == "" {
			return
		}
		target := host
		if _, err := netip.ParseAddr(host); err != nil {
			addrs, lerr := resolve(ctx, lookup, host, timeout)
			if lerr != "" {
				v.DialError = "lookup: " + lerr
				return
			}
			target = addrs[0]
		}
		if a, err := netip.ParseAddr(target); err == nil && a.IsLoopback() {
			return // another host on each side
		}
		v.Dialed = net.JoinHostPort(target, port)
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		start := time.Now()
		conn, err := dial(dctx, "tcp", v.Dialed)
		v.Elapsed = time.Since(start)
		if err != nil {
			v.DialError = dialError(err)
			return
		}
		v.Connected = true
		conn.Close()
	}
	var d net.Dialer
	wg.Add(2)
	go side(&r.Inside, inside, c.DialContext)
	go side(&r.Host, hostLookup, d.DialContext)
	wg.Wait()
	judge(r, c.PID(), o)
	return ctx.Err()
}

// lookup resolves as the application inside does: its hosts file first,
// then its resolv.conf's nameservers, asked from its network namespace.
func (c *Container) lookup() (func(context.Context, string) ([]netip.Addr, error), error) {
	var paths [2]string
	var held []func() error
	defer func() {
		for _, cl := range held {
			_ = cl()
		}
	}()
	for i, name := range []string{dnscheck.DefaultHostsFile, dnscheck.DefaultResolvConf} {
		f, err := c.Open(name)
		if errors.Is(err, errNotExist) {
			// An image without the file: an empty one, as the C
			// library reads a missing one, never this host's.
			fd, merr := unix.MemfdCreate("triage-empty", unix.MFD_CLOEXEC)
			if merr != nil {
				return nil, os.NewSyscallError("memfd_create", merr)
			}
			f, err = os.NewFile(uintptr(fd), name), nil
		}
		if err != nil {
			return nil, err
		}
		held = append(held, f.Close)
		paths[i] = fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	}
	// AppLookupVia reads both files now; the descriptors can go after.
	return dnscheck.AppLookupVia(paths[0], paths[1], c)
}

// nameservers are the nameservers of the resolv.conf inside.
func (c *Container) nameservers() []string {
	f, err := c.Open(dnscheck.DefaultResolvConf)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := procfs.ReadFileMax(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), 1<<20)
	if err != nil {
		return nil
	}
	return parseNameservers(b)
}

func hostNameservers() []string {
	b, err := procfs.ReadFileMax(dnscheck.DefaultResolvConf, 1<<20)
	if err != nil {
		return nil
	}
	return parseNameservers(b)
}

func parseNameservers(b []byte) []string {
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && len(out) < 8 {
			out = append(out, f[1])
		}
	}
	return out
}

func resolve(ctx context.Context, lookup func(context.Context, string) ([]netip.Addr, error), name string, timeout time.Duration) ([]string, string) {
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := lookup(lctx, name)
	if err != nil {
		var de *net.DNSError
		switch {
		case errors.As(err, &de) && de.IsNotFound:
			return nil, "not found"
		case errors.As(err, &de) && de.IsTimeout, errors.Is(err, context.DeadlineExceeded):
			return nil, "timeout"
		}
		return nil, err.Error()
	}
	if len(addrs) == 0 {
		return nil, "no address"
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.Unmap().String()
	}
	slices.Sort(out)
	return slices.Compact(out), ""
}

func dialError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errRefused):
		return "refused"
	case errors.Is(err, errUnreachable), errors.Is(err, errHostUnreachable):
		return "unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}

func judge(r *CompareResult, pid int, o CompareOptions) {
	in, ho := &r.Inside, &r.Host
	pidAttr := slog.Int(triage.KeyPID, pid)
	same := true
	if o.Name != "" && (!slices.Equal(in.Addrs, ho.Addrs) || (in.LookupError == "") != (ho.LookupError == "")) {
		same = false
		r.Add(triage.Finding{
			Code:   CodeDNSDiffers,
			Status: triage.Warn,
			Summary: fmt.Sprintf("%s resolves %s inside pid %d and %s on this host (nameservers %s inside, %s here)",
				o.Name, answer(in), pid, answer(ho), list(in.Nameservers), list(ho.Nameservers)),
			Evidence: triage.Evidence{slog.String(triage.KeyName, o.Name), pidAttr,
				slog.String("inside_addrs", strings.Join(in.Addrs, ",")), slog.String("host_addrs", strings.Join(ho.Addrs, ",")),
				slog.String("inside_error", in.LookupError), slog.String("host_error", ho.LookupError),
				slog.String("inside_nameservers", strings.Join(in.Nameservers, ",")),
				slog.String("host_nameservers", strings.Join(ho.Nameservers, ","))},
			Command: fmt.Sprintf("nsenter -t %d -n -m getent hosts %s; getent hosts %s", pid, o.Name, o.Name),
		})
	}
	if in.Dialed != "" && ho.Dialed != "" && in.Connected != ho.Connected {
		same = false
		r.Add(triage.Finding{
			Code:   CodeReachDiffers,
			Status: triage.Warn,
			Summary: fmt.Sprintf("%s connects from %s only: inside pid %d %s, on this host %s",
				in.Dialed, map[bool]string{true: "inside", false: "this host"}[in.Connected], pid, reach(in), reach(ho)),
			Evidence: triage.Evidence{slog.String(triage.KeyAddr, in.Dialed), pidAttr,
				slog.String("inside_error", in.DialError), slog.String("host_error", ho.DialError)},
			Command: fmt.Sprintf("nsenter -t %d -n ip route get %s; nsenter -t %d -n iptables -S", pid, addrOnly(in.Dialed), pid),
		})
	}
	if same {
		r.Add(triage.Finding{
			Code:     CodeSameView,
			Status:   triage.OK,
			Summary:  fmt.Sprintf("pid %d and this host see %s alike", pid, strings.Trim(o.Name+" "+o.Address, " ")),
			Evidence: triage.Evidence{slog.String(triage.KeyName, o.Name), pidAttr},
		})
	}
}

func answer(v *View) string {
	if v.LookupError != "" {
		return "to nothing (" + v.LookupError + ")"
	}
	return "to " + strings.Join(v.Addrs, ", ")
}

func reach(v *View) string {
	if v.Connected {
		return "connected"
	}
	return v.DialError
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func addrOnly(hostport string) string {
	h, _, _ := net.SplitHostPort(hostport)
	return h
}
