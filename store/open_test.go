package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/store"
	"github.com/rampartsec/rampart/store/postgres"
	"github.com/rampartsec/rampart/store/sqlite"
	"github.com/rampartsec/rampart/store/storetest"
)

func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	custom := filepath.Join(t.TempDir(), "custom.db")
	tests := []struct {
		name string
		cfg  config.Store
		want string
	}{
		{"default driver", config.Store{}, filepath.Join(dataDir, "rampart.db")},
		{"explicit driver", config.Store{Driver: "sqlite"}, filepath.Join(dataDir, "rampart.db")},
		{"sqlite_path", config.Store{SQLitePath: custom}, custom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(ctx, tt.cfg, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sq, ok := s.(*sqlite.Store)
			if !ok {
				t.Fatalf("Open returned %T, want *sqlite.Store", s)
			}
			if sq.Path() != tt.want {
				t.Fatalf("opened %s, want %s", sq.Path(), tt.want)
			}
			if _, err := os.Stat(tt.want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	t.Setenv("RAMPART_TEST_UNSET_DSN", "")
	os.Unsetenv("RAMPART_TEST_UNSET_DSN")
	tests := []struct {
		name    string
		cfg     config.Store
		dataDir string
		want    string
	}{
		{"unknown driver", config.Store{Driver: "mysql"}, "x", `unknown store.driver "mysql"`},
		{"no data dir", config.Store{}, "", "sqlite needs store.sqlite_path or a data directory"},
		{"empty dsn", config.Store{Driver: "postgres"}, "", "store.postgres_dsn is empty"},
		{"unset reference", config.Store{Driver: "postgres", PostgresDSN: "env:RAMPART_TEST_UNSET_DSN"}, "", "RAMPART_TEST_UNSET_DSN is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(ctx, tt.cfg, tt.dataDir)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenPostgresReference(t *testing.T) {
	dsn := storetest.NewPostgresDatabase(t)
	t.Setenv("RAMPART_TEST_STORE_DSN", dsn)
	s, err := store.Open(context.Background(), config.Store{Driver: "postgres", PostgresDSN: "env:RAMPART_TEST_STORE_DSN"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Fatalf("Open returned %T, want *postgres.Store", s)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenPostgresHidesPassword(t *testing.T) {
	const pw = "Another-Secret-PW"
	path := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(path, []byte("postgres://rampart:"+pw+"@127.0.0.1:1/x?connect_timeout=2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"file:" + path, "postgres://rampart:" + pw + "@127.0.0.1:1/x?connect_timeout=2"} {
		_, err := store.Open(context.Background(), config.Store{Driver: "postgres", PostgresDSN: ref}, "")
		if err == nil {
			t.Fatal("Open succeeded against a closed port")
		}
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("error leaks the password: %v", err)
		}
	}
}
