// Package postgres stores keys and the audit chain in PostgreSQL (pgx
// connection pool), for several gateway replicas sharing one database.
//
// Audit appends from every replica are serialised by a transaction-scoped
// advisory lock taken before the chain's head is read, so the chain never
// forks; schema migrations run under another advisory lock, so replicas
// starting together apply each migration once.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rampartsec/rampart/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock keys ("rampart" followed by a number). They are global to
// the PostgreSQL database, whatever the schema.
const (
	auditLockKey    int64 = 0x72616d7061727401
	migrateLockKey  int64 = 0x72616d7061727402
	registryLockKey int64 = 0x72616d7061727403
)

// Store is a PostgreSQL-backed store. It implements store.Store.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string), with at most maxConns connections (pgxpool's default
// when maxConns <= 0), and applies pending schema migrations. Errors never
// contain the DSN's password.
func Open(ctx context.Context, dsn string, maxConns int) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords only on a best-effort basis for strings it
		// cannot parse, so none of its message is repeated here.
		return nil, errors.New("open postgres store: the DSN is not a valid postgres:// URL or key=value connection string (not shown: it may contain a password)")
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(min(maxConns, 1<<30))
	}
	password := cfg.ConnConfig.Password
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, scrub(fmt.Errorf("open postgres store: %w", err), password)
	}
	s := &Store{pool: pool}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, scrub(fmt.Errorf("open postgres store: %w", err), password)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, scrub(fmt.Errorf("open postgres store: %w", err), password)
	}
	return s, nil
}

// scrubbedError is an error whose message had a secret removed; it still
// unwraps to the original so errors.Is and errors.As work.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrub replaces every occurrence of secret in err's message. pgx does not
// put passwords in its errors; this makes sure no server or network message
// does either.
func scrub(err error, secret string) error {
	if err == nil || len(secret) < 3 || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &scrubbedError{msg: strings.ReplaceAll(err.Error(), secret, "xxxxx"), err: err}
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	for {
		done, err := s.migrateStep(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next pending migration, if any, in a
// transaction holding the migration advisory lock.
func (s *Store) migrateStep(ctx context.Context, ms []migrate.Migration) (done bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
		return false, fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	switch {
	case cur > len(ms):
		return false, fmt.Errorf("migrate: database schema version %d is newer than this build of rampart knows (%d)", cur, len(ms))
	case cur == len(ms):
		return true, tx.Commit(ctx)
	}
	m := ms[cur]
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	return m.Version == len(ms), nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres store: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// isUnique reports whether err is a unique_violation.
func isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}
