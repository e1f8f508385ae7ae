package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Shipping backs off after failures, up to maxShipBackoff between tries,
// and logs a persisting failure at most every shipLogEvery.
const (
	maxShipBackoff = 5 * time.Second
	shipLogEvery   = 30 * time.Second
)

// shipLoop ships every ShipInterval, or when MaxBatch records wait.
func (j *Journal) shipLoop() {
	t := time.NewTicker(j.opts.ShipInterval)
	defer t.Stop()
	var (
		failures int
		retryAt  time.Time
		logged   time.Time
	)
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		case <-j.kick:
		}
		now := time.Now()
		if now.Before(retryAt) {
			continue
		}
		j.shipMu.Lock()
		err := j.shipAll(j.ctx, true)
		j.shipMu.Unlock()
		j.errMu.Lock()
		j.shipErr = err
		j.errMu.Unlock()
		if err != nil {
			failures++
			retryAt = now.Add(shipBackoff(j.opts.ShipInterval, failures))
			if failures == 1 || now.Sub(logged) >= shipLogEvery {
				logged = now
				j.log.Error("audit journal: shipping to the store failed; the records stay in the journal and shipping is retried",
					"failures", failures, "pending", j.appended.Load()-j.shipped.Load(), "err", err)
			}
			continue
		}
		if failures > 0 {
			j.log.Info("audit journal: shipping resumed", "after_failures", failures)
			failures, retryAt = 0, time.Time{}
		}
	}
}

// shipBackoff is the wait after the given number of failures in a row:
// the interval, doubled after each failure, at most maxShipBackoff.
func shipBackoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 1; i < failures && d < maxShipBackoff; i++ {
		d *= 2
	}
	return min(d, maxShipBackoff)
}

// recoverLoop ships the journals of processes that died while this one
// runs (another replica sharing the directory).
func (j *Journal) recoverLoop() {
	t := time.NewTicker(j.opts.RecoverInterval)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		}
		if _, err := recoverJournals(j.ctx, j.dir, j.store, j.opts, false); err != nil && j.ctx.Err() == nil {
			j.log.Error("audit journal: recovering the journals of dead processes failed", "dir", j.dir, "err", err)
		}
	}
}

// shipAll ships every record written so far and deletes the files that
// are done. With rotate, once the current file has reached RotateBytes it
// starts a new one (at most once per call, so that a call ends even when
// appenders outpace the store); the old file is deleted once shipped. The
// caller holds shipMu.
func (j *Journal) shipAll(ctx context.Context, rotate bool) error {
	j.retryForget(ctx)
	for {
		j.mu.Lock()
		if len(j.segs) == 0 {
			j.mu.Unlock()
			return nil
		}
		seg, current, closed := j.segs[0], j.segs[0] == j.cur, j.closed
		j.mu.Unlock()
		// The size is final for a file that is no longer current, and for
		// the current one covers every Append that returned before now.
		if err := j.shipSegment(ctx, seg, seg.size.Load()); err != nil {
			return err
		}
		switch {
		case !current:
			if err := j.retire(ctx, seg); err != nil {
				return err
			}
		case rotate && !closed && seg.size.Load() >= j.opts.RotateBytes:
			rotate = false
			if err := j.rotate(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// shipSegment ships seg's records up to end, in batches.
func (j *Journal) shipSegment(ctx context.Context, seg *segment, end int64) error {
	for {
		start := max(seg.shipped, headerSize)
		if start >= end {
			return nil
		}
		payloads, next, stop := j.reader.batch(seg.f, start, end, j.opts.MaxBatch)
		if len(payloads) == 0 {
			// This process wrote every byte up to end in whole frames.
			return fmt.Errorf("journal %s: %w", seg.name, stop)
		}
		_, err := j.store.AppendJournal(ctx, seg.name, seg.shipped, next, payloads)
		if errors.Is(err, ErrJournalConflict) {
			// An earlier attempt whose outcome was lost did commit.
			if err := j.adopt(ctx, seg, start); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("ship journal %s: %w", seg.name, err)
		}
		crashPoint("ship-committed")
		seg.shipped = next
		j.shipped.Add(int64(len(payloads)))
	}
}

// adopt takes the store's shipped offset for seg after a conflict, if it
// falls on a record boundary of the batch just read from start.
func (j *Journal) adopt(ctx context.Context, seg *segment, start int64) error {
	off, err := j.store.JournalOffset(ctx, seg.name)
	if err != nil {
		return fmt.Errorf("ship journal %s: %w", seg.name, err)
	}
	n, ok := j.reader.recordsBefore(start, off)
	if !ok || off <= seg.shipped {
		return fmt.Errorf("ship journal %s: the store has it shipped to offset %d, this process to %d, and no record ends there: %w",
			seg.name, off, seg.shipped, ErrJournalConflict)
	}
	j.log.Warn("audit journal: a shipment whose outcome was lost had committed; continuing after it",
		"file", seg.name, "offset", off, "records", n)
	seg.shipped = off
	j.shipped.Add(int64(n))
	return nil
}

// recordsBefore counts the records of the last batch (read from start)
// that end at or before off, and reports whether one ends exactly there.
func (r *frameReader) recordsBefore(start, off int64) (int, bool) {
	for i, s := range r.spans {
		if end := start + int64(s[1]); end == off {
			return i + 1, true
		} else if end > off {
			break
		}
	}
	return 0, false
}

// rotate starts the next file; the old one is finished and deleted by
// shipAll once its last records are shipped.
func (j *Journal) rotate() error {
	j.gen++
	seg, err := createSegment(j.dir, j.prefix, j.gen)
	if err != nil {
		return fmt.Errorf("rotate journal: %w", err)
	}
	crashPoint("rotate-created")
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		os.Remove(seg.path)
		seg.finish(nil)
		return nil
	}
	j.cur = seg
	j.segs = append(j.segs, seg)
	j.mu.Unlock()
	crashPoint("rotate-swapped")
	return nil
}

// retire deletes seg, whose records are all in the store, and forgets its
// offset. The order matters: once the file is gone (and the directory
// synced), a crash leaves at worst an offset nobody reads; forgetting
// first could let a surviving file be shipped twice.
func (j *Journal) retire(ctx context.Context, seg *segment) error {
	crashPoint("retire-unlink")
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete shipped journal: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		return fmt.Errorf("delete shipped journal %s: %w", seg.name, err)
	}
	crashPoint("retire-forget")
	if err := j.store.ForgetJournal(ctx, seg.name); err != nil {
		j.forget = append(j.forget, seg.name)
	}
	seg.finish(nil)
	j.mu.Lock()
	j.segs = j.segs[1:]
	j.mu.Unlock()
	return nil
}

// retryForget forgets the offsets whose ForgetJournal failed before. An
// offset left behind is harmless: no file will have its name again.
func (j *Journal) retryForget(ctx context.Context) {
	for len(j.forget) > 0 {
		if err := j.store.ForgetJournal(ctx, j.forget[0]); err != nil {
			return
		}
		j.forget = j.forget[1:]
	}
}
