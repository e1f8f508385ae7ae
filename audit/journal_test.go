package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store/postgres"
	"github.com/rampartsec/rampart/store/sqlite"
	"github.com/rampartsec/rampart/store/storetest"
)

// backends open a new, empty store of each kind.
var backends = []struct {
	name string
	open func(t *testing.T) audit.JournalStore
}{
	{"sqlite", func(t *testing.T) audit.JournalStore { return newSQLite(t) }},
	{"postgres", func(t *testing.T) audit.JournalStore { return newPostgres(t, storetest.NewPostgresDatabase(t)) }},
}

func newPostgres(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openSQLiteAt(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openJournal opens a journal that is closed (and must close cleanly)
// when the test ends, unless the test closed or abandoned it.
func openJournal(t *testing.T, dir string, s audit.JournalStore, opts audit.JournalOptions) *audit.Journal {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	j, err := audit.OpenJournal(context.Background(), dir, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(context.Background()) })
	return j
}

// never is a ship interval long enough that only Flush, MaxBatch and
// Close ship.
const never = time.Hour

// chainIDs verifies the chain and returns the record ids in it, in order.
func chainIDs(t *testing.T, s audit.Store) []string {
	t.Helper()
	rep, err := audit.Verify(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("chain does not verify: %v", rep)
	}
	var ids []string
	if err := s.ScanAudit(context.Background(), 1, func(e audit.Entry) error {
		rec, err := audit.Decode(e.Payload)
		if err != nil {
			return err
		}
		ids = append(ids, rec.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if int64(len(ids)) != rep.Records {
		t.Fatalf("scanned %d records, Verify counted %d", len(ids), rep.Records)
	}
	return ids
}

// checkOnce asserts that every id in want is in ids exactly once, and
// that ids holds nothing else.
func checkOnce(t *testing.T, ids []string, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for _, id := range want {
		switch seen[id] {
		case 0:
			t.Errorf("record %s is not in the chain", id)
		case 1:
		default:
			t.Errorf("record %s is in the chain %d times", id, seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		t.Errorf("unexpected record %s (%d times) in the chain", id, n)
	}
}

// checkPerWriterOrder asserts that the ids of each writer ("W-I") appear
// in increasing I.
func checkPerWriterOrder(t *testing.T, ids []string) {
	t.Helper()
	last := map[string]int{}
	for _, id := range ids {
		i := strings.LastIndexByte(id, '-')
		var n int
		if _, err := fmt.Sscan(id[i+1:], &n); err != nil {
			t.Fatalf("id %q", id)
		}
		if prev, ok := last[id[:i]]; ok && n <= prev {
			t.Fatalf("record %s follows %s-%d: append order not kept", id, id[:i], prev)
		}
		last[id[:i]] = n
	}
}

// journalFiles lists the *.journal files in dir.
func journalFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.journal"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func appendAll(t *testing.T, j *audit.Journal, ids []string) {
	t.Helper()
	for _, id := range ids {
		if err := j.Append(context.Background(), record(id)); err != nil {
			t.Fatal(err)
		}
	}
}

func seqIDs(prefix string, from, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, from+i)
	}
	return ids
}

func TestJournalOrderAndClose(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			dir := t.TempDir()
			j := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never, MaxBatch: 64})
			name := j.Name()
			ids := seqIDs("w", 0, 1000)
			appendAll(t, j, ids[:600])
			if err := j.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := chainIDs(t, s); !cmp.Equal(got, ids[:600]) {
				t.Fatalf("after Flush the chain holds %d records, want the 600 appended in order", len(got))
			}
			if off, err := s.JournalOffset(ctx, name); err != nil || off == 0 {
				t.Fatalf("JournalOffset(%s) = %d, %v; want the shipped offset", name, off, err)
			}
			appendAll(t, j, ids[600:])
			if err := j.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(ids, chainIDs(t, s)); d != "" {
				t.Fatalf("chain after Close (-want +got):\n%s", d)
			}
			if st := j.Stats(); st.Appended != 1000 || st.Shipped != 1000 || st.Files != 0 || st.ShipError != nil {
				t.Fatalf("Stats after Close = %+v", st)
			}
			if f := journalFiles(t, dir); len(f) != 0 {
				t.Fatalf("Close left journal files: %v", f)
			}
			if off, err := s.JournalOffset(ctx, name); err != nil || off != 0 {
				t.Fatalf("JournalOffset after Close = %d, %v; want it forgotten", off, err)
			}
			if err := j.Append(ctx, record("late")); !errors.Is(err, audit.ErrClosed) {
				t.Fatalf("Append after Close: err = %v, want ErrClosed", err)
			}
			if err := j.Close(ctx); err != nil {
				t.Fatalf("second Close = %v, want the first's nil", err)
			}
		})
	}
}

