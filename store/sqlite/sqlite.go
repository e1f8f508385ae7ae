// Package sqlite stores keys and the audit chain in a SQLite file (pure Go,
// modernc.org/sqlite): the embedded default of a single Rampart host.
//
// The file is opened in WAL mode with synchronous=FULL, so a committed
// transaction survives a crash of the process or of the machine. Several
// processes may open the same file at once (two gateway replicas and the
// `rampart keys` CLI): SQLite's file locks serialise their writes, a
// write transaction takes the write lock before it reads (BEGIN
// IMMEDIATE) so two appenders never fork the audit chain, and every read
// sees everything committed before it started, by any process.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rampartsec/rampart/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a statement waits for another connection or
// process to release the database before failing with "database is
// locked".
const BusyTimeout = 10 * time.Second

// maxConns bounds the connection pool: WAL allows many readers beside one
// writer, and writes are serialised by Store.write anyway.
const maxConns = 8

// Store is a SQLite-backed store. It implements store.Store.
type Store struct {
	db   *sql.DB
	path string
	// byPrefix and byID are prepared once: they run on every
	// authenticated request that misses the key cache.
	byPrefix, byID *sql.Stmt
	// write is a one-slot semaphore that serialises this process's write
	// transactions, so they queue in Go instead of spinning in SQLite's
	// busy handler; other processes are held off by SQLite's own lock.
	write chan struct{}
	// version answers KeyVersion.
	version keysVersion
}

// Open opens (creating if needed) the database file at path and applies
// pending schema migrations. A new file is created with mode 0600 and a new
// parent directory with mode 0700.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, "FULL")
}

// open is Open with a chosen synchronous pragma (the benchmarks compare
// FULL with NORMAL).
func open(ctx context.Context, path, synchronous string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	// Create the file ourselves so that it gets 0600; SQLite gives the
	// -wal and -shm files the database file's mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}

	q := url.Values{}
	q.Set("_txlock", "immediate") // every transaction takes the write lock first
	q.Set("_busy_timeout", strconv.FormatInt(BusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	// WAL is a property of the file, set once in init (not per
	// connection): see setWAL.
	q.Set("_synchronous", synchronous)
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	s := &Store{db: db, path: abs, write: make(chan struct{}, 1)}
	if err := s.version.open(abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	if err := s.init(ctx); err != nil {
		s.version.close()
		db.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	if err := s.setWAL(ctx); err != nil {
		return err
	}
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	for done := false; !done; {
		if done, err = s.migrateStep(ctx, ms); err != nil {
			return err
		}
	}
	if s.byPrefix, err = s.db.PrepareContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE prefix = ?`); err != nil {
		return err
	}
	if s.byID, err = s.db.PrepareContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = ?`); err != nil {
		return err
	}
	return nil
}

// setWAL puts the file in WAL mode, which then persists in the file, so
// later connections need not ask again. It used to be set on every new
// connection (the driver's _journal_mode DSN parameter), and with several
// processes opening a new file at the same moment that switch failed now
// and then with SQLITE_BUSY at once, without waiting on the busy handler
// (about one Open in 150 in TestMultiProcessAppend under -race). Now it is
// set once, here, and a busy switch is retried with backoff for up to
// BusyTimeout.
func (s *Store) setWAL(ctx context.Context) error {
	deadline := time.Now().Add(BusyTimeout)
	wait := time.Millisecond
	for {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil {
			if mode != "wal" {
				return fmt.Errorf("journal mode is %q, want wal (is the file on a network file system?)", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("set WAL journal mode: %w", err)
		}
		t := time.NewTimer(wait + time.Duration(rand.Int64N(int64(wait))))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// migrateStep applies the next pending migration, if any, in a
// transaction that holds the write lock from its start, so that processes
// opening a new file at the same time apply each migration once.
func (s *Store) migrateStep(ctx context.Context, ms []migrate.Migration) (done bool, err error) {
	if err := s.lockWrite(ctx); err != nil {
		return false, err
	}
	defer s.unlockWrite()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	switch {
	case cur > len(ms):
		return false, fmt.Errorf("migrate: database schema version %d is newer than this build of rampart knows (%d)", cur, len(ms))
	case cur == len(ms):
		return true, tx.Commit()
	}
	m := ms[cur]
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	return m.Version == len(ms), nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.version.close()
	for _, st := range []*sql.Stmt{s.byPrefix, s.byID} {
		if st != nil {
			st.Close()
		}
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close sqlite store: %w", err)
	}
	return nil
}

func (s *Store) lockWrite(ctx context.Context) error {
	select {
	case s.write <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockWrite() { <-s.write }

// isBusy reports whether err is SQLITE_BUSY or one of its extended codes.
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
