package audit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store/sqlite"
)

func newSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTail(t *testing.T) {
	s := newSQLite(t)
	fill(t, s, 20)
	tests := []struct {
		n         int
		wantFirst int64
		wantCount int
	}{
		{5, 16, 5},
		{1, 20, 1},
		{0, 0, 0},
		{20, 1, 20},
		{1000, 1, 20},
	}
	for _, tt := range tests {
		var seqs []int64
		err := audit.Tail(context.Background(), s, tt.n, false, func(e audit.Entry, rec audit.Record) error {
			if rec.ID != fmt.Sprintf("req-%d", e.Seq) {
				return fmt.Errorf("seq %d decoded as record %q", e.Seq, rec.ID)
			}
			seqs = append(seqs, e.Seq)
			return nil
		})
		if err != nil {
			t.Fatalf("Tail(%d): %v", tt.n, err)
		}
		if len(seqs) != tt.wantCount || (tt.wantCount > 0 && (seqs[0] != tt.wantFirst || seqs[len(seqs)-1] != 20)) {
			t.Errorf("Tail(%d) returned seqs %v, want %d from seq %d to 20", tt.n, seqs, tt.wantCount, tt.wantFirst)
		}
	}
	if err := audit.Tail(context.Background(), s, -1, false, nil); err == nil {
		t.Error("Tail(-1) succeeded")
	}
	stop := errors.New("stop")
	if err := audit.Tail(context.Background(), s, 3, false, func(audit.Entry, audit.Record) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Tail returned %v, want fn's error", err)
	}
}

func TestTailFollow(t *testing.T) {
	defer audit.SetTailPoll(10 * time.Millisecond)()
	s := newSQLite(t)
	fill(t, s, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan int64, 100)
	done := make(chan error, 1)
	go func() {
		done <- audit.Tail(ctx, s, 2, true, func(e audit.Entry, _ audit.Record) error {
			got <- e.Seq
			return nil
		})
	}()
	next := func() int64 {
		select {
		case seq := <-got:
			return seq
		case <-time.After(10 * time.Second):
			t.Fatal("Tail delivered nothing within 10s")
			return 0
		}
	}
	for _, want := range []int64{2, 3} {
		if seq := next(); seq != want {
			t.Fatalf("Tail delivered seq %d, want %d", seq, want)
		}
	}
	w := audit.NewWriter(s, audit.WriterOptions{})
	for i := 4; i <= 6; i++ {
		if err := w.Append(ctx, audit.Record{ID: fmt.Sprintf("req-%d", i), Kind: "request", Decision: "allow"}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close(ctx)
	for _, want := range []int64{4, 5, 6} {
		if seq := next(); seq != want {
			t.Fatalf("Tail delivered seq %d, want %d", seq, want)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Tail returned %v after cancel, want context.Canceled", err)
	}
	select {
	case seq := <-got:
		t.Fatalf("Tail delivered seq %d twice or out of order", seq)
	default:
	}
}

func TestTailBadPayload(t *testing.T) {
	r := chainOf(0)
	_, _ = r.AppendAudit(context.Background(), [][]byte{[]byte("not json")})
	err := audit.Tail(context.Background(), r, 1, false, func(audit.Entry, audit.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "seq 1") {
		t.Fatalf("Tail over a non-JSON payload: err = %v, want one naming seq 1", err)
	}
}

func TestCurrentHead(t *testing.T) {
	ctx := context.Background()
	h, err := audit.CurrentHead(ctx, chainOf(0))
	if err != nil || h.Seq != 0 || string(h.Hash) != string(audit.Genesis()) {
		t.Fatalf("CurrentHead(empty) = %v, %v", h, err)
	}
	for _, seqs := range [][]int64{
		{1},
		{1, 2, 3},
		{1, 2, 3, 10, 500},
		{7, 8, 1 << 40},
		{1, math.MaxInt64 - 1},
		{2, math.MaxInt64},
	} {
		r := &rows{}
		for _, seq := range seqs {
			r.insert(audit.Entry{Seq: seq, Hash: []byte(fmt.Sprint(seq))})
		}
		h, err := audit.CurrentHead(ctx, r)
		want := seqs[len(seqs)-1]
		if err != nil || h.Seq != want || string(h.Hash) != fmt.Sprint(want) {
			t.Errorf("CurrentHead over seqs %v = %v, %v; want seq %d", seqs, h, err, want)
		}
	}
	s := newSQLite(t)
	fill(t, s, 1100)
	h, err = audit.CurrentHead(ctx, s)
	if err != nil || h.Seq != 1100 {
		t.Fatalf("CurrentHead(sqlite, 1100 records) = %v, %v", h, err)
	}
	rep, err := audit.VerifyHead(ctx, s, h)
	if err != nil || !rep.OK() || rep.Head.Seq != h.Seq {
		t.Fatalf("VerifyHead(CurrentHead) = %v, %v", rep, err)
	}
}