func TestJournalConcurrent(t *testing.T) {
	for _, b := range backends {
		for _, fsync := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fsync=%v", b.name, fsync), func(t *testing.T) {
				s := b.open(t)
				j := openJournal(t, t.TempDir(), s, audit.JournalOptions{Fsync: fsync, ShipInterval: 5 * time.Millisecond, MaxBatch: 50})
				const writers, each = 16, 100
				var wg sync.WaitGroup
				errs := make(chan error, writers)
				for w := range writers {
					wg.Go(func() {
						for i := range each {
							if err := j.Append(context.Background(), record(fmt.Sprintf("w%d-%d", w, i))); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if err := j.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				ids := chainIDs(t, s)
				var want []string
				for w := range writers {
					want = append(want, seqIDs(fmt.Sprintf("w%d", w), 0, each)...)
				}
				checkOnce(t, ids, want)
				checkPerWriterOrder(t, ids)
			})
		}
	}
}

// countRecords counts the chain's entries (without verifying, so that it
// can run while a journal ships).
func countRecords(t *testing.T, s audit.Store) int {
	t.Helper()
	n := 0
	if err := s.ScanAudit(context.Background(), 1, func(audit.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestJournalShipsInBackground(t *testing.T) {
	t.Run("interval", func(t *testing.T) {
		s := newSQLite(t)
		j := openJournal(t, t.TempDir(), s, audit.JournalOptions{ShipInterval: 10 * time.Millisecond})
		appendAll(t, j, seqIDs("r", 0, 5))
		waitFor(t, "the interval to ship 5 records", func() bool { return countRecords(t, s) == 5 })
	})
	t.Run("max batch", func(t *testing.T) {
		s := newSQLite(t)
		j := openJournal(t, t.TempDir(), s, audit.JournalOptions{ShipInterval: never, MaxBatch: 8})
		appendAll(t, j, seqIDs("r", 0, 7))
		time.Sleep(50 * time.Millisecond)
		if n := countRecords(t, s); n != 0 {
			t.Fatalf("%d records shipped before MaxBatch were waiting", n)
		}
		appendAll(t, j, seqIDs("r", 7, 1))
		waitFor(t, "MaxBatch records to ship", func() bool { return countRecords(t, s) == 8 })
	})
}

func TestJournalEncodingIsCanonical(t *testing.T) {
	s := newSQLite(t)
	j := openJournal(t, t.TempDir(), s, audit.JournalOptions{ShipInterval: never})
	recs := []audit.Record{
		benchRecord(),
		{ID: "html<&>", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -7200)), Kind: "admin", Action: "key.create", Target: "<script>", Decision: "allow"},
		{ID: "unicode", Prompt: "héllo \u2028 \U0001F600 \"quoted\" \\", Findings: []audit.Finding{{Detector: "pii", Excerpt: "a\x00b"}}},
		{},
	}
	for _, r := range recs {
		if err := j.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	i := 0
	if err := s.ScanAudit(context.Background(), 1, func(e audit.Entry) error {
		want, err := audit.Encode(recs[i])
		if err != nil {
			return err
		}
		if string(e.Payload) != string(want) {
			return fmt.Errorf("record %d: journal payload\n%s\ndiffers from Encode\n%s", i, e.Payload, want)
		}
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if i != len(recs) {
		t.Fatalf("%d records in the chain, want %d", i, len(recs))
	}
}

func TestJournalAppendErrors(t *testing.T) {
	s := newSQLite(t)
	j := openJournal(t, t.TempDir(), s, audit.JournalOptions{ShipInterval: never})
	bad := record("nan")
	bad.CostUSD = nan()
	if err := j.Append(context.Background(), bad); err == nil || !strings.Contains(err.Error(), `"nan"`) {
		t.Fatalf("Append of an unencodable record: err = %v, want an error naming it", err)
	}
	huge := record("huge")
	huge.Prompt = strings.Repeat("x", audit.MaxJournalRecord)
	if err := j.Append(context.Background(), huge); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Append of a record over the limit: err = %v", err)
	}
	// The journal is still usable, and holds nothing from the failures.
	appendAll(t, j, []string{"ok-1"})
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := chainIDs(t, s); !cmp.Equal(ids, []string{"ok-1"}) {
		t.Fatalf("chain = %v", ids)
	}
	if _, err := audit.OpenJournal(context.Background(), "", s, audit.JournalOptions{}); err == nil {
		t.Error("OpenJournal with no directory succeeded")
	}
	if _, err := audit.OpenJournal(context.Background(), t.TempDir(), nil, audit.JournalOptions{}); err == nil {
		t.Error("OpenJournal with no store succeeded")
	}
}

// TestJournalTornTail abandons a journal (as a kill -9 would), damages
// the end of its file as a write cut short would, and checks that the
// next OpenJournal ships every whole record once and drops the rest.
func TestJournalTornTail(t *testing.T) {
	frame := audit.JournalFrame([]byte(`{"id":"torn"}`))
	badCRC := append([]byte(nil), frame...)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name string
		tail []byte
	}{
		{"none", nil},
		{"partial length", frame[:3]},
		{"header only", frame[:8]},
		{"partial payload", frame[:len(frame)-2]},
		{"bad checksum", badCRC},
		{"zeros", make([]byte, 4096)},
		{"length past the end", []byte{0xff, 0xff, 0xff, 0x00, 1, 2, 3, 4, 'x'}},
		{"length over the limit", []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}},
		{"whole frame after a bad one", append(append([]byte(nil), badCRC...), frame...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newSQLite(t)
			dir := t.TempDir()
			j := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never})
			appendAll(t, j, seqIDs("r", 0, 3))
			if err := j.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			appendAll(t, j, seqIDs("r", 3, 2)) // acknowledged, not shipped
			path := filepath.Join(dir, j.Name())
			audit.AbandonJournal(j)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(tt.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()

			j2 := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never})
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("recovered journal still exists (stat: %v)", err)
			}
			if d := cmp.Diff(seqIDs("r", 0, 5), chainIDs(t, s)); d != "" {
				t.Fatalf("chain after recovery (-want +got):\n%s", d)
			}
			if off, err := s.JournalOffset(ctx, filepath.Base(path)); err != nil || off != 0 {
				t.Fatalf("offset of the recovered journal = %d, %v; want it forgotten", off, err)
			}
			if f := journalFiles(t, dir); len(f) != 1 || filepath.Base(f[0]) != j2.Name() {
				t.Fatalf("journal files after recovery: %v, want only the new journal %s", f, j2.Name())
			}
		})
	}
}

