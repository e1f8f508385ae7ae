package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rampartsec/rampart/artifact/registry"
	"github.com/rampartsec/rampart/store/internal/regrows"
)

// registryTx runs fn in a write transaction and links the audit payloads
// onto the chain in the same transaction.
func (s *Store) registryTx(ctx context.Context, what string, audit [][]byte, fn func(tx *sql.Tx) error) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer s.unlockWrite()
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(audit) > 0 {
		if _, err := linkAudit(ctx, tx, audit); err != nil {
			return fmt.Errorf("%s: audit: %w", what, err)
		}
	}
	if err := tx.Commit(); err != nil {
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
	return s.registryTx(ctx, "add registry identity "+id.Name, audit, func(tx *sql.Tx) error {
		if err := keyNotRetired(ctx, tx, id.KeyID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO registry_identities (name, key_id, algorithm, public_key, added_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, id.Name, id.KeyID, id.Algorithm, id.PublicKey, id.AddedBy, id.CreatedAt.UnixMicro())
		if isUnique(err) {
			return registry.ErrExists
		}
		return err
	})
}

// keyNotRetired returns registry.ErrExists when keyID is a retired key.
func keyNotRetired(ctx context.Context, tx *sql.Tx, keyID string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM registry_retired_keys WHERE key_id = ?`, keyID).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("%w: key %s was retired", registry.ErrExists, keyID)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

const identityColumns = `name, key_id, algorithm, public_key, added_by, created_at, removed_at, removed_by`

func scanIdentity(row scanner) (*registry.Identity, error) {
	var id registry.Identity
	var created, removed int64
	if err := row.Scan(&id.Name, &id.KeyID, &id.Algorithm, &id.PublicKey, &id.AddedBy, &created, &removed, &id.RemovedBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, registry.ErrNotFound
		}
		return nil, err
	}
	id.CreatedAt = time.UnixMicro(created).UTC()
	if removed != 0 {
		id.RemovedAt = time.UnixMicro(removed).UTC()
	}
	return &id, nil
}

// RegistryIdentityByKeyID returns the identity whose current key it is
// (a removed one too), or registry.ErrNotFound.
func (s *Store) RegistryIdentityByKeyID(ctx context.Context, keyID string) (*registry.Identity, error) {
	id, err := scanIdentity(s.db.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM registry_identities WHERE key_id = ?`, keyID))
	if err != nil {
		return nil, fmt.Errorf("registry identity with key %s: %w", keyID, err)
	}
	return id, nil
}

