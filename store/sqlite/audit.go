package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/audit"
)

// AppendAudit links payloads onto the chain and commits them in one
// transaction. The transaction takes SQLite's write lock before it reads
// the head (BEGIN IMMEDIATE), so appenders in other processes wait rather
// than fork the chain; with synchronous=FULL the entries are on disk when
// it returns.
func (s *Store) AppendAudit(ctx context.Context, payloads [][]byte) ([]audit.Entry, error) {
	if len(payloads) == 0 {
		return nil, nil
	}
	if err := s.lockWrite(ctx); err != nil {
		return nil, fmt.Errorf("append audit: %w", err)
	}
	defer s.unlockWrite()
	entries, err := s.appendAudit(ctx, payloads)
	if err != nil {
		return nil, fmt.Errorf("append audit: %w", err)
	}
	return entries, nil
}

func (s *Store) appendAudit(ctx context.Context, payloads [][]byte) ([]audit.Entry, error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see _txlock in open)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	entries, err := linkAudit(ctx, tx, payloads)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return entries, nil
}

// linkAudit reads the chain's head in tx, which holds the write lock, and
// inserts payloads linked after it.
func linkAudit(ctx context.Context, tx *sql.Tx, payloads [][]byte) ([]audit.Entry, error) {
	var (
		seq  int64
		prev []byte
	)
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		seq, prev = 0, audit.Genesis()
	case err != nil:
		return nil, fmt.Errorf("read head: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (seq, prev_hash, hash, payload) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	entries := make([]audit.Entry, len(payloads))
	for i, p := range payloads {
		seq++
		e := audit.Link(prev, seq, p)
		if _, err := stmt.ExecContext(ctx, e.Seq, e.PrevHash, e.Hash, e.Payload); err != nil {
			return nil, fmt.Errorf("insert seq %d: %w", seq, err)
		}
		entries[i] = e
		prev = e.Hash
	}
	return entries, nil
}

// scanPages are the page sizes ScanAudit reads with: small at first, so
// that a caller that stops after one entry reads little, then larger.
var scanPages = [...]int{8, 64, 512}

// ScanAudit calls fn for every entry with Seq >= from, in order. It reads
// in pages and calls fn between them, holding no transaction open while fn
// runs; entries appended during the scan are included. An error from fn
// stops the scan and is returned as it is.
func (s *Store) ScanAudit(ctx context.Context, from int64, fn func(audit.Entry) error) error {
	page := make([]audit.Entry, 0, scanPages[len(scanPages)-1])
	for i := 0; ; i++ {
		limit := scanPages[min(i, len(scanPages)-1)]
		var err error
		page, err = s.readPage(ctx, from, limit, page[:0])
		if err != nil {
			return fmt.Errorf("scan audit from seq %d: %w", from, err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < limit {
			return nil
		}
		from = page[len(page)-1].Seq + 1
	}
}

func (s *Store) readPage(ctx context.Context, from int64, limit int, page []audit.Entry) ([]audit.Entry, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT seq, prev_hash, hash, payload FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, from, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e audit.Entry
		if err := rows.Scan(&e.Seq, &e.PrevHash, &e.Hash, &e.Payload); err != nil {
			return nil, err
		}
		page = append(page, e)
	}
	return page, rows.Err()
}
