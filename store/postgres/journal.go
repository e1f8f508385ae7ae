package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rampartsec/rampart/audit"
)

var _ audit.JournalStore = (*Store)(nil)

// AppendJournal appends payloads to the chain and moves the shipped
// offset of journal file name from from to to, in one transaction that
// takes the audit advisory lock before it reads either. If the stored
// offset is not from it writes nothing and returns an error wrapping
// audit.ErrJournalConflict.
func (s *Store) AppendJournal(ctx context.Context, name string, from, to int64, payloads [][]byte) ([]audit.Entry, error) {
	if err := audit.CheckJournalBatch(name, from, to, payloads); err != nil {
		return nil, err
	}
	entries, err := s.appendJournal(ctx, name, from, to, payloads)
	if err != nil {
		return nil, fmt.Errorf("append journal %s: %w", name, err)
	}
	return entries, nil
}

func (s *Store) appendJournal(ctx context.Context, name string, from, to int64, payloads [][]byte) ([]audit.Entry, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	// Every writer of audit_journals holds the lock, so this read (whose
	// snapshot is taken after the lock was granted) sees the latest offset.
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
	if _, err := tx.Exec(ctx, `INSERT INTO audit_journals (name, shipped) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET shipped = excluded.shipped, updated_at = now()`, name, to); err != nil {
		return nil, fmt.Errorf("record shipped offset: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return entries, nil
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func journalOffset(ctx context.Context, q queryRower, name string) (int64, error) {
	var off int64
	err := q.QueryRow(ctx, `SELECT shipped FROM audit_journals WHERE name = $1`, name).Scan(&off)
	if errors.Is(err, pgx.ErrNoRows) {
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
	off, err := journalOffset(ctx, s.pool, name)
	if err != nil {
		return 0, fmt.Errorf("journal offset %s: %w", name, err)
	}
	return off, nil
}

// ForgetJournal deletes the shipped offset of journal file name. It takes
// the audit advisory lock, like every writer of the offsets.
func (s *Store) ForgetJournal(ctx context.Context, name string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		_, err := tx.Exec(ctx, `DELETE FROM audit_journals WHERE name = $1`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("forget journal %s: %w", name, err)
	}
	return nil
}