// TestJournalRecoverOddFiles covers journal files that a crash during
// creation, or a stranger, left in the directory.
func TestJournalRecoverOddFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		old     bool // modification time in the past
		wantErr string
		kept    bool
	}{
		{"empty", "a-1-x-00000001.journal", "", false, "", false},
		{"partial header", "a-1-x-00000001.journal", audit.JournalHeader[:5], false, "", false},
		{"header only", "a-1-x-00000001.journal", audit.JournalHeader, false, "", false},
		{"foreign file", "a-1-x-00000001.journal", "hello, world, this is not a journal", false, "not a rampart audit journal", true},
		{"newer version", "a-1-x-00000001.journal", audit.JournalHeader[:len(audit.JournalHeader)-1] + "\x09", false, "version 9", true},
		{"stale temporary file", "a-1-x-00000001.journal.0.tmp", audit.JournalHeader, true, "", false},
		{"fresh temporary file", "a-1-x-00000001.journal.0.tmp", audit.JournalHeader, false, "", true},
		{"unrelated file", "notes.txt", "keep me", true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.old {
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(path, old, old); err != nil {
					t.Fatal(err)
				}
			}
			s := newSQLite(t)
			j, err := audit.OpenJournal(context.Background(), dir, s, audit.JournalOptions{ShipInterval: never, Logger: quiet})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.file) {
					t.Fatalf("OpenJournal = %v, want an error naming %s and saying %q", err, tt.file, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				j.Close(context.Background())
			}
			_, serr := os.Stat(path)
			if kept := serr == nil; kept != tt.kept {
				t.Fatalf("file kept = %v, want %v", kept, tt.kept)
			}
			if n := len(chainIDs(t, s)); n != 0 {
				t.Fatalf("%d records shipped from a file without records", n)
			}
		})
	}
}

