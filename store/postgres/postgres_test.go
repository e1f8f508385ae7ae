package postgres_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampartsec/rampart/store"
	"github.com/rampartsec/rampart/store/postgres"
	"github.com/rampartsec/rampart/store/storetest"
)

func openDSN(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openDSN(t, storetest.NewPostgresDatabase(t))
	})
}

func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := storetest.NewPostgresDatabase(t)
		return openDSN(t, dsn), openDSN(t, dsn)
	})
}

// TestConcurrentFirstOpen opens a new database from several pools at once:
// each migration must be applied once and no Open may fail.
func TestConcurrentFirstOpen(t *testing.T) {
	dsn := storetest.NewPostgresDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), dsn, 2)
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files found: %v", err)
	}
	var n, distinct int
	if err := conn.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(files) || distinct != n {
		t.Fatalf("schema_migrations has %d rows (%d versions), want %d (each migration applied once)", n, distinct, len(files))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := storetest.NewPostgresDatabase(t)
	openDSN(t, dsn).Close()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(context.Background(), dsn, 2)
	if err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("Open of a database from the future: err = %v", err)
	}
}

// TestErrorsHideThePassword checks that no Open error repeats the DSN's
// password, whether the DSN fails to parse or the server is unreachable.
func TestErrorsHideThePassword(t *testing.T) {
	const pw = "Sup3r-Secret-PW"
	dsns := []string{
		"postgres://rampart:" + pw + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", // nothing listens on port 1
		"postgres://rampart:" + pw + "@127.0.0.1:notaport/db",                            // bad port
		"postgres://rampart:" + pw + "@[::1/db",                                          // bad host
		"host=127.0.0.1 port=1 user=rampart password=" + pw + " connect_timeout=2",
		"host=127.0.0.1 port=x password='" + pw + "'",
		"postgres://rampart@127.0.0.1:1/db?password=" + url.QueryEscape(pw) + "&connect_timeout=2",
		"postgres://rampart:" + pw + "@127.0.0.1:1/db?sslmode=bogus",
		"postgres://" + pw + ":" + pw + "@127.0.0.1:1/db?connect_timeout=2", // the user name is repeated in errors
	}
	for _, dsn := range dsns {
		_, err := postgres.Open(context.Background(), dsn, 1)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", strings.ReplaceAll(dsn, pw, "…"))
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), url.QueryEscape(pw)) {
			t.Errorf("Open error leaks the password: %v", err)
		}
		t.Logf("%v", strings.ReplaceAll(err.Error(), pw, "<LEAK>"))
	}
}
