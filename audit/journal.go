package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Journal defaults.
const (
	// JournalDirName is the journal's directory inside the data directory.
	JournalDirName = "audit-journal"
	// DefaultShipInterval is how often a Journal ships to the store.
	DefaultShipInterval = 100 * time.Millisecond
	// DefaultRotateBytes is the size past which a journal starts a new
	// file.
	DefaultRotateBytes = 64 << 20
	// DefaultRecoverInterval is how often a Journal looks for journal
	// files left by processes that died.
	DefaultRecoverInterval = time.Minute
)

// JournalOptions tune a Journal. The zero value is ready to use.
type JournalOptions struct {
	// Fsync makes Append wait until the record is on the device (fsync,
	// shared by concurrent appenders), so that it survives a power loss
	// too; without it a record survives the death of the process (kill
	// -9, a panic, the OOM killer) but not of the machine.
	Fsync bool
	// ShipInterval is how often records are shipped to the store, default
	// DefaultShipInterval. MaxBatch waiting records ship at once.
	ShipInterval time.Duration
	// MaxBatch bounds the records shipped in one transaction, default
	// DefaultMaxBatch.
	MaxBatch int
	// RotateBytes is the size past which the journal starts a new file;
	// the old one is deleted once its records are shipped. Default
	// DefaultRotateBytes.
	RotateBytes int64
	// RecoverInterval is how often the Journal ships and deletes journal
	// files whose process died (another replica sharing the directory),
	// default DefaultRecoverInterval; negative turns it off (OpenJournal
	// still recovers once).
	RecoverInterval time.Duration
	// Logger receives shipping failures and recoveries, default
	// slog.Default().
	Logger *slog.Logger
}