// TestJournalLiveNotStolen opens a second journal in the directory of a
// live one: it must leave the live journal's file and records alone.
func TestJournalLiveNotStolen(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			dir := t.TempDir()
			a := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never})
			appendAll(t, a, seqIDs("a", 0, 5))
			bj := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never})
			if n, err := audit.RecoverJournals(ctx, dir, s, audit.JournalOptions{Logger: quiet}); err != nil || n != 0 {
				t.Fatalf("RecoverJournals beside two live journals = %d, %v; want 0, nil", n, err)
			}
			if n := len(chainIDs(t, s)); n != 0 {
				t.Fatalf("the second journal shipped %d records of the live one", n)
			}
			if _, err := os.Stat(filepath.Join(dir, a.Name())); err != nil {
				t.Fatalf("the live journal's file is gone: %v", err)
			}
			appendAll(t, a, seqIDs("a", 5, 5))
			appendAll(t, bj, seqIDs("b", 0, 3))
			for _, j := range []*audit.Journal{a, bj} {
				if err := j.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			ids := chainIDs(t, s)
			checkOnce(t, ids, append(seqIDs("a", 0, 10), seqIDs("b", 0, 3)...))
			checkPerWriterOrder(t, ids)
		})
	}
}

// TestJournalTwoLive runs two journals in one directory shipping to two
// handles on one database (two replicas on one host): one chain, every
// record once, each journal's order kept.
func TestJournalTwoLive(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) (audit.JournalStore, audit.JournalStore)
	}{
		{"sqlite", func(t *testing.T) (audit.JournalStore, audit.JournalStore) {
			path := filepath.Join(t.TempDir(), "shared.db")
			return openSQLiteAt(t, path), openSQLiteAt(t, path)
		}},
		{"postgres", func(t *testing.T) (audit.JournalStore, audit.JournalStore) {
			dsn := storetest.NewPostgresDatabase(t)
			return newPostgres(t, dsn), newPostgres(t, dsn)
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			sa, sb := b.open(t)
			dir := t.TempDir()
			opts := audit.JournalOptions{ShipInterval: 2 * time.Millisecond, MaxBatch: 16, RotateBytes: 8 << 10}
			ja := openJournal(t, dir, sa, opts)
			jb := openJournal(t, dir, sb, opts)
			const writers, each = 4, 150
			var wg sync.WaitGroup
			errs := make(chan error, 2*writers)
			for _, j := range []*audit.Journal{ja, jb} {
				tag := "a"
				if j == jb {
					tag = "b"
				}
				for w := range writers {
					wg.Go(func() {
						for i := range each {
							if err := j.Append(context.Background(), record(fmt.Sprintf("%s%d-%d", tag, w, i))); err != nil {
								errs <- err
								return
							}
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for _, j := range []*audit.Journal{ja, jb} {
				if err := j.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			ids := chainIDs(t, sa)
			var want []string
			for _, tag := range []string{"a", "b"} {
				for w := range writers {
					want = append(want, seqIDs(fmt.Sprintf("%s%d", tag, w), 0, each)...)
				}
			}
			checkOnce(t, ids, want)
			checkPerWriterOrder(t, ids)
			if f := journalFiles(t, dir); len(f) != 0 {
				t.Fatalf("journal files left: %v", f)
			}
		})
	}
}

func TestJournalRotation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			dir := t.TempDir()
			j := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never, MaxBatch: 32, RotateBytes: 4 << 10})
			names := map[string]bool{j.Name(): true}
			ids := seqIDs("r", 0, 600)
			for i, id := range ids {
				if err := j.Append(ctx, record(id)); err != nil {
					t.Fatal(err)
				}
				if i%20 == 19 {
					if err := j.Flush(ctx); err != nil {
						t.Fatal(err)
					}
					names[j.Name()] = true
					if f := journalFiles(t, dir); len(f) != 1 || filepath.Base(f[0]) != j.Name() {
						t.Fatalf("after a flush the directory holds %v, want only the current file %s", f, j.Name())
					}
				}
			}
			if len(names) < 10 {
				t.Fatalf("the journal used %d files for ~%d KiB with RotateBytes 4 KiB", len(names), 600*110/1024)
			}
			if err := j.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(ids, chainIDs(t, s)); d != "" {
				t.Fatalf("chain (-want +got):\n%s", d)
			}
			for name := range names {
				if off, err := s.JournalOffset(ctx, name); err != nil || off != 0 {
					t.Errorf("offset of rotated journal %s = %d, %v; want it forgotten", name, off, err)
				}
			}
		})
	}
}