// ListRegistryIdentities returns every identity by name, removed ones
// included.
func (s *Store) ListRegistryIdentities(ctx context.Context) ([]*registry.Identity, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityColumns+` FROM registry_identities ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list registry identities: %w", err)
	}
	defer rows.Close()
	var out []*registry.Identity
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("list registry identities: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
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
	return s.registryTx(ctx, "rotate the key of registry identity "+name, audit, func(tx *sql.Tx) error {
		cur, err := scanIdentity(tx.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM registry_identities WHERE name = ?`, name))
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO registry_retired_keys (key_id, name, algorithm, public_key, added_by, created_at, retired_at, retired_by, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, cur.KeyID, name, cur.Algorithm, cur.PublicKey, cur.AddedBy, cur.CreatedAt.UnixMicro(),
			next.CreatedAt.UnixMicro(), retiredBy, reason); err != nil {
			if isUnique(err) {
				return registry.ErrExists
			}
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE registry_identities SET key_id = ?, algorithm = ?, public_key = ?, added_by = ?, created_at = ?
			WHERE name = ?`, next.KeyID, next.Algorithm, next.PublicKey, next.AddedBy, next.CreatedAt.UnixMicro(), name)
		if isUnique(err) {
			return registry.ErrExists
		}
		return err
	})
}

// RemoveRegistryIdentity marks the identity removed.
func (s *Store) RemoveRegistryIdentity(ctx context.Context, name, by string, at time.Time, audit [][]byte) error {
	if at.IsZero() || at.UnixMicro() == 0 {
		return errors.New("remove registry identity: the time is required")
	}
	return s.registryTx(ctx, "remove registry identity "+name, audit, func(tx *sql.Tx) error {
		var removed int64
		err := tx.QueryRowContext(ctx, `SELECT removed_at FROM registry_identities WHERE name = ?`, name).Scan(&removed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return registry.ErrNotFound
		case err != nil:
			return err
		case removed != 0:
			return fmt.Errorf("%w: identity %s was removed already", registry.ErrConflict, name)
		}
		_, err = tx.ExecContext(ctx, `UPDATE registry_identities SET removed_at = ?, removed_by = ? WHERE name = ?`, at.UnixMicro(), by, name)
		return err
	})
}

const retiredColumns = `key_id, name, algorithm, public_key, added_by, created_at, retired_at, retired_by, reason`

func scanRetired(row scanner) (*registry.RetiredKey, error) {
	var k registry.RetiredKey
	var created, retired int64
	if err := row.Scan(&k.KeyID, &k.Name, &k.Algorithm, &k.PublicKey, &k.AddedBy, &created, &retired, &k.RetiredBy, &k.Reason); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, registry.ErrNotFound
		}
		return nil, err
	}
	k.CreatedAt, k.RetiredAt = time.UnixMicro(created).UTC(), time.UnixMicro(retired).UTC()
	return &k, nil
}

// RetiredRegistryKey returns the retired key, or registry.ErrNotFound.
func (s *Store) RetiredRegistryKey(ctx context.Context, keyID string) (*registry.RetiredKey, error) {
	k, err := scanRetired(s.db.QueryRowContext(ctx, `SELECT `+retiredColumns+` FROM registry_retired_keys WHERE key_id = ?`, keyID))
	if err != nil {
		return nil, fmt.Errorf("retired registry key %s: %w", keyID, err)
	}
	return k, nil
}

// ListRetiredRegistryKeys returns every retired key by identity name, then
// oldest retirement first.
func (s *Store) ListRetiredRegistryKeys(ctx context.Context) ([]*registry.RetiredKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+retiredColumns+` FROM registry_retired_keys ORDER BY name, retired_at, key_id`)
	if err != nil {
		return nil, fmt.Errorf("list retired registry keys: %w", err)
	}
	defer rows.Close()
	var out []*registry.RetiredKey
	for rows.Next() {
		k, err := scanRetired(rows)
		if err != nil {
			return nil, fmt.Errorf("list retired registry keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
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
	return s.registryTx(ctx, "create model version "+v.Target(), audit, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO model_versions (name, version, digest, files, signature, scan, lineage, stage, previous, pushed_by, pushed_at, stage_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.Name, v.Version, v.Digest, c.Files, c.Signature, c.Scan, c.Lineage, string(v.Stage), v.Previous, v.PushedBy,
			v.PushedAt.UnixMicro(), v.StageAt.UnixMicro())
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
func checkSigner(ctx context.Context, tx *sql.Tx, actor, keyID string) error {
	var removed int64
	err := tx.QueryRowContext(ctx, `SELECT removed_at FROM registry_identities WHERE name = ?`, actor).Scan(&removed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil // the foreign key refuses the action
	case err != nil:
		return err
	case removed != 0:
		return fmt.Errorf("%w: identity %s was removed", registry.ErrConflict, actor)
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM registry_retired_keys WHERE key_id = ?`, keyID).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("%w: key %s of %s was retired", registry.ErrConflict, keyID, actor)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

