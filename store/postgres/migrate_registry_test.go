package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampartsec/rampart/store/storetest"
)

// TestMigrateRegistryIdentities opens a database at schema 0003 holding
// an identity, a version and its actions: migration 0004 must keep them,
// mark the identity active, and let its key be rotated.
func TestMigrateRegistryIdentities(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.NewPostgresDatabase(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_init.sql", "0002_audit_journals.sql", "0003_registry.sql"} {
		b, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, i+1, name); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	if _, err := conn.Exec(ctx, `INSERT INTO registry_identities VALUES ('alice', 'sha256:aa', 'ed25519', '\x3001', 'cli', $1)`, created); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO model_versions VALUES ('m', '1', 'sha256:dd', '[]', '{"verified":true}', '{"source":"registry","findings":0}', '[]', 'staging', '', 'alice', now(), now())`,
		`INSERT INTO model_actions (id, kind, name, version, actor, key_id, statement, signature, created_at) VALUES ('act_1', 'push', 'm', '1', 'alice', 'sha256:aa', '\x7b7d', '\x00', now())`,
		`INSERT INTO model_actions (id, kind, name, version, actor, key_id, statement, signature, state, created_at) VALUES ('act_2', 'request', 'm', '1', 'alice', 'sha256:aa', '\x7b7d', '\x00', 'pending', now())`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	s := openDSN(t, dsn)
	storetest.CheckMigratedRegistry(t, s, created)
}
