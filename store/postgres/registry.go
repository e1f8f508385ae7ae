package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/store/internal/regrows"
)

// registryTx runs fn in a transaction that holds the registry advisory
// lock, so registry changes from every replica and CLI apply one at a
// time, and links the audit payloads onto the chain in the same
// transaction (taking the audit lock after the registry lock; nothing
// takes them in the other order).
func (s *Store) registryTx(ctx context.Context, what string, audit [][]byte, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", registryLockKey); err != nil {
		return fmt.Errorf("%s: lock: %w", what, err)
	}
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(audit) > 0 {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
			return fmt.Errorf("%s: audit lock: %w", what, err)
		}
		if _, err := linkAudit(ctx, tx, audit); err != nil {
			return fmt.Errorf("%s: audit: %w", what, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// AddRegistryIdentity stores id; registry.ErrExists when its name is
// taken (by a removed identity too) or its key is an identity's or a
// retired key.
func (s *Store) AddRegistryIdentity(ctx context.Context, id *registry.Identity, audit [][]byte) error {
	if id == nil || id.Name == "" || id.KeyID == "" || len(id.PublicKey) == 0 {
		return errors.New("add registry identity: name, key id and public key are required")
	}
	return s.registryTx(ctx, "add registry identity "+id.Name, audit, func(tx pgx.Tx) error {
		if err := keyNotRetired(ctx, tx, id.KeyID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO registry_identities (name, key_id, algorithm, public_key, added_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, id.Name, id.KeyID, id.Algorithm, id.PublicKey, id.AddedBy, id.CreatedAt)
		if isUnique(err) {
			return registry.ErrExists
		}
		return err
	})
}

// keyNotRetired returns registry.ErrExists when keyID is a retired key.
func keyNotRetired(ctx context.Context, tx pgx.Tx, keyID string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM registry_retired_keys WHERE key_id = $1`, keyID).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("%w: key %s was retired", registry.ErrExists, keyID)
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	}
	return err
}

const identityColumns = `name, key_id, algorithm, public_key, added_by, created_at, removed_at, removed_by`

func scanIdentity(row pgx.Row) (*registry.Identity, error) {
	var id registry.Identity
	var removed *time.Time
	if err := row.Scan(&id.Name, &id.KeyID, &id.Algorithm, &id.PublicKey, &id.AddedBy, &id.CreatedAt, &removed, &id.RemovedBy); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, registry.ErrNotFound
		}
		return nil, err
	}
	id.CreatedAt = id.CreatedAt.UTC()
	if removed != nil {
		id.RemovedAt = removed.UTC()
	}
	return &id, nil
}

// RegistryIdentityByKeyID returns the identity whose current key it is
// (a removed one too), or registry.ErrNotFound.
func (s *Store) RegistryIdentityByKeyID(ctx context.Context, keyID string) (*registry.Identity, error) {
	id, err := scanIdentity(s.pool.QueryRow(ctx, `SELECT `+identityColumns+` FROM registry_identities WHERE key_id = $1`, keyID))
	if err != nil {
		return nil, fmt.Errorf("registry identity with key %s: %w", keyID, err)
	}
	return id, nil
}

// ListRegistryIdentities returns every identity by name, removed ones
// included.
func (s *Store) ListRegistryIdentities(ctx context.Context) ([]*registry.Identity, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+identityColumns+` FROM registry_identities ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list registry identities: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*registry.Identity, error) { return scanIdentity(row) })
	if err != nil {
		return nil, fmt.Errorf("list registry identities: %w", err)
	}
	return out, nil
}

// RotateRegistryKey retires the identity's current key and gives it
// next's key, in one transaction.
func (s *Store) RotateRegistryKey(ctx context.Context, name string, next *registry.Identity, retiredBy, reason string, audit [][]byte) error {
	if next == nil || next.KeyID == "" || len(next.PublicKey) == 0 {
		return errors.New("rotate registry key: the new key id and public key are required")
	}
	return s.registryTx(ctx, "rotate the key of registry identity "+name, audit, func(tx pgx.Tx) error {
		cur, err := scanIdentity(tx.QueryRow(ctx, `SELECT `+identityColumns+` FROM registry_identities WHERE name = $1`, name))
		if err != nil {
			return err
		}
		if cur.Removed() {
			return fmt.Errorf("%w: identity %s was removed", registry.ErrNotFound, name)
		}
		if cur.KeyID == next.KeyID {
			return fmt.Errorf("%w: key %s is %s's current key", registry.ErrExists, next.KeyID, name)
		}
		if err := keyNotRetired(ctx, tx, next.KeyID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO registry_retired_keys (key_id, name, algorithm, public_key, added_by, created_at, retired_at, retired_by, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, cur.KeyID, name, cur.Algorithm, cur.PublicKey, cur.AddedBy, cur.CreatedAt,
			next.CreatedAt, retiredBy, reason); err != nil {
			if isUnique(err) {
				return registry.ErrExists
			}
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE registry_identities SET key_id = $1, algorithm = $2, public_key = $3, added_by = $4, created_at = $5
			WHERE name = $6`, next.KeyID, next.Algorithm, next.PublicKey, next.AddedBy, next.CreatedAt, name)
		if isUnique(err) {
			return registry.ErrExists
		}
		return err
	})
}

// RemoveRegistryIdentity marks the identity removed.
func (s *Store) RemoveRegistryIdentity(ctx context.Context, name, by string, at time.Time, audit [][]byte) error {
	if at.IsZero() {
		return errors.New("remove registry identity: the time is required")
	}
	return s.registryTx(ctx, "remove registry identity "+name, audit, func(tx pgx.Tx) error {
		var removed *time.Time
		err := tx.QueryRow(ctx, `SELECT removed_at FROM registry_identities WHERE name = $1`, name).Scan(&removed)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return registry.ErrNotFound
		case err != nil:
			return err
		case removed != nil:
			return fmt.Errorf("%w: identity %s was removed already", registry.ErrConflict, name)
		}
		_, err = tx.Exec(ctx, `UPDATE registry_identities SET removed_at = $1, removed_by = $2 WHERE name = $3`, at, by, name)
		return err
	})
}

const retiredColumns = `key_id, name, algorithm, public_key, added_by, created_at, retired_at, retired_by, reason`

func scanRetired(row pgx.Row) (*registry.RetiredKey, error) {
	var k registry.RetiredKey
	if err := row.Scan(&k.KeyID, &k.Name, &k.Algorithm, &k.PublicKey, &k.AddedBy, &k.CreatedAt, &k.RetiredAt, &k.RetiredBy, &k.Reason); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, registry.ErrNotFound
		}
		return nil, err
	}
	k.CreatedAt, k.RetiredAt = k.CreatedAt.UTC(), k.RetiredAt.UTC()
	return &k, nil
}

// RetiredRegistryKey returns the retired key, or registry.ErrNotFound.
func (s *Store) RetiredRegistryKey(ctx context.Context, keyID string) (*registry.RetiredKey, error) {
	k, err := scanRetired(s.pool.QueryRow(ctx, `SELECT `+retiredColumns+` FROM registry_retired_keys WHERE key_id = $1`, keyID))
	if err != nil {
		return nil, fmt.Errorf("retired registry key %s: %w", keyID, err)
	}
	return k, nil
}

// ListRetiredRegistryKeys returns every retired key by identity name, then
// oldest retirement first.
func (s *Store) ListRetiredRegistryKeys(ctx context.Context) ([]*registry.RetiredKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+retiredColumns+` FROM registry_retired_keys ORDER BY name, retired_at, key_id`)
	if err != nil {
		return nil, fmt.Errorf("list retired registry keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*registry.RetiredKey, error) { return scanRetired(row) })
	if err != nil {
		return nil, fmt.Errorf("list retired registry keys: %w", err)
	}
	return out, nil
}

// CreateModelVersion stores v and its push action.
func (s *Store) CreateModelVersion(ctx context.Context, v *registry.Version, push *registry.Action, audit [][]byte) error {
	c, err := regrows.Encode(v)
	if err != nil {
		return err
	}
	if err := regrows.CheckAction(push); err != nil {
		return err
	}
	return s.registryTx(ctx, "create model version "+v.Target(), audit, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO model_versions (name, version, digest, files, signature, scan, lineage, stage, previous, pushed_by, pushed_at, stage_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			v.Name, v.Version, v.Digest, c.Files, c.Signature, c.Scan, c.Lineage, string(v.Stage), v.Previous, v.PushedBy,
			v.PushedAt, v.StageAt)
		if isUnique(err) {
			return registry.ErrExists
		}
		if err != nil {
			return err
		}
		return insertAction(ctx, tx, push)
	})
}

// checkSigner returns registry.ErrConflict when the identity actor was
// removed or keyID is a retired key: the registry checked both before
// the transaction, and a rotation or a removal committed since.
func checkSigner(ctx context.Context, tx pgx.Tx, actor, keyID string) error {
	var removed *time.Time
	err := tx.QueryRow(ctx, `SELECT removed_at FROM registry_identities WHERE name = $1`, actor).Scan(&removed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil // the foreign key refuses the action
	case err != nil:
		return err
	case removed != nil:
		return fmt.Errorf("%w: identity %s was removed", registry.ErrConflict, actor)
	}
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM registry_retired_keys WHERE key_id = $1`, keyID).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("%w: key %s of %s was retired", registry.ErrConflict, keyID, actor)
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	}
	return err
}

func insertAction(ctx context.Context, tx pgx.Tx, a *registry.Action) error {
	if err := checkSigner(ctx, tx, a.Actor, a.KeyID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO model_actions (id, kind, name, version, actor, key_id, statement, signature, request, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.Kind, a.Name, a.Version, a.Actor, a.KeyID, a.Statement, a.Signature, a.Request, a.State, a.CreatedAt)
	if isUnique(err) {
		return registry.ErrExists
	}
	return err
}

const versionColumns = `name, version, digest, files, signature, scan, lineage, stage, previous, pushed_by, pushed_at, stage_at`

func scanVersion(row pgx.Row) (*registry.Version, error) {
	var (
		v     registry.Version
		c     regrows.Columns
		stage string
	)
	err := row.Scan(&v.Name, &v.Version, &v.Digest, &c.Files, &c.Signature, &c.Scan, &c.Lineage, &stage, &v.Previous,
		&v.PushedBy, &v.PushedAt, &v.StageAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v.Stage = registry.Stage(stage)
	v.PushedAt, v.StageAt = v.PushedAt.UTC(), v.StageAt.UTC()
	if err := regrows.Decode(&v, c); err != nil {
		return nil, err
	}
	return &v, nil
}

// ModelVersion returns one version, or registry.ErrNotFound.
func (s *Store) ModelVersion(ctx context.Context, name, version string) (*registry.Version, error) {
	v, err := scanVersion(s.pool.QueryRow(ctx, `SELECT `+versionColumns+` FROM model_versions WHERE name = $1 AND version = $2`, name, version))
	if err != nil {
		return nil, fmt.Errorf("model version %s@%s: %w", name, version, err)
	}
	return v, nil
}

// ListModelVersions returns the versions of a model (all models' when name
// is ""), by name and then newest first.
func (s *Store) ListModelVersions(ctx context.Context, name string) ([]*registry.Version, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+versionColumns+` FROM model_versions WHERE $1 = '' OR name = $1
		ORDER BY name COLLATE "C", pushed_at DESC, version COLLATE "C" DESC`, name)
	if err != nil {
		return nil, fmt.Errorf("list model versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*registry.Version, error) { return scanVersion(row) })
	if err != nil {
		return nil, fmt.Errorf("list model versions: %w", err)
	}
	return out, nil
}

// ListModelActions returns the actions on a model (one version's when
// version is not ""), oldest first.
func (s *Store) ListModelActions(ctx context.Context, name, version string) ([]*registry.Action, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, name, version, actor, key_id, statement, signature, request, state, created_at
		FROM model_actions WHERE name = $1 AND ($2 = '' OR version = $2) ORDER BY seq`, name, version)
	if err != nil {
		return nil, fmt.Errorf("list model actions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*registry.Action, error) {
		var a registry.Action
		err := row.Scan(&a.ID, &a.Kind, &a.Name, &a.Version, &a.Actor, &a.KeyID, &a.Statement, &a.Signature, &a.Request, &a.State, &a.CreatedAt)
		a.CreatedAt = a.CreatedAt.UTC()
		return &a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list model actions: %w", err)
	}
	return out, nil
}

// AddModelRequest stores a pending promotion request.
func (s *Store) AddModelRequest(ctx context.Context, req *registry.Action, audit [][]byte) error {
	if err := regrows.CheckAction(req); err != nil {
		return err
	}
	return s.registryTx(ctx, "add promotion request for "+req.Name+"@"+req.Version, audit, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM model_versions WHERE name = $1 AND version = $2`, req.Name, req.Version).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.ErrNotFound
		}
		if err != nil {
			return err
		}
		return insertAction(ctx, tx, req)
	})
}

// ExpireModelRequest closes the pending request id as expired.
func (s *Store) ExpireModelRequest(ctx context.Context, id string, audit [][]byte) error {
	return s.registryTx(ctx, "expire promotion request "+id, audit, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE model_actions SET state = 'expired' WHERE id = $1 AND kind = 'request' AND state = 'pending'`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("%w: request %s is not pending", registry.ErrConflict, id)
		}
		return nil
	})
}

// PromoteModel applies p: the request is closed as approved, the approval
// stored, the production version retired and p's version promoted.
func (s *Store) PromoteModel(ctx context.Context, p *registry.Promotion, audit [][]byte) error {
	if err := regrows.CheckAction(p.Approval); err != nil {
		return err
	}
	at := p.At
	return s.registryTx(ctx, "promote "+p.Name+"@"+p.Version, audit, func(tx pgx.Tx) error {
		var digest, stage string
		err := tx.QueryRow(ctx, `SELECT digest, stage FROM model_versions WHERE name = $1 AND version = $2`, p.Name, p.Version).Scan(&digest, &stage)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.ErrNotFound
		}
		if err != nil {
			return err
		}
		if digest != p.Digest || stage == string(registry.StageProduction) {
			return fmt.Errorf("%w: the version has digest %s and stage %s", registry.ErrConflict, digest, stage)
		}
		var prod string
		err = tx.QueryRow(ctx, `SELECT version FROM model_versions WHERE name = $1 AND stage = 'production'`, p.Name).Scan(&prod)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if prod != p.Production {
			return fmt.Errorf("%w: the production version is %q, not %q", registry.ErrConflict, prod, p.Production)
		}
		tag, err := tx.Exec(ctx, `UPDATE model_actions SET state = 'approved'
			WHERE id = $1 AND kind = 'request' AND state = 'pending' AND name = $2 AND version = $3`, p.Request, p.Name, p.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("%w: request %s is not pending", registry.ErrConflict, p.Request)
		}
		var reqActor, reqKey string
		if err := tx.QueryRow(ctx, `SELECT actor, key_id FROM model_actions WHERE id = $1`, p.Request).Scan(&reqActor, &reqKey); err != nil {
			return err
		}
		if err := checkSigner(ctx, tx, reqActor, reqKey); err != nil {
			return fmt.Errorf("request %s: %w", p.Request, err)
		}
		if err := insertAction(ctx, tx, p.Approval); err != nil {
			return err
		}
		if prod != "" {
			if _, err := tx.Exec(ctx, `UPDATE model_versions SET stage = 'retired', stage_at = $1 WHERE name = $2 AND version = $3`,
				at, p.Name, prod); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE model_versions SET stage = 'production', previous = $1, stage_at = $2 WHERE name = $3 AND version = $4`,
			prod, at, p.Name, p.Version)
		if isUnique(err) {
			return fmt.Errorf("%w: another version is in production", registry.ErrConflict)
		}
		return err
	})
}