func insertAction(ctx context.Context, tx *sql.Tx, a *registry.Action) error {
	if err := checkSigner(ctx, tx, a.Actor, a.KeyID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO model_actions (id, kind, name, version, actor, key_id, statement, signature, request, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Kind, a.Name, a.Version, a.Actor, a.KeyID, a.Statement, a.Signature, a.Request, a.State, a.CreatedAt.UnixMicro())
	if isUnique(err) {
		return registry.ErrExists
	}
	return err
}

const versionColumns = `name, version, digest, files, signature, scan, lineage, stage, previous, pushed_by, pushed_at, stage_at`

func scanVersion(row scanner) (*registry.Version, error) {
	var (
		v               registry.Version
		c               regrows.Columns
		stage           string
		pushed, stageAt int64
	)
	err := row.Scan(&v.Name, &v.Version, &v.Digest, &c.Files, &c.Signature, &c.Scan, &c.Lineage, &stage, &v.Previous,
		&v.PushedBy, &pushed, &stageAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, registry.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v.Stage = registry.Stage(stage)
	v.PushedAt, v.StageAt = time.UnixMicro(pushed).UTC(), time.UnixMicro(stageAt).UTC()
	if err := regrows.Decode(&v, c); err != nil {
		return nil, err
	}
	return &v, nil
}

// ModelVersion returns one version, or registry.ErrNotFound.
func (s *Store) ModelVersion(ctx context.Context, name, version string) (*registry.Version, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM model_versions WHERE name = ? AND version = ?`, name, version))
	if err != nil {
		return nil, fmt.Errorf("model version %s@%s: %w", name, version, err)
	}
	return v, nil
}

// ListModelVersions returns the versions of a model (all models' when name
// is ""), by name and then newest first.
func (s *Store) ListModelVersions(ctx context.Context, name string) ([]*registry.Version, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionColumns+` FROM model_versions WHERE ? = '' OR name = ?
		ORDER BY name, pushed_at DESC, version DESC`, name, name)
	if err != nil {
		return nil, fmt.Errorf("list model versions: %w", err)
	}
	defer rows.Close()
	var out []*registry.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("list model versions: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list model versions: %w", err)
	}
	return out, nil
}

// ListModelActions returns the actions on a model (one version's when
// version is not ""), oldest first.
func (s *Store) ListModelActions(ctx context.Context, name, version string) ([]*registry.Action, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, name, version, actor, key_id, statement, signature, request, state, created_at
		FROM model_actions WHERE name = ? AND (? = '' OR version = ?) ORDER BY seq`, name, version, version)
	if err != nil {
		return nil, fmt.Errorf("list model actions: %w", err)
	}
	defer rows.Close()
	var out []*registry.Action
	for rows.Next() {
		var a registry.Action
		var created int64
		if err := rows.Scan(&a.ID, &a.Kind, &a.Name, &a.Version, &a.Actor, &a.KeyID, &a.Statement, &a.Signature,
			&a.Request, &a.State, &created); err != nil {
			return nil, fmt.Errorf("list model actions: %w", err)
		}
		a.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list model actions: %w", err)
	}
	return out, nil
}

// AddModelRequest stores a pending promotion request.
func (s *Store) AddModelRequest(ctx context.Context, req *registry.Action, audit [][]byte) error {
	if err := regrows.CheckAction(req); err != nil {
		return err
	}
	return s.registryTx(ctx, "add promotion request for "+req.Name+"@"+req.Version, audit, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM model_versions WHERE name = ? AND version = ?`, req.Name, req.Version).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
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
	return s.registryTx(ctx, "expire promotion request "+id, audit, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE model_actions SET state = 'expired' WHERE id = ? AND kind = 'request' AND state = 'pending'`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
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
	at := p.At.UnixMicro()
	return s.registryTx(ctx, "promote "+p.Name+"@"+p.Version, audit, func(tx *sql.Tx) error {
		var digest, stage string
		err := tx.QueryRowContext(ctx, `SELECT digest, stage FROM model_versions WHERE name = ? AND version = ?`, p.Name, p.Version).Scan(&digest, &stage)
		if errors.Is(err, sql.ErrNoRows) {
			return registry.ErrNotFound
		}
		if err != nil {
			return err
		}
		if digest != p.Digest || stage == string(registry.StageProduction) {
			return fmt.Errorf("%w: the version has digest %s and stage %s", registry.ErrConflict, digest, stage)
		}
		var prod string
		err = tx.QueryRowContext(ctx, `SELECT version FROM model_versions WHERE name = ? AND stage = 'production'`, p.Name).Scan(&prod)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if prod != p.Production {
			return fmt.Errorf("%w: the production version is %q, not %q", registry.ErrConflict, prod, p.Production)
		}
		res, err := tx.ExecContext(ctx, `UPDATE model_actions SET state = 'approved'
			WHERE id = ? AND kind = 'request' AND state = 'pending' AND name = ? AND version = ?`, p.Request, p.Name, p.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%w: request %s is not pending", registry.ErrConflict, p.Request)
		}
		var reqActor, reqKey string
		if err := tx.QueryRowContext(ctx, `SELECT actor, key_id FROM model_actions WHERE id = ?`, p.Request).Scan(&reqActor, &reqKey); err != nil {
			return err
		}
		if err := checkSigner(ctx, tx, reqActor, reqKey); err != nil {
			return fmt.Errorf("request %s: %w", p.Request, err)
		}
		if err := insertAction(ctx, tx, p.Approval); err != nil {
			return err
		}
		if prod != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET stage = 'retired', stage_at = ? WHERE name = ? AND version = ?`,
				at, p.Name, prod); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE model_versions SET stage = 'production', previous = ?, stage_at = ? WHERE name = ? AND version = ?`,
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
	at := rb.At.UnixMicro()
	return s.registryTx(ctx, "roll back "+rb.Name+"@"+rb.From, audit, func(tx *sql.Tx) error {
		var stage, previous, toStage string
		err := tx.QueryRowContext(ctx, `SELECT stage, previous FROM model_versions WHERE name = ? AND version = ?`, rb.Name, rb.From).Scan(&stage, &previous)
		if errors.Is(err, sql.ErrNoRows) {
			return registry.ErrNotFound
		}
		if err != nil {
			return err
		}
		if stage != string(registry.StageProduction) || previous != rb.To || rb.To == "" {
			return fmt.Errorf("%w: %s is %s with previous version %q", registry.ErrConflict, rb.From, stage, previous)
		}
		err = tx.QueryRowContext(ctx, `SELECT stage FROM model_versions WHERE name = ? AND version = ?`, rb.Name, rb.To).Scan(&toStage)
		if err != nil {
			return err
		}
		if toStage != string(registry.StageRetired) {
			return fmt.Errorf("%w: %s is %s, not retired", registry.ErrConflict, rb.To, toStage)
		}
		if err := insertAction(ctx, tx, rb.Action); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET stage = 'retired', stage_at = ? WHERE name = ? AND version = ?`,
			at, rb.Name, rb.From); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE model_versions SET stage = 'production', stage_at = ? WHERE name = ? AND version = ?`,
			at, rb.Name, rb.To)
		return err
	})
}

// ProductionModels returns every model's production version by name.
func (s *Store) ProductionModels(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, version FROM model_versions WHERE stage = 'production'`)
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
