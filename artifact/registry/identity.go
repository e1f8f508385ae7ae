package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Audit actions of identity administration (audit.Record.Action).
const (
	AuditIdentityRotate = "registry.identity.rotate"
	AuditIdentityRemove = "registry.identity.remove"
)

// MaxReason bounds the reason an administrator gives for a rotation or a
// removal, in bytes.
const MaxReason = 256

// checkReason refuses a reason that is too long, not UTF-8 or holds
// control characters (it is printed in tables and refusals).
func checkReason(reason string) error {
	if len(reason) > MaxReason || !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl) {
		return fmt.Errorf("reason: want at most %d bytes of UTF-8 without control characters", MaxReason)
	}
	return nil
}

// stamp formats a time for refusals.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// because renders an administrator and an optional reason: "alice" or
// "alice: key leaked".
func because(admin, reason string) string {
	if reason == "" {
		return admin
	}
	return admin + ": " + reason
}

// retiredRefusal refuses what, signed with the retired key k, adding
// hint.
func retiredRefusal(what string, k *RetiredKey, hint string) *Refusal {
	return refuse(RefusedKeyRetired, "%s signed with key %s, which was retired at %s (rotated by %s); %s",
		what, k.KeyID, stamp(k.RetiredAt), because(k.RetiredBy, k.Reason), hint)
}

// removedRefusal refuses what, by the removed identity id, adding hint.
func removedRefusal(what string, id *Identity, hint string) *Refusal {
	return refuse(RefusedIdentityRemoved, "%s by %s, an identity removed at %s by %s; %s",
		what, id.Name, stamp(id.RemovedAt), id.RemovedBy, hint)
}

// Identity returns the identity name (a removed one too), or nil when no
// identity has that name.
func (r *Registry) Identity(ctx context.Context, name string) (*Identity, error) {
	ids, err := r.store.ListRegistryIdentities(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id.Name == name {
			return id, nil
		}
	}
	return nil, nil
}

// adminFail returns a function auditing a refused identity administration
// action on name, by admin.
func (r *Registry) adminFail(ctx context.Context, action, name, admin string) func(*Refusal) error {
	return func(ref *Refusal) error {
		rec := record("", action, admin, "", "", r.now())
		rec.Target, rec.Model = name, ""
		return r.denied(ctx, rec, ref)
	}
}

// RotateKey replaces the key of the identity name with the public key in
// pubPEM (PEM PKIX, Ed25519 or ECDSA P-256) on behalf of admin, for
// reason (free text, may be empty). The old key is retired: statements
// signed with it are refused from now on (RefusedKeyRetired), pending
// requests signed with it can no longer be approved, and stored actions
// signed with it still verify against it (CheckAction). A removed
// identity, a key registered already and a retired key are refused.
func (r *Registry) RotateKey(ctx context.Context, name string, pubPEM []byte, admin, reason string) (*Identity, error) {
	fail := r.adminFail(ctx, AuditIdentityRotate, name, admin)
	if err := CheckIdentityName(name); err != nil {
		return nil, fail(refuse(RefusedInvalidRequest, "key rotation: identity %v", err))
	}
	if err := checkReason(reason); err != nil {
		return nil, fail(refuse(RefusedInvalidRequest, "key rotation of %s: %v", name, err))
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		return nil, fail(refuse(RefusedInvalidRequest, "key rotation of %s: %v", name, err))
	}
	cur, err := r.Identity(ctx, name)
	switch {
	case err != nil:
		return nil, err
	case cur == nil:
		return nil, fail(refuse(RefusedNotFound, "key rotation: identity %s is not registered", name))
	case cur.Removed():
		return nil, fail(removedRefusal("key rotation of an identity", cur, "a removed identity keeps its last key"))
	case cur.KeyID == pub.KeyID:
		return nil, fail(refuse(RefusedExists, "key rotation of %s: %s is its current key already; rotate to a new key", name, pub.KeyID))
	}
	now := r.now()
	next := &Identity{Name: name, KeyID: pub.KeyID, Algorithm: pub.Algorithm, PublicKey: pub.DER, AddedBy: admin, CreatedAt: now}
	rec := record("", AuditIdentityRotate, admin, "", "", now)
	rec.Target, rec.Model = name+" "+cur.KeyID+" -> "+pub.KeyID, ""
	p, err := encode(rec)
	if err != nil {
		return nil, err
	}
	err = r.store.RotateRegistryKey(ctx, name, next, admin, reason, p)
	switch {
	case errors.Is(err, ErrExists):
		return nil, fail(refuse(RefusedExists, "key rotation of %s: key %s is registered already or was retired (a retired key never comes back); use a new key", name, pub.KeyID))
	case errors.Is(err, ErrNotFound):
		return nil, fail(refuse(RefusedConflict, "key rotation of %s: the identity was removed meanwhile", name))
	case err != nil:
		return nil, err
	}
	return next, nil
}

