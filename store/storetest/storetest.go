// Package storetest is the conformance suite every store.Store
// implementation passes: keys (create, look up, list, revoke), the audit
// chain (append, scan, concurrent appends), the audit journal offsets
// (audit.JournalStore: exactly-once batches) and the model registry
// (registry.Store: identities, versions, requests, promotions that never
// leave two production versions, rollbacks, audit in the same
// transaction). Driver tests call Run with a
// function that opens an empty store.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/store"
)

// Run runs the suite. open must return a new, empty store each call and
// arrange for it to be closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"KeyRoundTrip", testKeyRoundTrip},
		{"KeyCreatedAtDefault", testKeyCreatedAtDefault},
		{"KeyDuplicate", testKeyDuplicate},
		{"KeyInvalid", testKeyInvalid},
		{"KeyNotFound", testKeyNotFound},
		{"ListKeysNewestFirst", testListKeys},
		{"RevokeKey", testRevokeKey},
		{"AuditEmpty", testAuditEmpty},
		{"AuditAppendAndScan", testAuditAppendAndScan},
		{"AuditScanPages", testAuditScanPages},
		{"AuditConcurrent", testAuditConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
	for _, tt := range journalTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, journalStore(t, open(t)))
		})
	}
	for _, tt := range registryTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// RunShared checks two handles on one database, as two gateway replicas
// (or a replica and the CLI) have: each sees the other's writes on its
// next read, and their concurrent audit appends make one chain. open must
// return two stores opened separately on the same new, empty database.
func RunShared(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	t.Run("KeysVisibleAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		ctx := context.Background()
		if _, err := b.KeyByID(ctx, "key_shared"); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("KeyByID before create: err = %v, want ErrNotFound", err)
		}
		k := newKey("key_shared", "rk_shared0000", time.Now())
		if err := a.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		got, err := b.KeyByPrefix(ctx, k.Prefix)
		if err != nil {
			t.Fatalf("the second handle does not see a key the first created: %v", err)
		}
		if got.ID != k.ID {
			t.Fatalf("KeyByPrefix = %s, want %s", got.ID, k.ID)
		}
		at := time.Now().UTC().Truncate(time.Microsecond)
		if err := b.RevokeKey(ctx, k.ID, at); err != nil {
			t.Fatal(err)
		}
		got, err = a.KeyByID(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.RevokedAt.Equal(at) {
			t.Fatalf("the first handle sees RevokedAt %v, want %v", got.RevokedAt, at)
		}
	})
	t.Run("AuditConcurrentAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		const perHandle, workers = 60, 4
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers)
		for _, s := range []store.Store{a, b} {
			for w := range workers {
				wg.Go(func() {
					for i := range perHandle / workers {
						p := fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i)
						if _, err := s.AppendAudit(context.Background(), [][]byte{p, p}); err != nil {
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
		checkChain(t, a, 2*2*perHandle)
		checkChain(t, b, 2*2*perHandle)
	})
	t.Run("RegistryPromotionsAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		racePromotions(t, []store.Store{a, b})
	})
	t.Run("JournalSameOffsetAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		raceSameOffset(t, []audit.JournalStore{journalStore(t, a), journalStore(t, b)})
	})
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// newKey returns a key with every field set.
func newKey(id, prefix string, created time.Time) *auth.Key {
	h := sha256.Sum256([]byte(id + prefix))
	return &auth.Key{
		ID:        id,
		Name:      "name of " + id,
		Prefix:    prefix,
		Hash:      h[:],
		Group:     "team-a",
		Models:    []string{"gpt-4o", "llama3"},
		Routes:    []string{"/v1/chat/completions"},
		Limits:    config.LimitSet{RequestsPerMinute: 60, TokensPerMinute: 10000, Concurrent: 4, DailyBudgetUSD: 12.5, MaxTokens: 2048},
		CreatedAt: created,
	}
}

// stored is what a store gives back for k: times in UTC to the
// microsecond, empty lists as nil.
func stored(k *auth.Key) *auth.Key {
	c := *k
	norm := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC().Truncate(time.Microsecond)
	}
	c.CreatedAt, c.ExpiresAt, c.RevokedAt = norm(c.CreatedAt), norm(c.ExpiresAt), norm(c.RevokedAt)
	if len(c.Models) == 0 {
		c.Models = nil
	}
	if len(c.Routes) == 0 {
		c.Routes = nil
	}
	return &c
}

