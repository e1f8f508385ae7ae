// Package store persists keys, the audit chain and the model registry in
// SQLite (the embedded default, pure Go) or PostgreSQL (for several gateway
// replicas). Both
// implement Store and pass the same test suite (package storetest); their
// schemas are embedded migrations applied on open.
package store

import (
	"context"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
)

// Store is everything the gateway and the CLI persist.
type Store interface {
	auth.KeyStore
	// JournalStore is audit.Store plus the bookkeeping of the gateway's
	// audit journal.
	audit.JournalStore
	// registry.Store keeps model versions, identities and their signed
	// actions (package artifact/registry).
	registry.Store
	// Ping checks that the database answers (used by /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
