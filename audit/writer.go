package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// DefaultMaxBatch is the largest number of records a Writer commits in one
// transaction unless WriterOptions says otherwise.
const DefaultMaxBatch = 512

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit writer closed")

// WriterOptions tune a Writer. The zero value is ready to use.
type WriterOptions struct {
	// MaxBatch bounds the records committed in one transaction, default
	// DefaultMaxBatch.
	MaxBatch int
	// Logger receives commit failures, default slog.Default().
	Logger *slog.Logger
}

// Writer appends records to a Store with group commit: one goroutine
// commits, and the records that arrive while a commit is in flight go into
// the next transaction together. A lone record is committed at once; under
// load each fsync is shared by up to MaxBatch records.
//
// A Writer is safe for concurrent use.
type Writer struct {
	store Store
	max   int
	log   *slog.Logger

	mu        sync.RWMutex // held (read) while sending on reqs, so Close never closes it under a sender
	closed    bool
	reqs      chan *request
	closeOnce sync.Once

	ctx    context.Context // for commits; cancelled when Close gives up
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
}

type request struct {
	ctx     context.Context
	payload []byte
	res     chan result // buffered: the committer never blocks on it
}

type result struct {
	entry Entry
	err   error
}

// NewWriter starts a Writer over s. Call Close to stop it.
func NewWriter(s Store, opts WriterOptions) *Writer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{
		store:  s,
		max:    opts.MaxBatch,
		log:    opts.Logger,
		reqs:   make(chan *request, opts.MaxBatch),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go w.run()
	return w
}

// Append encodes rec, waits until it is committed durably, and returns
// nil; a record for which Append returned nil survives a crash of the
// process.
//
// If ctx is done first, Append returns ctx's error and the record may or
// may not be in the log (it is dropped if its batch had not started). A
// caller that must log a request whose client went away should pass a
// context without its cancellation (context.WithoutCancel).
func (w *Writer) Append(ctx context.Context, rec Record) error {
	_, err := w.AppendEntry(ctx, rec)
	return err
}

// AppendEntry is Append that also returns the committed entry (its
// sequence number and hash).
func (w *Writer) AppendEntry(ctx context.Context, rec Record) (Entry, error) {
	payload, err := Encode(rec)
	if err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	req := &request{ctx: ctx, payload: payload, res: make(chan result, 1)}

	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return Entry{}, fmt.Errorf("audit append %q: %w", rec.ID, ErrClosed)
	}
	select {
	case w.reqs <- req:
	case <-ctx.Done():
		w.mu.RUnlock()
		return Entry{}, fmt.Errorf("audit append %q: %w", rec.ID, ctx.Err())
	}
	w.mu.RUnlock()

	select {
	case res := <-req.res:
		if res.err != nil {
			return Entry{}, fmt.Errorf("audit append %q: %w", rec.ID, res.err)
		}
		return res.entry, nil
	case <-ctx.Done():
		return Entry{}, fmt.Errorf("audit append %q (outcome unknown): %w", rec.ID, ctx.Err())
	}
}

// Close stops accepting records, commits those already accepted, and
// returns when they are durable. If ctx ends first, Close cancels the
// commit in flight, fails the remaining Appends, and returns ctx's error
// once the writer has stopped. Close may be called more than once.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() {
		// Taking the lock waits for Appends blocked on a full queue, which
		// may wait for a commit; do it aside so that ctx bounds Close.
		go func() {
			w.mu.Lock()
			w.closed = true
			close(w.reqs)
			w.mu.Unlock()
		}()
	})
	select {
	case <-w.done:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		<-w.done
		return fmt.Errorf("close audit writer: %w", ctx.Err())
	}
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]*request, 0, w.max)
	payloads := make([][]byte, 0, w.max)
	for first := range w.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.max {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch, payloads[:0])
		clear(batch)
		clear(payloads[:cap(payloads)])
	}
}

// commit writes one batch and answers every request in it.
func (w *Writer) commit(batch []*request, payloads [][]byte) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.res <- result{err: err}
			continue
		}
		live = append(live, r)
		payloads = append(payloads, r.payload)
	}
	if len(live) == 0 {
		return
	}
	entries, err := w.store.AppendAudit(w.ctx, payloads)
	if err == nil && len(entries) != len(live) {
		err = fmt.Errorf("store wrote %d entries for %d records", len(entries), len(live))
	}
	if err != nil {
		w.log.Error("audit commit failed", "records", len(live), "err", err)
		for _, r := range live {
			r.res <- result{err: err}
		}
		return
	}
	for i, r := range live {
		r.res <- result{entry: entries[i]}
	}
}
