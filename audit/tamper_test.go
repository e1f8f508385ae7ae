package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store/postgres"
	"github.com/rampartsec/rampart/store/sqlite"
	"github.com/rampartsec/rampart/store/storetest"
)

// database is a real store plus a raw connection to tamper with its rows
// the way someone with database access would. Queries use $1, $2… in
// order of appearance, which both SQLite and PostgreSQL accept.
type database struct {
	store audit.Store
	exec  func(t *testing.T, query string, args ...any)
}

func openSQLite(t *testing.T) database {
	path := filepath.Join(t.TempDir(), "rampart.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return database{store: s, exec: func(t *testing.T, q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("tamper %q: %v", q, err)
		}
	}}
}

func openPostgres(t *testing.T) database {
	dsn := storetest.NewPostgresDatabase(t)
	s, err := postgres.Open(context.Background(), dsn, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return database{store: s, exec: func(t *testing.T, q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), q, args...); err != nil {
			t.Fatalf("tamper %q: %v", q, err)
		}
	}}
}

// fill appends n records through a Writer.
func fill(t *testing.T, s audit.Store, n int) {
	t.Helper()
	w := audit.NewWriter(s, audit.WriterOptions{})
	defer w.Close(context.Background())
	for i := 1; i <= n; i++ {
		rec := audit.Record{ID: fmt.Sprintf("req-%d", i), Time: time.Now(), Kind: "request", Decision: "allow", Status: 200}
		if err := w.Append(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
}

func entry(t *testing.T, s audit.Store, seq int64) audit.Entry {
	t.Helper()
	var got *audit.Entry
	err := s.ScanAudit(context.Background(), seq, func(e audit.Entry) error {
		got = &e
		return fmt.Errorf("stop")
	})
	if got == nil || got.Seq != seq {
		t.Fatalf("no entry at seq %d: %v", seq, err)
	}
	return *got
}

// big moves rows out of the way while renumbering (seq must stay > 0 and
// unique).
const big = 1_000_000

func shift(t *testing.T, db database, from, d int64) {
	db.exec(t, "UPDATE audit_log SET seq = seq + $1 WHERE seq >= $2", big, from)
	db.exec(t, "UPDATE audit_log SET seq = seq - $1 WHERE seq >= $2", big-d, big)
}

func swapSeq(t *testing.T, db database, a, b int64) {
	db.exec(t, "UPDATE audit_log SET seq = $1 WHERE seq = $2", big, a)
	db.exec(t, "UPDATE audit_log SET seq = $1 WHERE seq = $2", a, b)
	db.exec(t, "UPDATE audit_log SET seq = $1 WHERE seq = $2", b, big)
}

func TestTamperSQL(t *testing.T) {
	forged := []byte(`{"id":"forged","time":"2026-01-01T00:00:00Z","kind":"request","decision":"allow","status":200,"total_us":0}`)
	cases := []struct {
		name   string
		tamper func(t *testing.T, db database)
		want   *want // nil: Verify cannot tell (see the head checks)
		head   audit.Kind
	}{
		{"update payload", func(t *testing.T, db database) {
			db.exec(t, "UPDATE audit_log SET payload = $1 WHERE seq = 4", forged)
		}, &want{audit.KindEdited, 4, 0}, ""},
		{"update first payload", func(t *testing.T, db database) {
			db.exec(t, "UPDATE audit_log SET payload = $1 WHERE seq = 1", forged)
		}, &want{audit.KindEdited, 1, 0}, ""},
		{"update payload and recompute its hash", func(t *testing.T, db database) {
			e := entry(t, db.store, 4)
			f := audit.Link(e.PrevHash, 4, forged)
			db.exec(t, "UPDATE audit_log SET payload = $1, hash = $2 WHERE seq = 4", f.Payload, f.Hash)
		}, &want{audit.KindBrokenLink, 5, 0}, ""},
		{"delete row", func(t *testing.T, db database) {
			db.exec(t, "DELETE FROM audit_log WHERE seq = 5")
		}, &want{audit.KindDeleted, 5, 0}, ""},
		{"delete first row", func(t *testing.T, db database) {
			db.exec(t, "DELETE FROM audit_log WHERE seq = 1")
		}, &want{audit.KindDeleted, 1, 0}, ""},
		{"delete rows", func(t *testing.T, db database) {
			db.exec(t, "DELETE FROM audit_log WHERE seq BETWEEN 5 AND 7")
		}, &want{audit.KindDeleted, 5, 7}, ""},
		{"delete row and renumber", func(t *testing.T, db database) {
			db.exec(t, "DELETE FROM audit_log WHERE seq = 5")
			shift(t, db, 6, -1)
		}, &want{audit.KindDeleted, 5, 0}, ""},
		{"swap payloads", func(t *testing.T, db database) {
			a, b := entry(t, db.store, 3), entry(t, db.store, 7)
			db.exec(t, "UPDATE audit_log SET payload = $1 WHERE seq = 3", b.Payload)
			db.exec(t, "UPDATE audit_log SET payload = $1 WHERE seq = 7", a.Payload)
		}, &want{audit.KindReordered, 3, 7}, ""},
		{"swap rows", func(t *testing.T, db database) {
			swapSeq(t, db, 3, 7)
		}, &want{audit.KindReordered, 3, 7}, ""},
		{"swap adjacent rows", func(t *testing.T, db database) {
			swapSeq(t, db, 4, 5)
		}, &want{audit.KindReordered, 4, 5}, ""},
		{"insert forged row with a linking hash", func(t *testing.T, db database) {
			f := audit.Link(entry(t, db.store, 5).Hash, 6, forged)
			shift(t, db, 6, 1)
			db.exec(t, "INSERT INTO audit_log (seq, prev_hash, hash, payload) VALUES ($1, $2, $3, $4)", f.Seq, f.PrevHash, f.Hash, f.Payload)
		}, &want{audit.KindInserted, 6, 0}, ""},
		{"insert forged row with a made-up hash", func(t *testing.T, db database) {
			shift(t, db, 6, 1)
			db.exec(t, "INSERT INTO audit_log (seq, prev_hash, hash, payload) VALUES ($1, $2, $3, $4)",
				6, bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), forged)
		}, &want{audit.KindInserted, 6, 0}, ""},
		{"append forged row with a made-up hash", func(t *testing.T, db database) {
			db.exec(t, "INSERT INTO audit_log (seq, prev_hash, hash, payload) VALUES ($1, $2, $3, $4)",
				11, bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), forged)
		}, &want{audit.KindEdited, 11, 0}, ""},
		{"delete the tail", func(t *testing.T, db database) {
			db.exec(t, "DELETE FROM audit_log WHERE seq > 8")
		}, nil, audit.KindTruncated},
		{"rebuild the chain from seq 6", func(t *testing.T, db database) {
			prev := entry(t, db.store, 5).Hash
			for seq := int64(6); seq <= 10; seq++ {
				f := audit.Link(prev, seq, forged)
				db.exec(t, "UPDATE audit_log SET prev_hash = $1, hash = $2, payload = $3 WHERE seq = $4", f.PrevHash, f.Hash, f.Payload, seq)
				prev = f.Hash
			}
		}, nil, audit.KindRewritten},
	}
	backends := []struct {
		name string
		open func(t *testing.T) database
	}{
		{"sqlite", openSQLite},
		{"postgres", openPostgres},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
					db := b.open(t)
					fill(t, db.store, 10)
					head, err := audit.CurrentHead(context.Background(), db.store)
					if err != nil {
						t.Fatal(err)
					}
					if rep, err := audit.Verify(context.Background(), db.store); err != nil || !rep.OK() || rep.Records != 10 {
						t.Fatalf("before tampering: %v, %v", rep, err)
					}
					tc.tamper(t, db)
					rep := check(t, tc.name, db.store, tc.want)
					if tc.want != nil && !strings.Contains(rep.String(), fmt.Sprintf("seq %d", tc.want.seq)) {
						t.Errorf("report does not name seq %d: %v", tc.want.seq, rep)
					}
					// With the head recorded before tampering, every case is caught.
					rep, err = audit.VerifyHead(context.Background(), db.store, head)
					if err != nil {
						t.Fatal(err)
					}
					if rep.OK() {
						t.Fatalf("VerifyHead after %s = %v", tc.name, rep)
					}
					if tc.head != "" && rep.Problem.Kind != tc.head {
						t.Fatalf("VerifyHead after %s = %v, want %s", tc.name, rep, tc.head)
					}
					t.Log(rep)
				})
			}
		})
	}
}
