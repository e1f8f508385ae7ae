package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampartsec/rampart/store/storetest"
)

// TestMigrateRegistryIdentities opens a database at schema 0003 holding
// an identity, a version and its actions: migration 0004 must keep them,
// mark the identity active, and let its key be rotated.
func TestMigrateRegistryIdentities(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_init.sql", "0002_audit_journals.sql", "0003_registry.sql"} {
		b, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, i+1, name); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	if _, err := raw.Exec(`INSERT INTO registry_identities VALUES ('alice', 'sha256:aa', 'ed25519', x'3001', 'cli', ?)`, created.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO model_versions VALUES ('m', '1', 'sha256:dd', '[]', '{"verified":true}', '{"source":"registry","findings":0}', '[]', 'staging', '', 'alice', 1, 1)`,
		`INSERT INTO model_actions (id, kind, name, version, actor, key_id, statement, signature, created_at) VALUES ('act_1', 'push', 'm', '1', 'alice', 'sha256:aa', x'7b7d', x'00', 1)`,
		`INSERT INTO model_actions (id, kind, name, version, actor, key_id, statement, signature, state, created_at) VALUES ('act_2', 'request', 'm', '1', 'alice', 'sha256:aa', x'7b7d', x'00', 'pending', 2)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	s := openAt(t, path)
	storetest.CheckMigratedRegistry(t, s, created)
}
