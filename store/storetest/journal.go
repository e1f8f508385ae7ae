package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store"
)

// journalTests check the audit.JournalStore methods, which every store
// implements.
var journalTests = []struct {
	name string
	fn   func(t *testing.T, s audit.JournalStore)
}{
	{"JournalAppend", testJournalAppend},
	{"JournalConflict", testJournalConflict},
	{"JournalInvalid", testJournalInvalid},
	{"JournalForget", testJournalForget},
	{"JournalConcurrentSameOffset", testJournalConcurrentSameOffset},
}

func journalStore(t *testing.T, s store.Store) audit.JournalStore {
	t.Helper()
	js, ok := s.(audit.JournalStore)
	if !ok {
		t.Fatalf("%T does not implement audit.JournalStore", s)
	}
	return js
}

func offset(t *testing.T, s audit.JournalStore, name string) int64 {
	t.Helper()
	off, err := s.JournalOffset(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return off
}

func testJournalAppend(t *testing.T, s audit.JournalStore) {
	ctx := context.Background()
	if off := offset(t, s, "a.journal"); off != 0 {
		t.Fatalf("JournalOffset of an unknown journal = %d, want 0", off)
	}
	// Plain appends and two journals interleave on one chain.
	if _, err := s.AppendAudit(ctx, [][]byte{payload(1)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AppendJournal(ctx, "a.journal", 0, 100, [][]byte{payload(2), payload(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 || !bytes.Equal(got[1].Payload, payload(3)) {
		t.Fatalf("AppendJournal returned %+v, want seq 2 and 3", got)
	}
	if _, err := s.AppendJournal(ctx, "b.journal", 0, 40, [][]byte{payload(4)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendJournal(ctx, "a.journal", 100, 150, [][]byte{payload(5)}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int64{"a.journal": 150, "b.journal": 40, "c.journal": 0} {
		if off := offset(t, s, name); off != want {
			t.Errorf("JournalOffset(%s) = %d, want %d", name, off, want)
		}
	}
	checkChain(t, s, 5)
	var payloads []string
	if err := s.ScanAudit(ctx, 1, func(e audit.Entry) error {
		payloads = append(payloads, string(e.Payload))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 1; i <= 5; i++ {
		want = append(want, string(payload(i)))
	}
	if d := cmp.Diff(want, payloads); d != "" {
		t.Fatalf("chain payloads (-want +got):\n%s", d)
	}
}

func testJournalConflict(t *testing.T, s audit.JournalStore) {
	ctx := context.Background()
	if _, err := s.AppendJournal(ctx, "j", 0, 64, [][]byte{payload(1)}); err != nil {
		t.Fatal(err)
	}
	for _, from := range []int64{0, 32, 65} {
		_, err := s.AppendJournal(ctx, "j", from, 128, [][]byte{payload(2)})
		if !errors.Is(err, audit.ErrJournalConflict) {
			t.Errorf("AppendJournal from %d when shipped to 64: err = %v, want ErrJournalConflict", from, err)
		}
	}
	if _, err := s.AppendJournal(ctx, "new", 16, 64, [][]byte{payload(2)}); !errors.Is(err, audit.ErrJournalConflict) {
		t.Errorf("AppendJournal from 16 on an unknown journal: err = %v, want ErrJournalConflict", err)
	}
	if off := offset(t, s, "j"); off != 64 {
		t.Fatalf("a rejected batch moved the offset to %d", off)
	}
	checkChain(t, s, 1) // the rejected batches wrote nothing
}

func testJournalInvalid(t *testing.T, s audit.JournalStore) {
	ctx := context.Background()
	p := [][]byte{payload(1)}
	tests := []struct {
		name     string
		journal  string
		from, to int64
		payloads [][]byte
	}{
		{"empty name", "", 0, 10, p},
		{"negative from", "j", -1, 10, p},
		{"empty range", "j", 10, 10, p},
		{"backwards range", "j", 10, 5, p},
		{"no payloads", "j", 0, 10, nil},
		{"empty payload", "j", 0, 10, [][]byte{{}}},
		{"more payloads than bytes", "j", 0, 1, [][]byte{payload(1), payload(2)}},
	}
	for _, tt := range tests {
		if _, err := s.AppendJournal(ctx, tt.journal, tt.from, tt.to, tt.payloads); err == nil {
			t.Errorf("AppendJournal with %s succeeded, want an error", tt.name)
		}
	}
	checkChain(t, s, 0)
}

func testJournalForget(t *testing.T, s audit.JournalStore) {
	ctx := context.Background()
	if err := s.ForgetJournal(ctx, "never-seen"); err != nil {
		t.Fatalf("ForgetJournal(unknown) = %v, want nil", err)
	}
	if _, err := s.AppendJournal(ctx, "j", 0, 64, [][]byte{payload(1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetJournal(ctx, "j"); err != nil {
		t.Fatal(err)
	}
	if off := offset(t, s, "j"); off != 0 {
		t.Fatalf("JournalOffset after ForgetJournal = %d, want 0", off)
	}
	checkChain(t, s, 1) // forgetting keeps the entries
}

// testJournalConcurrentSameOffset races many shippers of one batch (as a
// shipper and a recovering process, or a retry after a lost commit
// reply, would): exactly one may commit it.
func testJournalConcurrentSameOffset(t *testing.T, s audit.JournalStore) {
	raceSameOffset(t, []audit.JournalStore{s})
}

func raceSameOffset(t *testing.T, handles []audit.JournalStore) {
	ctx := context.Background()
	const workers, rounds = 8, 10
	wins := make([]int, rounds)
	for r := range rounds {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		errs := make(chan error, workers)
		for w := range workers {
			s := handles[w%len(handles)]
			wg.Go(func() {
				p := fmt.Appendf(nil, `{"round":%d,"worker":%d}`, r, w)
				_, err := s.AppendJournal(ctx, "raced", int64(r*100), int64(r*100+100), [][]byte{p})
				switch {
				case err == nil:
					mu.Lock()
					wins[r]++
					mu.Unlock()
				case !errors.Is(err, audit.ErrJournalConflict):
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if wins[r] != 1 {
			t.Fatalf("round %d: %d shippers committed the same batch, want exactly 1", r, wins[r])
		}
	}
	checkChain(t, handles[0], rounds)
	if off := offset(t, handles[0], "raced"); off != rounds*100 {
		t.Fatalf("offset after %d rounds = %d, want %d", rounds, off, rounds*100)
	}
}
