package parallel

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEach(t *testing.T) {
	tests := []struct {
		name       string
		n, workers int
		wantMax    int // goroutines at most
	}{
		{"none", 0, 4, 0},
		{"fewer jobs than workers", 3, 8, 3},
		{"more jobs than workers", 100, 4, 4},
		{"no workers asked", 5, 0, 1},
		{"negative workers", 5, -2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make([]int32, tt.n)
			var (
				mu   sync.Mutex
				seen = map[int]bool{}
			)
			Each(context.Background(), tt.n, tt.workers, func(w, i int) {
				atomic.AddInt32(&done[i], 1)
				mu.Lock()
				seen[w] = true
				mu.Unlock()
			})
			for i, c := range done {
				if c != 1 {
					t.Fatalf("index %d done %d times", i, c)
				}
			}
			if len(seen) > tt.wantMax {
				t.Fatalf("%d goroutines, want at most %d", len(seen), tt.wantMax)
			}
			for w := range seen {
				if w < 0 || w >= max(tt.wantMax, 1) {
					t.Fatalf("worker number %d out of range", w)
				}
			}
		})
	}
}

func TestEachPerWorkerState(t *testing.T) {
	const workers = 4
	var inUse [workers]atomic.Int32
	Each(context.Background(), 1000, workers, func(w, _ int) {
		if inUse[w].Add(1) != 1 {
			t.Errorf("two calls of worker %d overlap", w)
		}
		inUse[w].Add(-1)
	})
}

func TestEachStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	Each(ctx, 1_000_000, 2, func(_, i int) {
		if calls.Add(1) == 10 {
			cancel()
		}
	})
	if n := calls.Load(); n >= 1_000_000 || n < 10 {
		t.Fatalf("%d calls after a cancel at the 10th", n)
	}
	if ctx.Err() == nil {
		t.Fatal("ctx not canceled")
	}
}