// RemoveIdentity removes the identity name on behalf of admin, for reason
// (free text, may be empty; it is kept in the audit record). A removed
// identity's statements are refused (RefusedIdentityRemoved) and its
// pending requests can no longer be approved; its name stays taken, and
// its stored actions still verify. Removing an identity twice is refused.
func (r *Registry) RemoveIdentity(ctx context.Context, name, admin, reason string) (*Identity, error) {
	fail := r.adminFail(ctx, AuditIdentityRemove, name, admin)
	if err := CheckIdentityName(name); err != nil {
		return nil, fail(refuse(RefusedInvalidRequest, "removal: identity %v", err))
	}
	if err := checkReason(reason); err != nil {
		return nil, fail(refuse(RefusedInvalidRequest, "removal of %s: %v", name, err))
	}
	cur, err := r.Identity(ctx, name)
	switch {
	case err != nil:
		return nil, err
	case cur == nil:
		return nil, fail(refuse(RefusedNotFound, "removal: identity %s is not registered", name))
	case cur.Removed():
		return nil, fail(refuse(RefusedIdentityRemoved, "removal of %s: it was removed at %s by %s already", name, stamp(cur.RemovedAt), cur.RemovedBy))
	}
	now := r.now()
	rec := record("", AuditIdentityRemove, admin, "", "", now)
	rec.Target, rec.Model = name+" "+cur.KeyID, ""
	if reason != "" {
		rec.Target += " (" + reason + ")"
	}
	p, err := encode(rec)
	if err != nil {
		return nil, err
	}
	err = r.store.RemoveRegistryIdentity(ctx, name, admin, now, p)
	switch {
	case errors.Is(err, ErrConflict):
		return nil, fail(refuse(RefusedIdentityRemoved, "removal of %s: it was removed meanwhile", name))
	case errors.Is(err, ErrNotFound):
		return nil, fail(refuse(RefusedNotFound, "removal: identity %s is not registered", name))
	case err != nil:
		return nil, err
	}
	cur.RemovedAt, cur.RemovedBy = now, admin
	return cur, nil
}

// RetiredKeys returns every retired key, by identity name and then oldest
// first.
func (r *Registry) RetiredKeys(ctx context.Context) ([]*RetiredKey, error) {
	return r.store.ListRetiredRegistryKeys(ctx)
}

// Evidence is the outcome of checking a stored action's signature again
// (CheckAction).
type Evidence struct {
	// Verified is true when the statement and signature hold for the key
	// the action names, and that key is (or was) the actor's.
	Verified bool `json:"verified"`
	// KeyRetired is true when the key was rotated out since the action.
	KeyRetired bool `json:"key_retired,omitempty"`
	// ActorRemoved is true when the actor was removed since the action.
	ActorRemoved bool `json:"actor_removed,omitempty"`
	// Error says why the action did not verify.
	Error string `json:"error,omitempty"`
}

// CheckAction verifies a stored action against the key it was signed
// with: the actor's current key, or a key the actor held before a
// rotation. The error is a store failure; a failed check is in Evidence.
func (r *Registry) CheckAction(ctx context.Context, a *Action) (Evidence, error) {
	id, err := r.store.RegistryIdentityByKeyID(ctx, a.KeyID)
	var ev Evidence
	switch {
	case errors.Is(err, ErrNotFound):
		k, err := r.store.RetiredRegistryKey(ctx, a.KeyID)
		if errors.Is(err, ErrNotFound) {
			return Evidence{Error: fmt.Sprintf("action %s: key %s is neither an identity's key nor a retired key", a.ID, a.KeyID)}, nil
		}
		if err != nil {
			return Evidence{}, err
		}
		ev.KeyRetired = true
		id = k.Identity()
		if cur, err := r.Identity(ctx, k.Name); err != nil {
			return Evidence{}, err
		} else if cur != nil && cur.Removed() {
			ev.ActorRemoved = true
		}
	case err != nil:
		return Evidence{}, err
	default:
		ev.ActorRemoved = id.Removed()
	}
	if id.Name != a.Actor {
		ev.Error = fmt.Sprintf("action %s: key %s is %s's, not the actor %s's", a.ID, a.KeyID, id.Name, a.Actor)
		return ev, nil
	}
	if err := VerifyAction(a, id); err != nil {
		ev.Error = err.Error()
		return ev, nil
	}
	ev.Verified = true
	return ev, nil
}

// signerState returns the refusal that keeps the pending request req from
// being approved because its key was retired or its actor removed since,
// or nil.
func (r *Registry) signerState(ctx context.Context, req *Action, target string) (*Refusal, error) {
	what := fmt.Sprintf("request %s to promote %s", req.ID, target)
	id, err := r.store.RegistryIdentityByKeyID(ctx, req.KeyID)
	if errors.Is(err, ErrNotFound) {
		k, err := r.store.RetiredRegistryKey(ctx, req.KeyID)
		if errors.Is(err, ErrNotFound) {
			return refuse(RefusedUnknownKey, "%s was signed with key %s, which belongs to no identity; request the promotion again", what, req.KeyID), nil
		}
		if err != nil {
			return nil, err
		}
		return retiredRefusal(what+" was", k, "a request signed with a retired key cannot be approved: request the promotion again"), nil
	}
	if err != nil {
		return nil, err
	}
	if id.Removed() {
		return removedRefusal(what+" was made", id, "its requests cannot be approved: another identity must request the promotion again"), nil
	}
	return nil, nil
}
