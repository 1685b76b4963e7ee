package probe

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

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

func TestDBPingError(t *testing.T) {
	db := openSQLite(t)
	require.NoError(t, db.Close())
	r := DB(context.Background(), db, DBOptions{Interval: time.Millisecond})
	require.NoError(t, r.Err)
	assert.True(t, r.Has(CodeDBPingError))
	assert.Equal(t, triage.Fail, r.Status)
	assert.Error(t, r.PingErr)
}

// hangDriver's connections never answer a ping until its context ends,
// like a database behind a network that drops packets.
type hangDriver struct{}

func (hangDriver) Open(string) (driver.Conn, error) { return hangConn{}, nil }

type hangConn struct{}

func (hangConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (hangConn) Close() error                        { return nil }
func (hangConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (hangConn) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

var registerHang sync.Once

func TestDBPingTimeout(t *testing.T) {
	registerHang.Do(func() { sql.Register("probe-hang", hangDriver{}) })
	db, err := sql.Open("probe-hang", "")
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
			assert.True(t, r.Has(CodeDBPingTimeout), "findings: %v", r.Findings)
			assert.Equal(t, triage.Fail, r.Status)
		})
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
