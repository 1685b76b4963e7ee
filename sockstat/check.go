package sockstat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/window"
)

// KindCheck is the kind of check [Check] makes: the Check of its results.
const KindCheck = "sockstat"

// Check looks at the sockets and counters named by o and reports
// findings. See [Options] for what the zero value does. Result.Target is
// what the check was aimed at: the port, and the local address when one
// was asked, or the peer's host, port and address; for Options.Target,
// that target with the address it stood for.
//
// Err is set (and the status at least Unknown) when the check could not
// tell: bad options (triage.ErrInvalid), another OS
// (triage.ErrUnsupported), no permission (os.ErrPermission), the context's
// deadline (context.DeadlineExceeded), a dump the kernel kept interrupting
// ([ErrDumpInterrupted]). Falling back to /proc is not an error; it shows
// in Result.Source.
func Check(ctx context.Context, o Options) Result {
	r := Result{Result: triage.Begin(KindCheck, o.Target)}
	c, rd, err := open(ctx, o)
	r.Target = c.target
	if err == nil {
		err = c.check(ctx, rd, &r)
		rd.close()
	}
	r.Finish(err)
	return r
}

// open checks o, opens the reader of its namespace and resolves its
// target. The config it returns carries the target to report even when
// the error is not nil.
func open(ctx context.Context, o Options) (config, reader, error) {
	c, err := o.config()
	if err != nil {
		return config{target: o.Target}, nil, err
	}
	rd, err := newReader(ctx, c)
	if err != nil {
		return c, nil, err
	}
	if c, err = c.aimAt(ctx, rd); err != nil {
		rd.close()
		return c, nil, err
	}
	return c, rd, nil
}

// check reads the counters, scans the sockets while the counters' sample
// window runs, reads the counters again and turns it all into findings.
func (c config) check(ctx context.Context, rd reader, r *Result) error {
	var errs []error
	c0, c0err := readCounters(rd)
	t0 := time.Now()
	if c0err != nil {
		errs = append(errs, c0err)
	}
	lo, hi, perr := readPortRange(rd)
	if perr != nil {
		errs = append(errs, perr)
	}
	// The window starts before the scan, so that the scan runs inside it.
	var sample time.Duration
	if c.sample >= 0 && c0err == nil {
		sample = window.Fit(ctx, c.sample)
	}

	s := newScan(c, lo, hi)
	s.v6only = readV6Only(rd)
	if c.protocols&TCP != 0 {
		if err := s.tcp(ctx, rd, c0, allStates); err != nil {
			r.Source = rd.source()
			return errors.Join(append(errs, err)...)
		}
	}
	if c.protocols&UDP != 0 {
		if err := s.udp(ctx, rd); err != nil {
			errs = append(errs, err)
		}
	}
	r.Source = rd.source()
	if c.owners {
		if err := s.owners(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.fill(r)

	if c0err == nil {
		cs := c0
		r.Counters = &cs
		if c.sample >= 0 {
			if err := window.Wait(ctx, time.Until(t0.Add(sample))); err != nil {
				errs = append(errs, fmt.Errorf("sockstat: counter sample: %w", err))
			} else if c1, err := readCounters(rd); err == nil {
				r.Counters.Growth = c1.minus(c0)
				r.Counters.Window = time.Since(t0).Round(time.Millisecond)
			}
		}
	}
	c.findings(r)
	return errors.Join(errs...)
}