func (o JournalOptions) withDefaults() JournalOptions {
	if o.ShipInterval <= 0 {
		o.ShipInterval = DefaultShipInterval
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.RotateBytes <= 0 {
		o.RotateBytes = DefaultRotateBytes
	}
	if o.RecoverInterval == 0 {
		o.RecoverInterval = DefaultRecoverInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Journal is an append-only local log in front of a JournalStore. Append
// writes the record to a file in one write(2) and returns: from then on
// the record survives the death of the process (and with Fsync, of the
// machine). A goroutine ships the records to the store's chain in batches,
// each in one transaction that also records how far the file is shipped,
// so that every record enters the chain exactly once and in append order,
// even across crashes. OpenJournal first ships the files that dead
// processes left behind.
//
// Each Journal writes its own file, named for the host, the process and a
// random id, and holds an exclusive flock on it: processes sharing the
// directory (replicas on one host) never take each other's files.
//
// A Journal is safe for concurrent use.
type Journal struct {
	dir    string
	store  JournalStore
	opts   JournalOptions
	log    *slog.Logger
	prefix string // of this Journal's file names

	mu     sync.Mutex // serialises writes; guards the fields below
	cur    *segment   // the file Append writes to
	segs   []*segment // files not yet deleted, oldest first; cur is last
	closed bool
	broken error // set when the journal can no longer accept records

	appended atomic.Int64 // records written by Append
	shipped  atomic.Int64 // of those, records in the store
	kick     chan struct{}

	shipMu sync.Mutex // held while shipping; guards the fields below and segment.shipped
	reader frameReader
	gen    int
	forget []string // names whose ForgetJournal failed, retried

	errMu   sync.Mutex
	shipErr error

	ctx       context.Context // of background shipping; cancelled by Close
	cancel    context.CancelFunc
	stop      chan struct{}
	done      sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// segment is one journal file.
type segment struct {
	name string // base name, the key of its offset in the store
	path string
	f    *os.File // opened O_APPEND, flocked

	size    atomic.Int64 // end of the last record written
	shipped int64        // offset the store has (Journal.shipMu)

	smu     sync.Mutex    // guards the group fsync state below
	synced  int64         // bytes known to be on the device
	syncing chan struct{} // non-nil while an fsync runs; closed after
	syncErr error
	retired bool // every record is in the store; the file is closed
}

// crashHook is nil except in the crash tests, which set it before any
// Journal starts, to kill the process at a named step.
var crashHook func(step string)

func crashPoint(step string) {
	if crashHook != nil {
		crashHook(step)
	}
}

// OpenJournal opens a journal in dir (created with mode 0700 if needed)
// that ships to s. It first ships the records of journal files whose
// owners died, and deletes those files; files of live processes are left
// alone. Close the Journal to ship what remains and delete its file.
func OpenJournal(ctx context.Context, dir string, s JournalStore, opts JournalOptions) (*Journal, error) {
	if dir == "" {
		return nil, errors.New("open audit journal: empty directory")
	}
	if s == nil {
		return nil, errors.New("open audit journal: nil store")
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open audit journal: %w", err)
	}
	if _, err := recoverJournals(ctx, dir, s, opts, true); err != nil {
		return nil, fmt.Errorf("open audit journal: %w", err)
	}
	prefix, err := journalPrefix()
	if err != nil {
		return nil, fmt.Errorf("open audit journal: %w", err)
	}
	seg, err := createSegment(dir, prefix, 1)
	if err != nil {
		return nil, fmt.Errorf("open audit journal: %w", err)
	}
	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	j := &Journal{
		dir:    dir,
		store:  s,
		opts:   opts,
		log:    opts.Logger,
		prefix: prefix,
		cur:    seg,
		segs:   []*segment{seg},
		kick:   make(chan struct{}, 1),
		gen:    1,
		ctx:    jctx,
		cancel: cancel,
		stop:   make(chan struct{}),
	}
	j.done.Go(j.shipLoop)
	if opts.RecoverInterval > 0 {
		j.done.Go(j.recoverLoop)
	}
	return j, nil
}

// journalPrefix returns "<host>-<pid>-<random>", unique to this Journal.
func journalPrefix() (string, error) {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, host)
	if len(host) > 40 {
		host = host[:40]
	}
	if host == "" {
		host = "host"
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:]), nil
}

// errCreateRaced: a recovering process took the half-made file.
var errCreateRaced = errors.New("journal file taken while being created")

// createSegment creates the journal file of generation gen: under a
// temporary name it is locked, given its header and synced, then renamed,
// so that a file with a journal name is always locked by a live owner or
// left by a dead one, never half made.
func createSegment(dir, prefix string, gen int) (*segment, error) {
	name := fmt.Sprintf("%s-%08d%s", prefix, gen, journalExt)
	path := filepath.Join(dir, name)
	var err error
	for attempt := range 3 {
		tmp := path + "." + strconv.Itoa(attempt) + tmpExt
		var f *os.File
		f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create journal file: %w", err)
		}
		if err = initSegment(f, tmp, path); err == nil {
			seg := &segment{name: name, path: path, f: f}
			seg.size.Store(headerSize)
			seg.synced = headerSize
			return seg, nil
		}
		f.Close()
		os.Remove(tmp)
		if !errors.Is(err, errCreateRaced) {
			return nil, fmt.Errorf("create journal file %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("create journal file %s: %w", name, err)
}

func initSegment(f *os.File, tmp, path string) error {
	ok, err := tryLock(f)
	if err != nil {
		return err
	}
	if !ok {
		return errCreateRaced
	}
	if _, err := f.WriteString(journalMagic); err != nil {
		return err
	}
	if err := syncData(f); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errCreateRaced
		}
		return err
	}
	return syncDir(filepath.Dir(path))
}

// Name returns the base name of the file Append writes to.
func (j *Journal) Name() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cur.name
}

// Append encodes rec and writes it to the journal file with one write(2).
// When it returns nil the record will enter the store's chain even if the
// process dies now; with Fsync it has also reached the device. Records
// enter the chain in the order their Appends returned.
//
// ctx bounds only the wait for the fsync; if it ends first, Append
// returns its error and the record is in the journal but maybe not on the
// device.
func (j *Journal) Append(ctx context.Context, rec Record) error {
	e := encoders.Get().(*frameEncoder)
	frame, err := e.encodeFrame(&rec)
	if err != nil {
		e.release()
		return fmt.Errorf("audit journal append: %w", err)
	}
	seg, end, err := j.write(frame)
	e.release()
	if err != nil {
		return fmt.Errorf("audit journal append %q: %w", rec.ID, err)
	}
	if j.appended.Add(1)-j.shipped.Load() >= int64(j.opts.MaxBatch) {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	if j.opts.Fsync {
		if err := j.waitSync(ctx, seg, end); err != nil {
			return fmt.Errorf("audit journal append %q: %w", rec.ID, err)
		}
	}
	return nil
}

// write appends frame to the current file and returns the file and the
// offset after the frame.
func (j *Journal) write(frame []byte) (*segment, int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, 0, ErrClosed
	}
	if j.broken != nil {
		return nil, 0, j.broken
	}
	seg := j.cur
	start := seg.size.Load()
	n, err := seg.f.Write(frame)
	if err != nil {
		// A partial frame would end the file for every later reader:
		// cut it off, or stop taking records.
		if n > 0 {
			if terr := seg.f.Truncate(start); terr != nil {
				j.broken = fmt.Errorf("journal %s holds a partial record that could not be removed (%v): not accepting records", seg.name, terr)
			}
		}
		return nil, 0, fmt.Errorf("write journal %s: %w", seg.name, err)
	}
	end := start + int64(n)
	seg.size.Store(end)
	return seg, end, nil
}

// waitSync returns once seg is on the device up to end. One caller at a
// time runs fdatasync, for everything written so far; the others wait for
// it and, if it did not cover them, run the next.
func (j *Journal) waitSync(ctx context.Context, seg *segment, end int64) error {
	for {
		seg.smu.Lock()
		switch {
		case seg.synced >= end || seg.retired:
			seg.smu.Unlock()
			return nil
		case seg.syncErr != nil:
			err := seg.syncErr
			seg.smu.Unlock()
			return err
		case seg.syncing != nil:
			ch := seg.syncing
			seg.smu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return fmt.Errorf("wait for journal fsync: %w", ctx.Err())
			}
		}
		ch := make(chan struct{})
		seg.syncing = ch
		target := seg.size.Load()
		seg.smu.Unlock()

		err := syncData(seg.f)

		seg.smu.Lock()
		if err != nil {
			// After a failed fsync the kernel may have dropped the dirty
			// pages: nothing later can be promised durable.
			seg.syncErr = fmt.Errorf("sync journal %s: %w", seg.name, err)
		} else {
			seg.synced = max(seg.synced, target)
		}
		seg.syncing = nil
		close(ch)
		seg.smu.Unlock()
		if err != nil {
			j.mu.Lock()
			if j.broken == nil {
				j.broken = fmt.Errorf("journal %s: fsync failed, not accepting records: %w", seg.name, err)
			}
			j.mu.Unlock()
		}
	}
}

