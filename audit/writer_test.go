package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit"
)

// observed wraps a real store and records the size of every batch it is
// asked to commit, optionally taking extra time per commit so that
// batching is deterministic enough to assert on.
type observed struct {
	audit.Store
	delay time.Duration

	mu      sync.Mutex
	batches []int
}

func (o *observed) AppendAudit(ctx context.Context, payloads [][]byte) ([]audit.Entry, error) {
	o.mu.Lock()
	o.batches = append(o.batches, len(payloads))
	o.mu.Unlock()
	if o.delay > 0 {
		select {
		case <-time.After(o.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return o.Store.AppendAudit(ctx, payloads)
}

func (o *observed) sizes() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.batches...)
}

func record(id string) audit.Record {
	return audit.Record{ID: id, Time: time.Now(), Kind: "request", Decision: "allow", Status: 200}
}

func TestWriterConcurrent(t *testing.T) {
	s := newSQLite(t)
	w := audit.NewWriter(s, audit.WriterOptions{Logger: quiet})
	const workers, each = 32, 40
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		acks = map[int64]string{}
		errs = make(chan error, workers)
	)
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("g%d-%d", g, i)
				e, err := w.AppendEntry(context.Background(), record(id))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, dup := acks[e.Seq]; dup {
					errs <- fmt.Errorf("seq %d acknowledged for %s and %s", e.Seq, prev, id)
				}
				acks[e.Seq] = id
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), s)
	if err != nil || !rep.OK() || rep.Records != workers*each {
		t.Fatalf("Verify = %v, %v; want %d records", rep, err, workers*each)
	}
	if err := s.ScanAudit(context.Background(), 1, func(e audit.Entry) error {
		rec, err := audit.Decode(e.Payload)
		if err != nil {
			return err
		}
		if rec.ID != acks[e.Seq] {
			return fmt.Errorf("seq %d holds %q, but %q was acknowledged with it", e.Seq, rec.ID, acks[e.Seq])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestWriterBatching(t *testing.T) {
	o := &observed{Store: newSQLite(t), delay: 20 * time.Millisecond}
	w := audit.NewWriter(o, audit.WriterOptions{MaxBatch: 16})
	defer w.Close(context.Background())

	// A lone record is committed by itself, at once.
	start := time.Now()
	if err := w.Append(context.Background(), record("lone")); err != nil {
		t.Fatal(err)
	}
	if got := o.sizes(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("a lone record was committed in batches %v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a lone record took %v", d)
	}

	// 64 at once share commits, at most MaxBatch each.
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if err := w.Append(context.Background(), record(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sizes := o.sizes()[1:]
	total, biggest := 0, 0
	for _, n := range sizes {
		total += n
		biggest = max(biggest, n)
	}
	if total != 64 || biggest > 16 || len(sizes) > 16 {
		t.Fatalf("64 concurrent records were committed in batches %v; want at most 16 batches of at most 16", sizes)
	}
	t.Logf("batches: %v", sizes)
}

func TestWriterClose(t *testing.T) {
	s := newSQLite(t)
	o := &observed{Store: s, delay: 5 * time.Millisecond}
	w := audit.NewWriter(o, audit.WriterOptions{Logger: quiet})
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked = map[string]bool{}
	)
	for i := range 200 {
		wg.Go(func() {
			id := fmt.Sprint(i)
			err := w.Append(context.Background(), record(id))
			switch {
			case err == nil:
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			case !errors.Is(err, audit.ErrClosed):
				t.Errorf("Append during Close: %v", err)
			}
		})
	}
	time.Sleep(10 * time.Millisecond)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Append(context.Background(), record("late")); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	stored := map[string]bool{}
	if err := s.ScanAudit(context.Background(), 1, func(e audit.Entry) error {
		rec, err := audit.Decode(e.Payload)
		stored[rec.ID] = true
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !stored[id] {
			t.Errorf("record %s was acknowledged but is not in the store", id)
		}
	}
	if len(stored) != len(acked) {
		t.Errorf("%d records stored, %d acknowledged: Close must commit what it accepted and nothing else", len(stored), len(acked))
	}
	t.Logf("%d of 200 acknowledged before Close", len(acked))
}

// TestWriterCloseDeadline: with a commit stuck and the queue full (so
// Appends are blocked sending), Close still returns when its context ends,
// and every Append fails instead of hanging.
func TestWriterCloseDeadline(t *testing.T) {
	o := &observed{Store: newSQLite(t), delay: time.Hour}
	w := audit.NewWriter(o, audit.WriterOptions{MaxBatch: 2, Logger: quiet})
	const n = 10
	res := make(chan error, n)
	for i := range n {
		go func() { res <- w.Append(context.Background(), record(fmt.Sprint(i))) }()
	}
	for len(o.sizes()) == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue up and block
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a stuck commit = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with a 50ms deadline", d)
	}
	for range n {
		select {
		case err := <-res:
			if err == nil {
				t.Fatal("an Append reported success although nothing was committed")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("an Append is still blocked after Close returned")
		}
	}
}

func TestWriterContext(t *testing.T) {
	s := newSQLite(t)
	w := audit.NewWriter(s, audit.WriterOptions{Logger: quiet})
	defer w.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Append(ctx, record("cancelled")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context = %v", err)
	}
	if err := w.Append(context.Background(), record("ok")); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), s)
	if err != nil || rep.Records != 1 {
		t.Fatalf("the cancelled record was written: %v, %v", rep, err)
	}
}

func TestWriterErrors(t *testing.T) {
	s := newSQLite(t)
	w := audit.NewWriter(s, audit.WriterOptions{Logger: quiet})
	defer w.Close(context.Background())
	if err := w.Append(context.Background(), audit.Record{ID: "nan", CostUSD: nan()}); err == nil {
		t.Error("Append of an unencodable record succeeded")
	}
	s.Close()
	err := w.Append(context.Background(), record("after-close"))
	if err == nil {
		t.Fatal("Append over a closed store succeeded")
	}
	t.Log(err)
	// The writer keeps working for later records once the store recovers;
	// here it keeps answering (with errors) rather than hanging.
	if err := w.Append(context.Background(), record("again")); err == nil {
		t.Fatal("second Append over a closed store succeeded")
	}
}

// quiet discards the commit failures these tests cause on purpose.
var quiet = slog.New(slog.DiscardHandler)

func nan() float64 {
	zero := 0.0
	return zero / zero
}