// flaky is a store whose AppendJournal can fail before or after it
// commits.
type flaky struct {
	audit.JournalStore
	down      atomic.Bool  // fail before committing
	lostEvery atomic.Int64 // commit, then report failure, every n-th call
	calls     atomic.Int64
}

func (f *flaky) AppendJournal(ctx context.Context, name string, from, to int64, payloads [][]byte) ([]audit.Entry, error) {
	if f.down.Load() {
		return nil, errors.New("store down (test)")
	}
	entries, err := f.JournalStore.AppendJournal(ctx, name, from, to, payloads)
	if n := f.lostEvery.Load(); err == nil && n > 0 && f.calls.Add(1)%n == 0 {
		return nil, errors.New("connection lost after commit (test)")
	}
	return entries, err
}

// TestJournalLostCommitReply makes the store commit batches but report
// failure: the journal must not ship them again.
func TestJournalLostCommitReply(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := &flaky{JournalStore: b.open(t)}
			s.lostEvery.Store(3)
			j := openJournal(t, t.TempDir(), s, audit.JournalOptions{ShipInterval: time.Millisecond, MaxBatch: 7})
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := range 100 {
						if err := j.Append(context.Background(), record(fmt.Sprintf("w%d-%d", w, i))); err != nil {
							t.Error(err)
							return
						}
						if i%10 == 0 {
							time.Sleep(time.Millisecond)
						}
					}
				})
			}
			wg.Wait()
			if err := j.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s.calls.Load() < 6 {
				t.Fatalf("only %d shipments: the lost replies were not exercised", s.calls.Load())
			}
			var want []string
			for w := range 4 {
				want = append(want, seqIDs(fmt.Sprintf("w%d", w), 0, 100)...)
			}
			ids := chainIDs(t, s)
			checkOnce(t, ids, want)
			checkPerWriterOrder(t, ids)
			if st := j.Stats(); st.Shipped != 400 {
				t.Fatalf("Stats().Shipped = %d, want 400", st.Shipped)
			}
		})
	}
}

// TestJournalStoreDown keeps appending while the store is unavailable.
func TestJournalStoreDown(t *testing.T) {
	ctx := context.Background()
	s := &flaky{JournalStore: newSQLite(t)}
	dir := t.TempDir()
	j := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: time.Millisecond})
	s.down.Store(true)
	appendAll(t, j, seqIDs("r", 0, 50))
	waitFor(t, "a shipping error in Stats", func() bool { return j.Stats().ShipError != nil })
	if err := j.Flush(ctx); err == nil {
		t.Fatal("Flush with the store down succeeded")
	}
	s.down.Store(false)
	appendAll(t, j, seqIDs("r", 50, 10))
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(seqIDs("r", 0, 60), chainIDs(t, s)); d != "" {
		t.Fatalf("chain (-want +got):\n%s", d)
	}

	// Close with the store down leaves the file for the next journal.
	appendAll(t, j, seqIDs("r", 60, 5))
	s.down.Store(true)
	err := j.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), j.Name()) {
		t.Fatalf("Close with the store down = %v, want an error naming the file left behind", err)
	}
	if f := journalFiles(t, dir); len(f) != 1 {
		t.Fatalf("journal files after a failed Close: %v", f)
	}
	s.down.Store(false)
	j2 := openJournal(t, dir, s, audit.JournalOptions{Logger: quiet})
	if err := j2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(seqIDs("r", 0, 65), chainIDs(t, s)); d != "" {
		t.Fatalf("chain after recovery (-want +got):\n%s", d)
	}
}

