package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	models, err := json.Marshal(nonNil(k.Models))
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	routes, err := json.Marshal(nonNil(k.Routes))
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	limits, err := json.Marshal(k.Limits)
	if err != nil {
		return fmt.Errorf("create key %s: limits: %w", k.ID, err)
	}
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	defer s.unlockWrite()
	_, err = s.db.ExecContext(ctx, `INSERT INTO keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Prefix, k.Hash, k.Group, string(models), string(routes), string(limits),
		k.CreatedAt.UnixMicro(), micros(k.ExpiresAt), micros(k.RevokedAt), k.RotatedFrom)
	if isUnique(err) {
		return fmt.Errorf("create key %s: id or prefix %q already exists: %w", k.ID, k.Prefix, keyrules.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	if err := s.version.bump(); err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	return nil
}

// KeyByPrefix returns the key with the given prefix, or auth.ErrNotFound.
func (s *Store) KeyByPrefix(ctx context.Context, prefix string) (*auth.Key, error) {
	// An indexed point read takes microseconds; with a cancellable context
	// the driver starts a watcher per query that costs more than the read.
	k, err := scanKey(s.byPrefix.QueryRowContext(pointRead(ctx), prefix))
	if err != nil {
		return nil, fmt.Errorf("key with prefix %q: %w", prefix, err)
	}
	return k, nil
}

// KeyByID returns the key with the given id, or auth.ErrNotFound.
func (s *Store) KeyByID(ctx context.Context, id string) (*auth.Key, error) {
	k, err := scanKey(s.byID.QueryRowContext(pointRead(ctx), id))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	return k, nil
}

// ListKeys returns every key, newest first.
func (s *Store) ListKeys(ctx context.Context) ([]*auth.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var keys []*auth.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
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
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	defer s.unlockWrite()
	t := at.UnixMicro()
	res, err := s.db.ExecContext(ctx,
		`UPDATE keys SET revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > ? THEN ? ELSE revoked_at END WHERE id = ?`,
		t, t, id)
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("revoke key %s: %w", id, auth.ErrNotFound)
	}
	if err := s.version.bump(); err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(row scanner) (*auth.Key, error) {
	var (
		k                      auth.Key
		models, routes, limits string
		created                int64
		expires, revoked       sql.NullInt64
	)
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.Hash, &k.Group, &models, &routes, &limits,
		&created, &expires, &revoked, &k.RotatedFrom)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, auth.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(models), &k.Models); err != nil {
		return nil, fmt.Errorf("key %s: models: %w", k.ID, err)
	}
	if err := json.Unmarshal([]byte(routes), &k.Routes); err != nil {
		return nil, fmt.Errorf("key %s: routes: %w", k.ID, err)
	}
	if err := json.Unmarshal([]byte(limits), &k.Limits); err != nil {
		return nil, fmt.Errorf("key %s: limits: %w", k.ID, err)
	}
	if len(k.Models) == 0 {
		k.Models = nil
	}
	if len(k.Routes) == 0 {
		k.Routes = nil
	}
	k.CreatedAt = time.UnixMicro(created).UTC()
	if expires.Valid {
		k.ExpiresAt = time.UnixMicro(expires.Int64).UTC()
	}
	if revoked.Valid {
		k.RevokedAt = time.UnixMicro(revoked.Int64).UTC()
	}
	return &k, nil
}

// micros returns t as Unix microseconds, or NULL for the zero time.
func micros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pointRead returns the context for a short indexed read: ctx without its
// cancellation (its values are kept), unless ctx is already done. The
// modernc driver watches a cancellable context with a goroutine per query,
// which costs several times a point read; such a read cannot hang (the
// busy timeout bounds waiting on locks), so nothing is lost.
func pointRead(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}
