package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/store/internal/keyrules"
)

const keyColumns = `id, name, prefix, hash, key_group, models, routes, limits, created_at, expires_at, revoked_at, rotated_from`

// CreateKey inserts k. A zero k.CreatedAt is set to the current time. It
// fails with an error matching store.ErrDuplicate when the id or the prefix
// is taken. Times are stored to the microsecond.
func (s *Store) CreateKey(ctx context.Context, k *auth.Key) error {
	if err := keyrules.Check(k); err != nil {
		return err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	limits, err := json.Marshal(k.Limits)
	if err != nil {
		return fmt.Errorf("create key %s: limits: %w", k.ID, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		k.ID, k.Name, k.Prefix, k.Hash, k.Group, nonNil(k.Models), nonNil(k.Routes), limits,
		k.CreatedAt, timeOrNull(k.ExpiresAt), timeOrNull(k.RevokedAt), k.RotatedFrom)
	if isUnique(err) {
		return fmt.Errorf("create key %s: id or prefix %q already exists: %w", k.ID, k.Prefix, keyrules.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	return nil
}

// KeyByPrefix returns the key with the given prefix, or auth.ErrNotFound.
func (s *Store) KeyByPrefix(ctx context.Context, prefix string) (*auth.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE prefix = $1`, prefix))
	if err != nil {
		return nil, fmt.Errorf("key with prefix %q: %w", prefix, err)
	}
	return k, nil
}

// KeyByID returns the key with the given id, or auth.ErrNotFound.
func (s *Store) KeyByID(ctx context.Context, id string) (*auth.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	return k, nil
}

// ListKeys returns every key, newest first.
func (s *Store) ListKeys(ctx context.Context) ([]*auth.Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*auth.Key, error) { return scanKey(row) })
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// RevokeKey revokes the key at time at (a future time schedules it). A
// revocation is never postponed: if the key is already revoked at an
// earlier time, that time stays. It is auth.ErrNotFound for an unknown id.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("revoke key %s: zero revocation time", id)
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE keys SET revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > $1 THEN $1 ELSE revoked_at END WHERE id = $2`,
		at, id)
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke key %s: %w", id, auth.ErrNotFound)
	}
	return nil
}

func scanKey(row pgx.Row) (*auth.Key, error) {
	var (
		k                auth.Key
		limits           []byte
		expires, revoked *time.Time
	)
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.Hash, &k.Group, &k.Models, &k.Routes, &limits,
		&k.CreatedAt, &expires, &revoked, &k.RotatedFrom)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, auth.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(limits, &k.Limits); err != nil {
		return nil, fmt.Errorf("key %s: limits: %w", k.ID, err)
	}
	if len(k.Models) == 0 {
		k.Models = nil
	}
	if len(k.Routes) == 0 {
		k.Routes = nil
	}
	k.CreatedAt = k.CreatedAt.UTC()
	if expires != nil {
		k.ExpiresAt = expires.UTC()
	}
	if revoked != nil {
		k.RevokedAt = revoked.UTC()
	}
	return &k, nil
}

// timeOrNull returns nil (SQL NULL) for the zero time.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