// RollbackModel applies rb: From is retired and To restored.
func (s *Store) RollbackModel(ctx context.Context, rb *registry.Rollback, audit [][]byte) error {
	if err := regrows.CheckAction(rb.Action); err != nil {
		return err
	}
	at := rb.At
	return s.registryTx(ctx, "roll back "+rb.Name+"@"+rb.From, audit, func(tx pgx.Tx) error {
		var stage, previous, toStage string
		err := tx.QueryRow(ctx, `SELECT stage, previous FROM model_versions WHERE name = $1 AND version = $2`, rb.Name, rb.From).Scan(&stage, &previous)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.ErrNotFound
		}
		if err != nil {
			return err
		}
		if stage != string(registry.StageProduction) || previous != rb.To || rb.To == "" {
			return fmt.Errorf("%w: %s is %s with previous version %q", registry.ErrConflict, rb.From, stage, previous)
		}
		if err := tx.QueryRow(ctx, `SELECT stage FROM model_versions WHERE name = $1 AND version = $2`, rb.Name, rb.To).Scan(&toStage); err != nil {
			return err
		}
		if toStage != string(registry.StageRetired) {
			return fmt.Errorf("%w: %s is %s, not retired", registry.ErrConflict, rb.To, toStage)
		}
		if err := insertAction(ctx, tx, rb.Action); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE model_versions SET stage = 'retired', stage_at = $1 WHERE name = $2 AND version = $3`,
			at, rb.Name, rb.From); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE model_versions SET stage = 'production', stage_at = $1 WHERE name = $2 AND version = $3`,
			at, rb.Name, rb.To)
		return err
	})
}

// ProductionModels returns every model's production version by name.
func (s *Store) ProductionModels(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, version FROM model_versions WHERE stage = 'production'`)
	if err != nil {
		return nil, fmt.Errorf("production models: %w", err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var name, version string
		if err := rows.Scan(&name, &version); err != nil {
			return nil, fmt.Errorf("production models: %w", err)
		}
		out[name] = version
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("production models: %w", err)
	}
	return out, nil
}
