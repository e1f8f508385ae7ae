// Package parallel runs indexed work on a bounded number of goroutines.
package parallel

import (
	"context"
	"sync"
)

// Each calls f(w, i) for every i in [0, n), in increasing order of i, on
// min(workers, n) goroutines numbered w = 0, 1, ... (at least one when n
// is positive). The calls of one goroutine never overlap, so f may keep
// per-goroutine state indexed by w. Each stops handing out indexes once
// ctx is done, and returns when every call has returned; the caller checks
// ctx.Err() to learn whether every index was handed out.
func Each(ctx context.Context, n, workers int, f func(w, i int)) {
	if n <= 0 {
		return
	}
	workers = max(1, min(workers, n))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range next {
				f(w, i)
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
}
