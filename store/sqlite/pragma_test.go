package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestConnectionSettings checks the settings every pooled connection gets,
// on several connections at once.
func TestConnectionSettings(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "10000",
	}
	for range 3 {
		conn, err := s.db.Conn(ctx) // a distinct connection each time while the others are held
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for pragma, w := range want {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, w)
			}
		}
	}
}

func TestAwkwardPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a dir?x=1#frag%20", "rampart db?.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AppendAudit(ctx, [][]byte{[]byte("{}")}); err != nil {
		t.Fatal(err)
	}
	var file string
	if err := s.db.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		t.Fatal(err)
	}
	if file != path {
		t.Fatalf("SQLite opened %q, want %q", file, path)
	}
}

// TestOpenWaitsForLockedNewFile: a new file locked by another connection
// (in the rollback-journal mode it starts in) is put in WAL mode once the
// lock is released, instead of failing the Open with "database is locked".
func TestOpenWaitsForLockedNewFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "locked.db")
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	const hold = 300 * time.Millisecond
	go func() {
		time.Sleep(hold)
		_, _ = conn.ExecContext(ctx, "COMMIT")
		conn.Close()
	}()
	start := time.Now()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open while another connection held the lock for %v: %v", hold, err)
	}
	defer s.Close()
	if waited := time.Since(start); waited < hold/2 {
		t.Errorf("Open returned after %v, before the lock was released (%v)", waited, hold)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}
