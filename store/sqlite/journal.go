package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rampartsec/rampart/audit"
)

var _ audit.JournalStore = (*Store)(nil)

// AppendJournal appends payloads to the chain and moves the shipped
// offset of journal file name from from to to, in one transaction that
// takes the write lock before it reads either (BEGIN IMMEDIATE). If the
// stored offset is not from it writes nothing and returns an error
// wrapping audit.ErrJournalConflict.
func (s *Store) AppendJournal(ctx context.Context, name string, from, to int64, payloads [][]byte) ([]audit.Entry, error) {
	if err := audit.CheckJournalBatch(name, from, to, payloads); err != nil {
		return nil, err
	}
	if err := s.lockWrite(ctx); err != nil {
		return nil, fmt.Errorf("append journal %s: %w", name, err)
	}
	defer s.unlockWrite()
	entries, err := s.appendJournal(ctx, name, from, to, payloads)
	if err != nil {
		return nil, fmt.Errorf("append journal %s: %w", name, err)
	}
	return entries, nil
}

func (s *Store) appendJournal(ctx context.Context, name string, from, to int64, payloads [][]byte) ([]audit.Entry, error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see _txlock in open)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	shipped, err := journalOffset(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if shipped != from {
		return nil, fmt.Errorf("%w: the store has it shipped to offset %d, the batch starts at %d", audit.ErrJournalConflict, shipped, from)
	}
	entries, err := linkAudit(ctx, tx, payloads)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_journals (name, shipped, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET shipped = excluded.shipped, updated_at = excluded.updated_at`,
		name, to, time.Now().UnixMicro()); err != nil {
		return nil, fmt.Errorf("record shipped offset: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return entries, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func journalOffset(ctx context.Context, q queryRower, name string) (int64, error) {
	var off int64
	err := q.QueryRowContext(ctx, `SELECT shipped FROM audit_journals WHERE name = ?`, name).Scan(&off)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read shipped offset: %w", err)
	}
	return off, nil
}

// JournalOffset returns the offset journal file name was shipped to, 0
// if it is unknown.
func (s *Store) JournalOffset(ctx context.Context, name string) (int64, error) {
	off, err := journalOffset(ctx, s.db, name)
	if err != nil {
		return 0, fmt.Errorf("journal offset %s: %w", name, err)
	}
	return off, nil
}

// ForgetJournal deletes the shipped offset of journal file name.
func (s *Store) ForgetJournal(ctx context.Context, name string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("forget journal %s: %w", name, err)
	}
	defer s.unlockWrite()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM audit_journals WHERE name = ?`, name); err != nil {
		return fmt.Errorf("forget journal %s: %w", name, err)
	}
	return nil
}