// TestRecoverJournalsConcurrent leaves the journals of four "dead"
// processes, one of them with two files (it died between rotating and
// deleting the old file), and recovers the directory from four goroutines
// with their own database handles at once.
func TestRecoverJournalsConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	s := openSQLiteAt(t, path)
	dir := t.TempDir()
	var (
		want []string
		js   []*audit.Journal
	)
	for p := range 3 {
		js = append(js, openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never, Logger: quiet}))
		ids := seqIDs(fmt.Sprintf("p%d", p), 0, 60)
		appendAll(t, js[p], ids[:30])
		if err := js[p].Flush(ctx); err != nil {
			t.Fatal(err)
		}
		appendAll(t, js[p], ids[30:])
		want = append(want, ids...)
	}
	for _, j := range js {
		audit.AbandonJournal(j)
	}
	// Two generations written by hand, nothing shipped.
	ids := seqIDs("rotated", 0, 40)
	want = append(want, ids...)
	for gen, part := range [][]string{ids[:25], ids[25:]} {
		b := []byte(audit.JournalHeader)
		for _, id := range part {
			p, err := audit.Encode(record(id))
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, audit.JournalFrame(p)...)
		}
		name := fmt.Sprintf("deadhost-1-0123456789ab-%08d.journal", gen+1)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(journalFiles(t, dir)); n != 5 {
		t.Fatalf("%d journal files left by the dead journals, want 5", n)
	}
	var (
		wg    sync.WaitGroup
		total atomic.Int64
	)
	for range 4 {
		h := openSQLiteAt(t, path)
		wg.Go(func() {
			n, err := audit.RecoverJournals(ctx, dir, h, audit.JournalOptions{MaxBatch: 5, Logger: quiet})
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	got := chainIDs(t, s)
	checkOnce(t, got, want)
	checkPerWriterOrder(t, got)
	if f := journalFiles(t, dir); len(f) != 0 {
		t.Fatalf("files left after recovery: %v", f)
	}
	if want := int64(3*30 + 40); total.Load() != want {
		t.Fatalf("recoveries reported %d records shipped, want %d", total.Load(), want)
	}
}

// TestJournalRecoversWhileRunning: a live journal ships the journal of a
// process that died after it started (RecoverInterval).
func TestJournalRecoversWhileRunning(t *testing.T) {
	s := newSQLite(t)
	dir := t.TempDir()
	live := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never, RecoverInterval: 10 * time.Millisecond})
	dead := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never, RecoverInterval: -1})
	appendAll(t, dead, seqIDs("dead", 0, 20))
	audit.AbandonJournal(dead)
	waitFor(t, "the live journal to recover the dead one", func() bool { return countRecords(t, s) == 20 })
	if err := live.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(seqIDs("dead", 0, 20), chainIDs(t, s)); d != "" {
		t.Fatalf("chain (-want +got):\n%s", d)
	}
}

func TestJournalCloseDeadline(t *testing.T) {
	s := &slowStore{JournalStore: newSQLite(t), delay: time.Hour}
	dir := t.TempDir()
	j := openJournal(t, dir, s, audit.JournalOptions{ShipInterval: never})
	appendAll(t, j, seqIDs("r", 0, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := j.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close past its deadline = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with a 50ms deadline", d)
	}
	s.delay = 0
	if n, err := audit.RecoverJournals(context.Background(), dir, s, audit.JournalOptions{Logger: quiet}); err != nil || n != 3 {
		t.Fatalf("RecoverJournals after a Close that gave up = %d, %v; want 3", n, err)
	}
}

// slowStore delays AppendJournal by delay (honouring ctx).
type slowStore struct {
	audit.JournalStore
	delay time.Duration
}

func (s *slowStore) AppendJournal(ctx context.Context, name string, from, to int64, payloads [][]byte) ([]audit.Entry, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.JournalStore.AppendJournal(ctx, name, from, to, payloads)
}
