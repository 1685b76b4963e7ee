package probe

import (
	"context"
	"database/sql"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/triagekit/triage"
)

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "probe.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Exec(`create table t (x int)`)
	require.NoError(t, err)
	return db
}

func TestDBOK(t *testing.T) {
	db := openSQLite(t)
	db.SetMaxOpenConns(4)
	r := DB(context.Background(), db, DBOptions{Interval: 50 * time.Millisecond})
	require.NoError(t, r.Err)
	assert.Equal(t, "probe.db", r.Check)
	assert.Equal(t, triage.OK, r.Status)
	assert.True(t, r.Has(CodeDBOK), "findings: %v", r.Findings)
	assert.Equal(t, 4, r.After.MaxOpen)
	assert.Zero(t, r.WaitCountDelta)
	assert.Positive(t, r.Ping)
	assert.GreaterOrEqual(t, r.Interval, 50*time.Millisecond)
}

// With one connection allowed and held by a transaction, the probe's ping
// cannot get one, and neither can the application's requests.
func TestDBPoolExhausted(t *testing.T) {
	db := openSQLite(t)
	db.SetMaxOpenConns(1)
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()

	// Requests of the application, queued behind the held connection.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = db.ExecContext(ctx, `insert into t values (1)`) })
	}
	require.Eventually(t, func() bool { return db.Stats().WaitCount >= 3 }, 2*time.Second, 5*time.Millisecond)
	// More arrive while the probe samples.
	time.AfterFunc(50*time.Millisecond, func() {
		wg.Go(func() { _, _ = db.ExecContext(ctx, `insert into t values (2)`) })
	})

	within(t, time.Second, func(ctx context.Context) {
		r := DB(ctx, db, DBOptions{Interval: 200 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
		require.NoError(t, r.Err)
		assert.True(t, r.PingTimedOut)
		assert.ErrorIs(t, r.PingErr, context.DeadlineExceeded)
		f, ok := r.Find(CodeDBPoolExhausted)
		require.True(t, ok, "findings: %v", r.Findings)
		assert.Equal(t, triage.Fail, f.Status)
		n, _ := f.Evidence.Int("in_use")
		assert.Equal(t, int64(1), n)
		n, _ = f.Evidence.Int("max_open")
		assert.Equal(t, int64(1), n)
		n, _ = f.Evidence.Int("waiters")
		assert.GreaterOrEqual(t, n, int64(1))
		assert.GreaterOrEqual(t, r.WaitCountDelta, int64(2))
		assert.False(t, r.Has(CodeDBPingTimeout), "a full pool explains the slow ping")
	})
	cancel()
	wg.Wait()
}

// What the pool closed shows in the samples, by reason: a pool that
// keeps no idle connection closes each one as it comes back, the ping's
// own included; one whose connections live a millisecond closes the
// expired idle one the ping would have taken.
func TestDBClosedConnections(t *testing.T) {
	t.Run("max idle", func(t *testing.T) {
		db := openSQLite(t)
		db.SetMaxIdleConns(0)
		for range 3 {
			_, err := db.Exec(`insert into t values (1)`)
			require.NoError(t, err)
		}
		r := DB(context.Background(), db, DBOptions{Interval: 20 * time.Millisecond})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeDBOK), "findings: %v", r.Findings)
		assert.GreaterOrEqual(t, r.Before.MaxIdleClosed, int64(3), "the queries' connections")
		assert.Greater(t, r.After.MaxIdleClosed, r.Before.MaxIdleClosed, "the ping's connection")
		assert.Zero(t, r.After.MaxLifetimeClosed)
		assert.Zero(t, r.After.Idle)
	})
	t.Run("max lifetime", func(t *testing.T) {
		db := openSQLite(t)
		for range 3 {
			_, err := db.Exec(`insert into t values (1)`)
			require.NoError(t, err)
		}
		require.Equal(t, 1, db.Stats().Idle)
		time.Sleep(5 * time.Millisecond)
		// The idle connection is now older than its lifetime. The
		// pool's cleaner runs a second from now at the earliest: the
		// ping is the one to find it expired.
		db.SetConnMaxLifetime(time.Millisecond)
		r := DB(context.Background(), db, DBOptions{Interval: 20 * time.Millisecond})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeDBOK), "findings: %v", r.Findings)
		assert.Zero(t, r.Before.MaxLifetimeClosed)
		assert.Positive(t, r.After.MaxLifetimeClosed)
		assert.Zero(t, r.After.MaxIdleClosed)
	})
}

func TestDBPingError(t *testing.T) {
	db := openSQLite(t)
	require.NoError(t, db.Close())
	r := DB(context.Background(), db, DBOptions{Interval: time.Millisecond})
	require.NoError(t, r.Err)
	assert.True(t, r.Has(CodeDBPingError))
	assert.Equal(t, triage.Fail, r.Status)
	assert.Error(t, r.PingErr)
}

// A PostgreSQL server that accepts and never answers, like a database
// behind a network that drops its replies: the real driver's ping sends
// its startup message and waits in the handshake until the deadline.
func TestDBPingTimeout(t *testing.T) {
	var mu sync.Mutex
	var got []byte
	addr := rawServer(t, func(c *net.TCPConn) {
		defer c.Close()
		// Until the driver gives up and closes; the deadline only keeps
		// a driver that never does from holding the test.
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			mu.Lock()
			got = append(got, buf[:n]...)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	})
	db, err := sql.Open("pgx", "postgres://u@"+addr+"/db?connect_timeout=0&sslmode=disable")
	require.NoError(t, err)
	defer db.Close()

	for _, viaContext := range []bool{false, true} {
		deadline, pingTimeout := 5*time.Second, 200*time.Millisecond
		if viaContext {
			deadline, pingTimeout = 300*time.Millisecond, time.Minute
		}
		within(t, deadline, func(ctx context.Context) {
			r := DB(ctx, db, DBOptions{PingTimeout: pingTimeout, Interval: 100 * time.Millisecond})
			require.NoError(t, r.Err)
			assert.True(t, r.PingTimedOut, "ping error: %v", r.PingErr)
			assert.Error(t, r.PingErr)
			f, ok := r.Find(CodeDBPingTimeout)
			require.True(t, ok, "findings: %v", r.Findings)
			assert.Equal(t, triage.Fail, f.Status)
			assert.Equal(t, triage.Fail, r.Status)
			assert.Zero(t, r.After.InUse, "the failed connection went back to no one")
		})
	}
	mu.Lock()
	defer mu.Unlock()
	// The startup message's parameters come in no fixed order.
	for _, param := range []string{"\x00user\x00u\x00", "\x00database\x00db\x00"} {
		assert.Contains(t, string(got), param, "the server got the driver's startup message")
	}
}

func TestDBInvalid(t *testing.T) {
	r := DB(context.Background(), nil, DBOptions{})
	assert.ErrorIs(t, r.Err, triage.ErrInvalid)
	assert.Equal(t, triage.Unknown, r.Status)

	db := openSQLite(t)
	r = DB(context.Background(), db, DBOptions{Interval: -1})
	assert.ErrorIs(t, r.Err, triage.ErrInvalid)
}

func TestDBCanceled(t *testing.T) {
	db := openSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := DB(ctx, db, DBOptions{})
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, triage.Unknown, r.Status)
}
