package probe

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/window"
)

// Finding codes of [DB]. Every one carries the evidence keys in_use,
// max_open, wait_count_delta and wait_duration_delta_ns.
const (
	// CodeDBOK (OK): the ping answered and no request waited for a
	// connection. Evidence adds ping_ns.
	CodeDBOK triage.Code = "db.ok"
	// CodeDBPingTimeout (Fail): the ping did not answer before
	// DBOptions.PingTimeout (or the context's deadline) while the pool had
	// a free connection: the database or the network is slow. Evidence
	// adds ping_ns.
	CodeDBPingTimeout triage.Code = "db.ping_timeout"
	// CodeDBPingError (Fail): the ping failed. Evidence adds ping_ns,
	// error.
	CodeDBPingError triage.Code = "db.ping_error"
	// CodeDBPoolExhausted (Fail): every connection the pool may open was
	// in use and requests waited for one (WaitCount grew between the two
	// samples, not counting the probe's own ping). Evidence adds waiters
	// (waits by others), ping_waited (true when the probe's own ping could
	// not get a connection).
	CodeDBPoolExhausted triage.Code = "db.pool_exhausted"
)

// Defaults of [DBOptions].
const (
	// DefaultDBInterval is the time between the two pool samples when
	// DBOptions.Interval is zero.
	DefaultDBInterval = 500 * time.Millisecond
	// DefaultDBPingTimeout bounds the ping when DBOptions.PingTimeout is
	// zero.
	DefaultDBPingTimeout = 2 * time.Second
)

// DBOptions tunes [DB]. Its zero value samples the pool half a second
// apart and gives the ping two seconds.
type DBOptions struct {
	// Interval is the time between the two samples of the pool
	// statistics; the ping runs in between. If zero, DefaultDBInterval.
	// What is left of it after the ping is shortened to half of what is
	// left before the context's deadline, so the check answers in time.
	Interval time.Duration
	// PingTimeout bounds the ping. If zero, DefaultDBPingTimeout.
	PingTimeout time.Duration
}

// DBResult is what [DB] found. Its Check is [KindDB]; its Target is
// empty, as a *sql.DB does not say where it connects.
type DBResult struct {
	triage.Result
	// Ping is how long the ping took (until it failed, when it failed).
	Ping time.Duration `json:"ping_ns"`
	// PingErr is the ping's error, kept for errors.Is; PingError is its
	// text.
	PingErr   error  `json:"-"`
	PingError string `json:"ping_error,omitempty"`
	// PingTimedOut is true when the ping hit its timeout.
	PingTimedOut bool `json:"ping_timed_out,omitempty"`
	// Before and After are the pool statistics before the ping and
	// Interval later.
	Before DBStats `json:"before"`
	After  DBStats `json:"after"`
	// WaitCountDelta and WaitDurationDelta are how much After's WaitCount
	// and WaitDuration grew over Before's, the probe's own ping included.
	WaitCountDelta    int64         `json:"wait_count_delta"`
	WaitDurationDelta time.Duration `json:"wait_duration_delta_ns"`
	// Interval is the time between the two samples.
	Interval time.Duration `json:"interval_ns"`
}

// DBStats is a sample of sql.DBStats.
type DBStats struct {
	// MaxOpen is the pool's limit, 0 for unlimited.
	MaxOpen int `json:"max_open"`
	// Open, InUse and Idle are the connections now.
	Open  int `json:"open"`
	InUse int `json:"in_use"`
	Idle  int `json:"idle"`
	// WaitCount and WaitDuration add up every wait for a connection since
	// the pool was made.
	WaitCount    int64         `json:"wait_count"`
	WaitDuration time.Duration `json:"wait_duration_ns"`
	// Closed by the pool since it was made, by reason.
	MaxIdleClosed     int64 `json:"max_idle_closed"`
	MaxIdleTimeClosed int64 `json:"max_idle_time_closed"`
	MaxLifetimeClosed int64 `json:"max_lifetime_closed"`
}

func dbStatsOf(s sql.DBStats) DBStats {
	return DBStats{
		MaxOpen: s.MaxOpenConnections, Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
		WaitCount: s.WaitCount, WaitDuration: s.WaitDuration,
		MaxIdleClosed: s.MaxIdleClosed, MaxIdleTimeClosed: s.MaxIdleTimeClosed,
		MaxLifetimeClosed: s.MaxLifetimeClosed,
	}
}

