// Package store persists keys and the audit chain in SQLite (the embedded
// default, pure Go) or PostgreSQL (for several gateway replicas). Both
// implement Store and pass the same test suite (package storetest); their
// schemas are embedded migrations applied on open.
package store

import (
	"context"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
)

// Store is everything the gateway and the CLI persist.
type Store interface {
	auth.KeyStore
	// JournalStore is audit.Store plus the bookkeeping of the gateway's
	// audit journal.
	audit.JournalStore
	// Ping checks that the database answers (used by /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
