package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// tailPoll is how often Tail looks for new entries when following.
var tailPoll = 500 * time.Millisecond

// Tail calls fn for the last n entries of the chain (by sequence number) in
// order, each with its decoded record. With follow it then polls for new
// entries and calls fn for each until ctx is done, and returns ctx's error.
// An error from fn stops Tail and is returned as it is.
func Tail(ctx context.Context, s Store, n int, follow bool, fn func(Entry, Record) error) error {
	if n < 0 {
		return fmt.Errorf("audit tail: record count %d is negative", n)
	}
	head, err := lastSeq(ctx, s)
	if err != nil {
		return fmt.Errorf("audit tail: %w", err)
	}
	from := max(head-int64(n)+1, 1)
	last := from - 1
	emit := func(e Entry) error {
		rec, err := Decode(e.Payload)
		if err != nil {
			return fmt.Errorf("audit tail: seq %d: %w", e.Seq, err)
		}
		last = e.Seq
		return fn(e, rec)
	}
	if n > 0 {
		if err := s.ScanAudit(ctx, from, emit); err != nil {
			return err
		}
	} else {
		last = head
	}
	if !follow {
		return nil
	}
	t := time.NewTicker(tailPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if err := s.ScanAudit(ctx, last+1, emit); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}

// CurrentHead returns the chain's last entry as a Head (seq 0 and Genesis
// for an empty chain), for recording outside the database and checking
// later with VerifyHead. It does not verify the chain.
func CurrentHead(ctx context.Context, s Store) (Head, error) {
	seq, err := lastSeq(ctx, s)
	if err != nil {
		return Head{}, fmt.Errorf("audit head: %w", err)
	}
	if seq == 0 {
		return Head{Hash: Genesis()}, nil
	}
	var h Head
	err = s.ScanAudit(ctx, seq, func(e Entry) error {
		h = Head{Seq: e.Seq, Hash: e.Hash}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return Head{}, fmt.Errorf("audit head: %w", err)
	}
	return h, nil
}

// lastSeq finds the largest sequence number in s (0 when empty) with
// O(log n) probes of ScanAudit, each stopping at its first entry.
func lastSeq(ctx context.Context, s Store) (int64, error) {
	// first returns the smallest seq >= from, or 0 if there is none.
	first := func(from int64) (int64, error) {
		var got int64
		err := s.ScanAudit(ctx, from, func(e Entry) error {
			got = e.Seq
			return errStop
		})
		if err != nil && !errors.Is(err, errStop) {
			return 0, err
		}
		return got, nil
	}
	lo, err := first(1) // lo exists; hi (when > lo) has nothing at or after it
	if err != nil || lo == 0 {
		return 0, err
	}
	var hi int64
	for {
		if lo > math.MaxInt64/2 {
			hi = math.MaxInt64
		} else {
			hi = 2 * lo
		}
		got, err := first(hi)
		if err != nil {
			return 0, err
		}
		if got == 0 {
			break
		}
		lo = got
		if lo == math.MaxInt64 {
			return lo, nil
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		got, err := first(mid)
		if err != nil {
			return 0, err
		}
		if got == 0 {
			hi = mid
		} else {
			lo = got
		}
	}
	return lo, nil
}
