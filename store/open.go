package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/secretref"
	"github.com/rampartsec/rampart/store/internal/keyrules"
	"github.com/rampartsec/rampart/store/postgres"
	"github.com/rampartsec/rampart/store/sqlite"
)

// ErrDuplicate is returned (wrapped) by CreateKey when the key's id or
// prefix is already taken.
var ErrDuplicate = keyrules.ErrDuplicate

// DefaultMaxConns bounds the PostgreSQL pool when the configuration does
// not.
const DefaultMaxConns = 16

// DefaultSQLiteFile is the database file's name in the data directory.
const DefaultSQLiteFile = "rampart.db"

var (
	_ Store = (*sqlite.Store)(nil)
	_ Store = (*postgres.Store)(nil)
)

// Open opens the store cfg selects: SQLite (the default) at cfg.SQLitePath
// or <dataDir>/rampart.db, or PostgreSQL at cfg.PostgresDSN, which may be a
// secret reference (env:NAME, file:PATH, …). Errors never contain the DSN's
// password.
func Open(ctx context.Context, cfg config.Store, dataDir string) (Store, error) {
	switch cfg.Driver {
	case "", "sqlite":
		path := cfg.SQLitePath
		if path == "" {
			if dataDir == "" {
				return nil, errors.New("open store: sqlite needs store.sqlite_path or a data directory")
			}
			path = filepath.Join(dataDir, DefaultSQLiteFile)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "postgres":
		dsn := cfg.PostgresDSN
		if dsn == "" {
			return nil, errors.New("open store: store.postgres_dsn is empty")
		}
		if secretref.IsReference(dsn) {
			secret, err := secretref.Resolve(ctx, dsn)
			if err != nil {
				return nil, fmt.Errorf("open store: store.postgres_dsn: %w", err)
			}
			dsn = secret.Reveal()
		}
		maxConns := cfg.MaxConns
		if maxConns <= 0 {
			maxConns = DefaultMaxConns
		}
		s, err := postgres.Open(ctx, dsn, maxConns)
		if err != nil {
			return nil, err
		}
		return s, nil
	default:
		return nil, fmt.Errorf("open store: unknown store.driver %q (want sqlite or postgres)", cfg.Driver)
	}
}
