package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleTmpAge is how old a temporary journal file must be before recovery
// deletes it: younger ones may be in the middle of creation.
const staleTmpAge = 10 * time.Second

// recoverPoll is how often recovery retries the directory's recovery lock
// while another process holds it.
const recoverPoll = 20 * time.Millisecond

// RecoverJournals ships the records of every journal file in dir whose
// owner died (its flock is free), in file order, from the offset the
// store has for it, and deletes the file. A torn record at a file's end
// (its process died inside the write, so it was never acknowledged) is
// dropped. Journals of live processes are left alone. It returns the
// number of records shipped. OpenJournal calls it, and so may a command
// that reads the chain (`rampart audit verify`), so that the chain holds
// the records of gateways that died.
//
// Of opts, MaxBatch and Logger are used.
func RecoverJournals(ctx context.Context, dir string, s JournalStore, opts JournalOptions) (int, error) {
	n, err := recoverJournals(ctx, dir, s, opts.withDefaults(), true)
	if err != nil {
		return n, fmt.Errorf("recover audit journals: %w", err)
	}
	return n, nil
}

// recoverJournals is RecoverJournals; without wait it returns at once if
// another process is recovering the directory.
func recoverJournals(ctx context.Context, dir string, s JournalStore, opts JournalOptions, wait bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !hasJournals(entries) {
		return 0, nil
	}
	// One recovering process at a time, so that the files of one dead
	// process are shipped in order even when several processes start
	// together.
	lock, err := lockRecovery(ctx, dir, wait)
	if lock == nil || err != nil {
		return 0, err
	}
	defer lock.Close()
	if entries, err = os.ReadDir(dir); err != nil { // sorted by name: a process's files in generation order
		return 0, err
	}
	var (
		total int
		errs  []error
		r     frameReader
	)
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, journalExt):
			n, err := recoverFile(ctx, dir, name, s, opts, &r)
			total += n
			if err != nil {
				errs = append(errs, err)
			}
		case isTmpJournal(name):
			if err := removeStaleTmp(filepath.Join(dir, name)); err != nil {
				errs = append(errs, err)
			}
		}
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
	}
	return total, errors.Join(errs...)
}

func hasJournals(entries []fs.DirEntry) bool {
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), journalExt) || isTmpJournal(e.Name()) {
			return true
		}
	}
	return false
}

// isTmpJournal reports whether name is a journal file being created
// ("NAME.journal.N.tmp").
func isTmpJournal(name string) bool {
	return strings.HasSuffix(name, tmpExt) && strings.Contains(name, journalExt+".")
}

// lockRecovery takes the directory's recovery lock, waiting for it (up to
// ctx) when wait is set; it returns nil, nil when the lock is busy and
// wait is not.
func lockRecovery(ctx context.Context, dir string, wait bool) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, recoverLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		ok, err := tryLock(f)
		if ok || err != nil || !wait {
			if !ok {
				f.Close()
				f = nil
			}
			return f, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(recoverPoll):
		}
	}
}

// claim locks f, a journal file, for recovery. It reports false when the
// owner is alive, or when another process recovered the file and unlinked
// it between our open and our lock.
func claim(f *os.File) (bool, error) {
	ok, err := tryLock(f)
	if !ok || err != nil {
		return false, err
	}
	return linked(f)
}

// recoverFile ships and deletes one journal file, if its owner is dead.
func recoverFile(ctx context.Context, dir, name string, s JournalStore, opts JournalOptions, r *frameReader) (int, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal %s: %w", name, err)
	}
	defer f.Close()
	if ok, err := claim(f); !ok || err != nil {
		if err != nil {
			err = fmt.Errorf("journal %s: %w", name, err)
		}
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("journal %s: %w", name, err)
	}
	empty, err := readHeader(f, fi.Size())
	if err != nil {
		return 0, fmt.Errorf("journal %s: %w (move the file out of %s to start without it)", name, err, dir)
	}
	n := 0
	if !empty {
		if n, err = shipOrphan(ctx, f, name, fi.Size(), s, opts, r); err != nil {
			return n, fmt.Errorf("journal %s: %w", name, err)
		}
	}
	crashPoint("recover-unlink")
	if err := os.Remove(path); err != nil {
		return n, fmt.Errorf("journal %s: delete after recovery: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return n, fmt.Errorf("journal %s: delete after recovery: %w", name, err)
	}
	crashPoint("recover-forget")
	if err := s.ForgetJournal(ctx, name); err != nil {
		// Harmless: the file is gone and its name is never reused.
		opts.Logger.Warn("audit journal: could not forget a recovered journal's offset", "file", name, "err", err)
	}
	opts.Logger.Info("audit journal: recovered the journal of a process that died", "file", name, "records", n)
	return n, nil
}

// shipOrphan ships f's records from the store's offset for name to the
// first invalid frame, and truncates the file there.
func shipOrphan(ctx context.Context, f *os.File, name string, size int64, s JournalStore, opts JournalOptions, r *frameReader) (int, error) {
	off, err := s.JournalOffset(ctx, name)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		if off > 0 && off < headerSize {
			return n, fmt.Errorf("the store has it shipped to offset %d, inside the file header", off)
		}
		start := max(off, headerSize)
		if start >= size {
			if start > size {
				// Only possible after a power loss without Fsync: the
				// file lost a tail that had been shipped already.
				opts.Logger.Warn("audit journal: file is shorter than its shipped offset", "file", name, "size", size, "shipped", off)
			}
			return n, nil
		}
		payloads, next, stop := r.batch(f, start, size, opts.MaxBatch)
		if len(payloads) > 0 {
			_, err := s.AppendJournal(ctx, name, off, next, payloads)
			if errors.Is(err, ErrJournalConflict) {
				if off, err = s.JournalOffset(ctx, name); err != nil {
					return n, err
				}
				continue
			}
			if err != nil {
				return n, err
			}
			crashPoint("recover-committed")
			n += len(payloads)
			off = next
		}
		if stop == nil {
			continue
		}
		var fe *frameError
		if !errors.Is(stop, errFrameTruncated) && !errors.As(stop, &fe) {
			return n, stop // an I/O error
		}
		// A record cut short or damaged where the file ends: its write
		// never returned, so it was never acknowledged.
		opts.Logger.Warn("audit journal: dropping a torn record at the end of a dead process's journal",
			"file", name, "offset", next, "bytes", size-next, "reason", stop.Error())
		if err := f.Truncate(next); err != nil {
			return n, fmt.Errorf("truncate torn tail: %w", err)
		}
		return n, nil
	}
}

// removeStaleTmp deletes a temporary journal file whose creator died
// before renaming it; such a file never held a record.
func removeStaleTmp(path string) error {
	fi, err := os.Stat(path)
	if err != nil || time.Since(fi.ModTime()) < staleTmpAge {
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return err
	}
	defer f.Close()
	if ok, err := claim(f); !ok || err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
