package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rampartsec/rampart/audit"
)

// AppendAudit links payloads onto the chain and commits them in one
// transaction. The transaction takes an advisory lock before it reads the
// head, so appenders in other replicas wait rather than fork the chain.
func (s *Store) AppendAudit(ctx context.Context, payloads [][]byte) ([]audit.Entry, error) {
	if len(payloads) == 0 {
		return nil, nil
	}
	entries, err := s.appendAudit(ctx, payloads)
	if err != nil {
		return nil, fmt.Errorf("append audit: %w", err)
	}
	return entries, nil
}

func (s *Store) appendAudit(ctx context.Context, payloads [][]byte) ([]audit.Entry, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	entries, err := linkAudit(ctx, tx, payloads)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return entries, nil
}

// linkAudit reads the chain's head in tx, which holds the audit advisory
// lock, and inserts payloads linked after it.
func linkAudit(ctx context.Context, tx pgx.Tx, payloads [][]byte) ([]audit.Entry, error) {
	// Under READ COMMITTED this statement's snapshot is taken after the
	// lock was granted, so it sees the previous holder's commit.
	var (
		seq  int64
		prev []byte
	)
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		seq, prev = 0, audit.Genesis()
	case err != nil:
		return nil, fmt.Errorf("read head: %w", err)
	}
	entries := make([]audit.Entry, len(payloads))
	seqs := make([]int64, len(payloads))
	prevs := make([][]byte, len(payloads))
	hashes := make([][]byte, len(payloads))
	for i, p := range payloads {
		seq++
		e := audit.Link(prev, seq, p)
		entries[i], seqs[i], prevs[i], hashes[i] = e, e.Seq, e.PrevHash, e.Hash
		prev = e.Hash
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (seq, prev_hash, hash, payload)
		SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[])`,
		seqs, prevs, hashes, payloads); err != nil {
		return nil, fmt.Errorf("insert seq %d-%d: %w", seqs[0], seq, err)
	}
	return entries, nil
}

// scanPages are the page sizes ScanAudit reads with: small at first, so
// that a caller that stops after one entry reads little, then larger.
var scanPages = [...]int{8, 64, 512}

// ScanAudit calls fn for every entry with Seq >= from, in order. It reads
// in pages and calls fn between them, holding no connection while fn
// runs; entries appended during the scan are included. An error from fn
// stops the scan and is returned as it is.
func (s *Store) ScanAudit(ctx context.Context, from int64, fn func(audit.Entry) error) error {
	for i := 0; ; i++ {
		limit := scanPages[min(i, len(scanPages)-1)]
		rows, err := s.pool.Query(ctx,
			`SELECT seq, prev_hash, hash, payload FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`, from, limit)
		if err != nil {
			return fmt.Errorf("scan audit from seq %d: %w", from, err)
		}
		page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Entry, error) {
			var e audit.Entry
			err := row.Scan(&e.Seq, &e.PrevHash, &e.Hash, &e.Payload)
			return e, err
		})
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