// finish ends seg's life once its records are durable (in the store, or
// synced when Close gives up): appenders waiting for an fsync are released
// with nil, or with err when it is not nil. It closes the file, which
// releases the lock.
func (seg *segment) finish(err error) {
	seg.smu.Lock()
	if err != nil {
		seg.syncErr = err
	} else {
		seg.retired = true
	}
	ch := seg.syncing
	seg.smu.Unlock()
	if ch != nil {
		<-ch
	}
	seg.f.Close()
}

// Flush ships every record appended before it was called, and returns
// when they are in the store.
func (j *Journal) Flush(ctx context.Context) error {
	j.shipMu.Lock()
	defer j.shipMu.Unlock()
	if err := j.shipAll(ctx, true); err != nil {
		return fmt.Errorf("flush audit journal: %w", err)
	}
	return nil
}

// JournalStats describe a Journal's progress.
type JournalStats struct {
	// Appended counts the records Append wrote since OpenJournal.
	Appended int64
	// Shipped counts those of them in the store.
	Shipped int64
	// Files counts this Journal's files (more than one while a rotated
	// file is being finished).
	Files int
	// ShipError is the last shipping error, nil after a success.
	ShipError error
}

// Stats returns the Journal's counters.
func (j *Journal) Stats() JournalStats {
	j.mu.Lock()
	files := len(j.segs)
	j.mu.Unlock()
	j.errMu.Lock()
	err := j.shipErr
	j.errMu.Unlock()
	return JournalStats{Appended: j.appended.Load(), Shipped: j.shipped.Load(), Files: files, ShipError: err}
}

// Close gives up after closeTries attempts in a row that ship nothing,
// waiting closeRetry, then twice as long, and so on, between them.
const (
	closeTries = 4
	closeRetry = 50 * time.Millisecond
)

// finishAll ships every record and deletes every file.
func (j *Journal) finishAll(ctx context.Context) error {
	if err := j.shipAll(ctx, false); err != nil {
		return err
	}
	for len(j.segs) > 0 {
		if err := j.retire(ctx, j.segs[0]); err != nil {
			return err
		}
	}
	j.retryForget(ctx)
	return nil
}

// Close stops accepting records, ships the remaining ones, and deletes
// the journal's files. If shipping fails or ctx ends first, the files are
// synced and left for the next OpenJournal (or RecoverJournals) in the
// directory, and Close returns the error. A failing store is retried a
// few times (within ctx) before Close gives up. Close may be called more than
// once; later calls return the first one's result.
func (j *Journal) Close(ctx context.Context) error {
	j.closeOnce.Do(func() { j.closeErr = j.close(ctx) })
	return j.closeErr
}

func (j *Journal) close(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	stopped := make(chan struct{})
	go func() {
		j.done.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		j.cancel() // abort the shipment in flight
		<-stopped
	}
	defer j.cancel()

	j.shipMu.Lock()
	defer j.shipMu.Unlock()
	// A failure may be passing (a lost connection, a lost commit reply):
	// retry while attempts make progress, and a few times more, before
	// leaving the records to the next journal.
	var err error
	for fails := 0; ; {
		before := j.shipped.Load()
		if err = j.finishAll(ctx); err == nil {
			return nil
		}
		if j.shipped.Load() > before {
			fails = 0
		} else if fails++; fails >= closeTries {
			break
		}
		select {
		case <-time.After(closeRetry << (max(fails, 1) - 1)):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	j.mu.Lock()
	segs := j.segs
	j.segs = nil
	j.mu.Unlock()
	var names []string
	for _, seg := range segs {
		// Synced, the records are as safe as in the store: waiting
		// appenders are released as durable.
		serr := syncData(seg.f)
		if serr != nil {
			j.log.Error("audit journal: fsync on close failed", "file", seg.name, "err", serr)
		}
		seg.finish(serr)
		names = append(names, seg.name)
	}
	return fmt.Errorf("close audit journal: %w (unshipped records stay in %s in %s and are shipped when a journal is next opened there)",
		err, strings.Join(names, ", "), j.dir)
}