// keyDiff compares keys including Hash (which Key hides from JSON).
func keyDiff(want, got *auth.Key) string {
	return cmp.Diff(want, got)
}

func testKeyRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2026, 3, 1, 12, 30, 45, 123456789, zone)
	full := newKey("key_full", "rk_full000000", created)
	full.ExpiresAt = created.Add(90 * 24 * time.Hour)
	full.RevokedAt = created.Add(30 * 24 * time.Hour)
	full.RotatedFrom = "key_old"
	bare := &auth.Key{ID: "key_bare", Prefix: "rk_bare000000", Hash: full.Hash, CreatedAt: created, Models: []string{}}
	for _, k := range []*auth.Key{full, bare} {
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatalf("CreateKey(%s): %v", k.ID, err)
		}
		want := stored(k)
		byPrefix, err := s.KeyByPrefix(ctx, k.Prefix)
		if err != nil {
			t.Fatalf("KeyByPrefix(%s): %v", k.Prefix, err)
		}
		if d := keyDiff(want, byPrefix); d != "" {
			t.Errorf("KeyByPrefix(%s) mismatch (-want +got):\n%s", k.Prefix, d)
		}
		byID, err := s.KeyByID(ctx, k.ID)
		if err != nil {
			t.Fatalf("KeyByID(%s): %v", k.ID, err)
		}
		if d := keyDiff(want, byID); d != "" {
			t.Errorf("KeyByID(%s) mismatch (-want +got):\n%s", k.ID, d)
		}
		for name, tm := range map[string]time.Time{"CreatedAt": byID.CreatedAt, "ExpiresAt": byID.ExpiresAt, "RevokedAt": byID.RevokedAt} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("%s of %s is in %v, want UTC", name, k.ID, tm.Location())
			}
		}
	}
	if got, _ := s.KeyByID(ctx, "key_bare"); !got.ExpiresAt.IsZero() || !got.RevokedAt.IsZero() || !got.Active(time.Now()) {
		t.Errorf("a key without expiry or revocation came back with ExpiresAt %v, RevokedAt %v", got.ExpiresAt, got.RevokedAt)
	}
}

func testKeyCreatedAtDefault(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := newKey("key_now", "rk_now0000000", time.Time{})
	before := time.Now().Add(-time.Millisecond)
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Millisecond)
	if k.CreatedAt.Before(before) || k.CreatedAt.After(after) {
		t.Fatalf("CreatedAt was set to %v, want the current time", k.CreatedAt)
	}
	got, err := s.KeyByID(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(k.CreatedAt) {
		t.Fatalf("stored CreatedAt %v, want %v as set on the key", got.CreatedAt, k.CreatedAt)
	}
}

func testKeyDuplicate(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	if err := s.CreateKey(ctx, newKey("key_a", "rk_aaaaaaaaaa", now)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*auth.Key{
		newKey("key_b", "rk_aaaaaaaaaa", now), // same prefix
		newKey("key_a", "rk_bbbbbbbbbb", now), // same id
	} {
		err := s.CreateKey(ctx, k)
		if !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("CreateKey(%s, %s) error = %v, want ErrDuplicate", k.ID, k.Prefix, err)
		}
	}
	keys, err := s.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != "key_a" || keys[0].Prefix != "rk_aaaaaaaaaa" {
		t.Fatalf("after rejected duplicates the store holds %d keys (%v), want only key_a", len(keys), ids(keys))
	}
}

func testKeyInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	good := newKey("key_x", "rk_xxxxxxxxxx", time.Now())
	tests := []struct {
		name   string
		mutate func(k *auth.Key)
	}{
		{"empty id", func(k *auth.Key) { k.ID = "" }},
		{"empty prefix", func(k *auth.Key) { k.Prefix = "" }},
		{"short hash", func(k *auth.Key) { k.Hash = k.Hash[:16] }},
		{"no hash", func(k *auth.Key) { k.Hash = nil }},
	}
	for _, tt := range tests {
		k := *good
		tt.mutate(&k)
		if err := s.CreateKey(ctx, &k); err == nil {
			t.Errorf("CreateKey with %s succeeded, want an error", tt.name)
		}
	}
	if err := s.CreateKey(ctx, nil); err == nil {
		t.Error("CreateKey(nil) succeeded, want an error")
	}
	if keys, err := s.ListKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("ListKeys after invalid creates = %v, %v; want none", ids(keys), err)
	}
}

func testKeyNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.KeyByPrefix(ctx, "rk_nonexisten"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("KeyByPrefix(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.KeyByID(ctx, "key_nope"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("KeyByID(unknown) error = %v, want ErrNotFound", err)
	}
	if err := s.RevokeKey(ctx, "key_nope", time.Now()); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("RevokeKey(unknown) error = %v, want ErrNotFound", err)
	}
}

func testListKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	keys, err := s.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("ListKeys on an empty store = %v", ids(keys))
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"key_1", "key_3", "key_2"} {
		days := map[string]int{"key_1": 1, "key_2": 2, "key_3": 3}[id]
		k := newKey(id, fmt.Sprintf("rk_list%06d", i), base.AddDate(0, 0, days))
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	keys, err = s.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(keys), []string{"key_3", "key_2", "key_1"}; !cmp.Equal(got, want) {
		t.Fatalf("ListKeys order = %v, want newest first %v", got, want)
	}
	if keys[0].Limits.MaxTokens != 2048 || len(keys[0].Hash) != 32 {
		t.Fatalf("ListKeys returns incomplete keys: %+v", keys[0])
	}
}

func testRevokeKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range []string{"key_now", "key_later"} {
		if err := s.CreateKey(ctx, newKey(id, "rk_"+id[4:]+"_revoke", now.Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
	}

	// Revoked now: inactive at once.
	if err := s.RevokeKey(ctx, "key_now", now); err != nil {
		t.Fatal(err)
	}
	k, err := s.KeyByID(ctx, "key_now")
	if err != nil {
		t.Fatal(err)
	}
	if !k.RevokedAt.Equal(now) || k.Active(now) {
		t.Fatalf("after RevokeKey(now): RevokedAt %v, Active %v; want %v, false", k.RevokedAt, k.Active(now), now)
	}

	// Scheduled: active until then.
	later := now.Add(24 * time.Hour)
	if err := s.RevokeKey(ctx, "key_later", later); err != nil {
		t.Fatal(err)
	}
	k, err = s.KeyByID(ctx, "key_later")
	if err != nil {
		t.Fatal(err)
	}
	if !k.RevokedAt.Equal(later) || !k.Active(now) || k.Active(later) {
		t.Fatalf("after scheduling: RevokedAt %v, Active(now) %v, Active(later) %v", k.RevokedAt, k.Active(now), k.Active(later))
	}

	// A revocation is never postponed, but may be brought forward.
	if err := s.RevokeKey(ctx, "key_now", later); err != nil {
		t.Fatal(err)
	}
	if k, _ = s.KeyByID(ctx, "key_now"); !k.RevokedAt.Equal(now) {
		t.Fatalf("RevokeKey with a later time moved RevokedAt to %v; a revoked key must stay revoked from %v", k.RevokedAt, now)
	}
	sooner := now.Add(time.Hour)
	if err := s.RevokeKey(ctx, "key_later", sooner); err != nil {
		t.Fatal(err)
	}
	if k, _ = s.KeyByID(ctx, "key_later"); !k.RevokedAt.Equal(sooner) {
		t.Fatalf("RevokeKey with an earlier time left RevokedAt at %v, want %v", k.RevokedAt, sooner)
	}

	if err := s.RevokeKey(ctx, "key_now", time.Time{}); err == nil {
		t.Fatal("RevokeKey with the zero time succeeded, want an error")
	}
}

func testAuditEmpty(t *testing.T, s store.Store) {
	ctx := context.Background()
	n := 0
	if err := s.ScanAudit(ctx, 1, func(audit.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("empty chain scanned %d entries", n)
	}
	entries, err := s.AppendAudit(ctx, nil)
	if err != nil || len(entries) != 0 {
		t.Fatalf("AppendAudit(nil) = %d entries, %v; want none, nil", len(entries), err)
	}
	rep, err := audit.Verify(ctx, s)
	if err != nil || !rep.OK() || rep.Records != 0 {
		t.Fatalf("Verify(empty) = %v, %v", rep, err)
	}
}

func payload(i int) []byte { return fmt.Appendf(nil, `{"id":"req-%04d","n":%d}`, i, i) }

func testAuditAppendAndScan(t *testing.T, s store.Store) {
	ctx := context.Background()
	var all []audit.Entry
	prev := audit.Genesis()
	i := 0
	for _, size := range []int{1, 3, 0, 5} {
		var batch [][]byte
		for range size {
			i++
			batch = append(batch, payload(i))
		}
		got, err := s.AppendAudit(ctx, batch)
		if err != nil {
			t.Fatalf("AppendAudit(%d payloads): %v", size, err)
		}
		if len(got) != size {
			t.Fatalf("AppendAudit(%d payloads) returned %d entries", size, len(got))
		}
		for j, e := range got {
			want := audit.Link(prev, int64(len(all)+1), batch[j])
			if d := cmp.Diff(want, e); d != "" {
				t.Fatalf("entry %d is not linked onto the chain (-want +got):\n%s", len(all)+1, d)
			}
			prev = e.Hash
			all = append(all, e)
		}
	}

	scan := func(from int64) []audit.Entry {
		t.Helper()
		var got []audit.Entry
		if err := s.ScanAudit(ctx, from, func(e audit.Entry) error { got = append(got, e); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if d := cmp.Diff(all, scan(1)); d != "" {
		t.Fatalf("ScanAudit(1) differs from what was appended (-want +got):\n%s", d)
	}
	if d := cmp.Diff(all[3:], scan(4)); d != "" {
		t.Fatalf("ScanAudit(4) (-want +got):\n%s", d)
	}
	if got := scan(0); len(got) != len(all) {
		t.Fatalf("ScanAudit(0) returned %d entries, want all %d", len(got), len(all))
	}
	if got := scan(int64(len(all) + 1)); len(got) != 0 {
		t.Fatalf("ScanAudit past the head returned %d entries", len(got))
	}

	stop := errors.New("stop")
	n := 0
	err := s.ScanAudit(ctx, 1, func(audit.Entry) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("ScanAudit with fn failing: err %v after %d calls; want fn's error after 1", err, n)
	}

	rep, err := audit.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != int64(len(all)) || !bytes.Equal(rep.Head.Hash, all[len(all)-1].Hash) {
		t.Fatalf("Verify = %v", rep)
	}
}

func testAuditScanPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	const total = 1300
	for i := 0; i < total; i += 100 {
		batch := make([][]byte, 100)
		for j := range batch {
			batch[j] = payload(i + j + 1)
		}
		if _, err := s.AppendAudit(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	for _, from := range []int64{1, 9, 73, 600, total} {
		next := from
		if err := s.ScanAudit(ctx, from, func(e audit.Entry) error {
			if e.Seq != next || !bytes.Equal(e.Payload, payload(int(next))) {
				return fmt.Errorf("got seq %d (%s), want seq %d", e.Seq, e.Payload, next)
			}
			next++
			return nil
		}); err != nil {
			t.Fatalf("ScanAudit(%d): %v", from, err)
		}
		if next != total+1 {
			t.Fatalf("ScanAudit(%d) stopped before seq %d", from, next)
		}
	}
}

func testAuditConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const workers, rounds = 16, 15
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int64][]byte{} // seq -> payload, as AppendAudit reported
		errs = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				batch := make([][]byte, 1+(w+r)%3)
				for j := range batch {
					batch[j] = fmt.Appendf(nil, `{"w":%d,"r":%d,"j":%d}`, w, r, j)
				}
				entries, err := s.AppendAudit(ctx, batch)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, e := range entries {
					if _, dup := seen[e.Seq]; dup {
						errs <- fmt.Errorf("seq %d returned to two appenders", e.Seq)
					}
					seen[e.Seq] = e.Payload
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkChain(t, s, len(seen))
	if err := s.ScanAudit(ctx, 1, func(e audit.Entry) error {
		if !bytes.Equal(seen[e.Seq], e.Payload) {
			return fmt.Errorf("seq %d holds %s, but its appender was told %s", e.Seq, e.Payload, seen[e.Seq])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// checkChain asserts that s holds one unbroken chain of exactly n entries.
func checkChain(t *testing.T, s audit.Store, n int) {
	t.Helper()
	rep, err := audit.Verify(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("chain broken after concurrent appends: %v", rep)
	}
	if rep.Records != int64(n) || rep.Head.Seq != int64(n) {
		t.Fatalf("chain has %d records up to seq %d, want %d", rep.Records, rep.Head.Seq, n)
	}
}

func ids(keys []*auth.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return out
}
