package audit

import (
	"context"
	"errors"
	"fmt"
)

// ErrJournalConflict is returned (wrapped) by JournalStore.AppendJournal
// when the batch does not start where the store says the journal was
// shipped to: another process shipped it, or an earlier attempt whose
// outcome the caller did not learn did commit. Nothing is written; the
// caller rereads JournalOffset and continues from there.
var ErrJournalConflict = errors.New("journal batch does not start at the shipped offset")

// JournalStore is a Store that a Journal can ship to exactly once: it
// keeps, for every journal file, the offset up to which the file's records
// are in the chain, and moves that offset in the same transaction that
// appends them.
type JournalStore interface {
	Store
	// AppendJournal appends payloads to the chain as AppendAudit does and,
	// in the same transaction, moves the shipped offset of the journal
	// file name from from to to. If the stored offset (0 for a name never
	// seen) is not from, it writes nothing and returns an error wrapping
	// ErrJournalConflict.
	AppendJournal(ctx context.Context, name string, from, to int64, payloads [][]byte) ([]Entry, error)
	// JournalOffset returns the offset name was shipped to, 0 for a name
	// never seen or forgotten.
	JournalOffset(ctx context.Context, name string) (int64, error)
	// ForgetJournal removes name's offset, once its file is deleted.
	// Forgetting an unknown name is not an error.
	ForgetJournal(ctx context.Context, name string) error
}

// CheckJournalBatch validates AppendJournal's arguments, for the
// implementations: a name, 0 <= from < to, and at least one payload, none
// of them empty.
func CheckJournalBatch(name string, from, to int64, payloads [][]byte) error {
	switch {
	case name == "":
		return errors.New("append journal: empty journal name")
	case from < 0 || to <= from:
		return fmt.Errorf("append journal %s: offsets %d to %d do not form a range", name, from, to)
	case len(payloads) == 0:
		return fmt.Errorf("append journal %s: no records for offsets %d to %d", name, from, to)
	case int64(len(payloads)) > to-from:
		return fmt.Errorf("append journal %s: %d records cannot fit in %d bytes", name, len(payloads), to-from)
	}
	for i, p := range payloads {
		if len(p) == 0 {
			return fmt.Errorf("append journal %s: record %d of the batch is empty", name, i)
		}
	}
	return nil
}