// DB pings db and samples its pool statistics before the ping and
// Interval later, to tell "the database is slow or down" (ping timeout,
// ping error) from "the application has run out of connections" (pool
// exhausted: every connection in use and requests waiting).
//
// DB takes one connection from the pool for the ping, like any request
// would. It returns by ctx's deadline as long as the driver honours
// contexts.
//
// Err is set (status Unknown) when db is nil or options are negative
// (wrapping triage.ErrInvalid), and when ctx was canceled or its deadline
// hit before the second sample.
func DB(ctx context.Context, db *sql.DB, opts DBOptions) DBResult {
	r := DBResult{Result: triage.Begin(KindDB, triage.Target{})}
	r.Finish(dbRun(ctx, db, opts, &r))
	return r
}

func dbRun(ctx context.Context, db *sql.DB, opts DBOptions, r *DBResult) error {
	if db == nil {
		return fmt.Errorf("%w: nil *sql.DB", triage.ErrInvalid)
	}
	if opts.Interval < 0 || opts.PingTimeout < 0 {
		return fmt.Errorf("%w: negative interval or ping timeout", triage.ErrInvalid)
	}
	interval, pingTimeout := opts.Interval, opts.PingTimeout
	if interval == 0 {
		interval = DefaultDBInterval
	}
	if pingTimeout == 0 {
		pingTimeout = DefaultDBPingTimeout
	}

	first := time.Now()
	r.Before = dbStatsOf(db.Stats())

	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	pingStart := time.Now()
	perr := db.PingContext(pctx)
	r.Ping = time.Since(pingStart)
	pingDeadline := errors.Is(pctx.Err(), context.DeadlineExceeded)
	cancel()
	if perr != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return fmt.Errorf("pinging: %w", perr)
		}
		r.PingErr, r.PingError = perr, perr.Error()
		r.PingTimedOut = pingDeadline || isTimeout(perr)
	}

	// The second sample: at Interval after the first, but within the
	// sample window the context leaves. An early sample still shows
	// growth; a context that ends during the wait is seen below.
	_ = window.Wait(ctx, window.Fit(ctx, time.Until(first.Add(interval))))
	r.After = dbStatsOf(db.Stats())
	r.Interval = time.Since(first)
	r.WaitCountDelta = r.After.WaitCount - r.Before.WaitCount
	r.WaitDurationDelta = r.After.WaitDuration - r.Before.WaitDuration

	r.Add(dbFinding(r))
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("sampling the pool: %w", ctx.Err())
	}
	return nil
}

func dbFinding(r *DBResult) triage.Finding {
	b, a := r.Before, r.After
	maxOpen := max(a.MaxOpen, b.MaxOpen)
	inUse := max(a.InUse, b.InUse)
	full := maxOpen > 0 && inUse >= maxOpen
	// The probe's own ping waits (and counts once in WaitCount) only when
	// the pool was full as it asked.
	pingWaited := maxOpen > 0 && b.InUse >= maxOpen && r.WaitCountDelta > 0
	others := r.WaitCountDelta
	if pingWaited {
		others--
	}
	ev := triage.Evidence{
		slog.Int("in_use", inUse),
		slog.Int("max_open", maxOpen),
		slog.Int64("wait_count_delta", r.WaitCountDelta),
		slog.Duration("wait_duration_delta_ns", r.WaitDurationDelta),
	}
	switch {
	case full && (pingWaited || others > 0):
		return triage.Finding{
			Code:   CodeDBPoolExhausted,
			Status: triage.Fail,
			Summary: fmt.Sprintf("connection pool exhausted: %d of %d connections in use, %d waits for a connection (+%s waiting) in %s",
				inUse, maxOpen, r.WaitCountDelta, r.WaitDurationDelta.Round(time.Millisecond), roundDur(r.Interval)),
			Evidence: append(ev, slog.Int64("waiters", others), slog.Bool("ping_waited", pingWaited)),
		}
	case r.PingTimedOut:
		return triage.Finding{
			Code:     CodeDBPingTimeout,
			Status:   triage.Fail,
			Summary:  fmt.Sprintf("database ping timed out after %s (%d of %s connections in use)", roundDur(r.Ping), inUse, maxText(maxOpen)),
			Evidence: append(ev, slog.Duration("ping_ns", r.Ping)),
		}
	case r.PingErr != nil:
		return triage.Finding{
			Code:     CodeDBPingError,
			Status:   triage.Fail,
			Summary:  fmt.Sprintf("database ping failed after %s: %s", roundDur(r.Ping), r.PingError),
			Evidence: append(ev, slog.Duration("ping_ns", r.Ping), slog.String("error", r.PingError)),
		}
	}
	return triage.Finding{
		Code:     CodeDBOK,
		Status:   triage.OK,
		Summary:  fmt.Sprintf("database ping answered in %s (%d of %s connections in use)", roundDur(r.Ping), inUse, maxText(maxOpen)),
		Evidence: append(ev, slog.Duration("ping_ns", r.Ping)),
	}
}

func maxText(n int) string {
	if n <= 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}
