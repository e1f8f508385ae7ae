// Package registry keeps the versions of models a deployment may serve:
// their digests, signature, scan result, lineage and stage (staging,
// production, retired), with two-person promotion to production.
//
// Every action is a small canonical JSON statement signed by the acting
// identity's private key (Ed25519 or ECDSA P-256) and verified against the
// public key an administrator registered for that identity; unknown keys
// are refused. An administrator can rotate an identity's key (the old key
// is retired for good: its statements, and pending requests it signed,
// are refused) or remove an identity (it can no longer act; its name stays
// taken); actions signed before still verify (CheckAction). A promotion needs a request by one identity and an approval
// of that request, bound to the version's digest, by another; the approval
// executes the promotion when the recorded scan has no high or critical
// finding and the model's signature verified. A rollback, signed by any
// registered identity and needing no approval, retires the production
// version and restores the one it replaced.
//
// Each change is stored together with its audit records in one
// transaction of the store, so the hash-chained audit log holds every
// action; refusals are audited too.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/finding"
)

// Stage is where a version is in its life.
type Stage string

// The stages. A pushed version starts in staging; at most one version of a
// model is in production; a version replaced in production or rolled back
// is retired.
const (
	StageStaging    Stage = "staging"
	StageProduction Stage = "production"
	StageRetired    Stage = "retired"
)

// Kinds of Action.
const (
	KindPush     = "push"
	KindRequest  = "request"
	KindApprove  = "approve"
	KindRollback = "rollback"
)

// Request states.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	// RequestExpired: nobody approved the request within
	// Options.RequestTTL; the version needs a new request.
	RequestExpired = "expired"
)

// Errors of a Store, wrapped with context.
var (
	// ErrNotFound: no such identity, version or request.
	ErrNotFound = errors.New("not found")
	// ErrExists: the identity name or key, the version, the statement
	// (a replay) or a pending request already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: the state a change expects no longer holds (another
	// action committed first).
	ErrConflict = errors.New("state changed concurrently")
)

// Identity is a name bound to a public key, registered by an
// administrator. Registry actions are signed with the matching private
// key. A rotation replaces the key (the old one is kept as a RetiredKey);
// a removal keeps the identity, marked removed, because stored actions
// name it.
type Identity struct {
	Name string `json:"name"`
	// KeyID is "sha256:" and the hex SHA-256 of the public key's PKIX DER
	// encoding.
	KeyID string `json:"key_id"`
	// Algorithm is "ed25519" or "ecdsa-p256".
	Algorithm string `json:"algorithm"`
	// PublicKey is the PKIX DER encoding of the key.
	PublicKey []byte `json:"public_key"`
	// AddedBy and CreatedAt say who bound the current key to the name,
	// and when: at registration, or at the last rotation.
	AddedBy   string    `json:"added_by"`
	CreatedAt time.Time `json:"created_at"`
	// RemovedAt is when an administrator removed the identity, zero while
	// it is active; RemovedBy names the administrator.
	RemovedAt time.Time `json:"removed_at,omitzero"`
	RemovedBy string    `json:"removed_by,omitempty"`
}

// Removed reports whether the identity was removed.
func (id *Identity) Removed() bool { return !id.RemovedAt.IsZero() }

// RetiredKey is a key an identity held before a rotation. It never
// becomes any identity's key again; stored actions signed with it still
// verify against it.
type RetiredKey struct {
	KeyID     string    `json:"key_id"`
	Name      string    `json:"name"`
	Algorithm string    `json:"algorithm"`
	PublicKey []byte    `json:"public_key"`
	AddedBy   string    `json:"added_by"`
	CreatedAt time.Time `json:"created_at"`
	// RetiredAt is when the key was rotated out, by the administrator
	// RetiredBy, for Reason (free text, may be empty).
	RetiredAt time.Time `json:"retired_at"`
	RetiredBy string    `json:"retired_by"`
	Reason    string    `json:"reason,omitempty"`
}

// Identity returns the identity as it was while k was its key, for
// VerifyAction.
func (k *RetiredKey) Identity() *Identity {
	return &Identity{Name: k.Name, KeyID: k.KeyID, Algorithm: k.Algorithm, PublicKey: k.PublicKey, AddedBy: k.AddedBy, CreatedAt: k.CreatedAt}
}

// File is one file of a model folder.
type File struct {
	// Path is relative to the folder, with forward slashes.
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// SignatureInfo is the outcome of verifying a model folder's signature.
type SignatureInfo struct {
	// Verified is true when the signature is valid for the folder's files.
	Verified bool `json:"verified"`
	// Signer names who signed, as the verifier reports it (a key
	// fingerprint or an identity).
	Signer string `json:"signer,omitempty"`
	// Error says why the signature did not verify.
	Error string `json:"error,omitempty"`
}

// Scan is the scan result recorded with a version.
type Scan struct {
	// Source is "registry" when the registry scanned the files itself, or
	// "supplied by NAME" for a report the pusher gave (and signed the
	// digest of).
	Source string `json:"source,omitempty"`
	// Error says why there is no report (no scanner, or it failed).
	Error string `json:"error,omitempty"`
	// MaxSeverity is the highest severity found, "" when none.
	MaxSeverity string `json:"max_severity,omitempty"`
	// Findings is the number of findings.
	Findings int `json:"findings"`
	// Report is the report as finding.WriteJSON writes it, compacted; it
	// is left out when larger than MaxReport.
	Report json.RawMessage `json:"report,omitempty"`
}

// Version is one pushed version of a model.
type Version struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Digest is "sha256:" and the hex SHA-256 of the file list's canonical
	// JSON (see DigestDir); it names the exact files.
	Digest    string        `json:"digest"`
	Files     []File        `json:"files"`
	Signature SignatureInfo `json:"signature"`
	Scan      Scan          `json:"scan"`
	// Lineage is free-form: the dataset manifests the model was trained
	// on, and anything else the pusher wants to record.
	Lineage []string `json:"lineage"`
	Stage   Stage    `json:"stage"`
	// Previous is the version that was in production when this one was
	// promoted; a rollback restores it.
	Previous string    `json:"previous,omitempty"`
	PushedBy string    `json:"pushed_by"`
	PushedAt time.Time `json:"pushed_at"`
	// StageAt is when the version entered its current stage.
	StageAt time.Time `json:"stage_at"`
}

// Target is the version's name in audit records: "name@version".
func (v *Version) Target() string { return v.Name + "@" + v.Version }

// Action is a signed statement the registry accepted, as stored.
type Action struct {
	// ID is "act_" and 32 hex digits of the statement's SHA-256: a
	// statement is accepted once. It is also the id of the action's
	// audit record.
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Actor   string `json:"actor"`
	KeyID   string `json:"key_id"`
	// Statement and Signature are what the actor signed, kept as
	// evidence (VerifyAction checks them again).
	Statement []byte `json:"statement"`
	Signature []byte `json:"signature"`
	// Request is the id of the request an approval approves.
	Request string `json:"request,omitempty"`
	// State is a request's state: pending or approved.
	State     string    `json:"state,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Promotion makes a staging or retired version the production version of
// its model: the store closes the pending request as approved, records the
// approval, retires the current production version and promotes, in one
// transaction, failing with ErrConflict unless the expected state holds.
type Promotion struct {
	Name, Version string
	// Digest must still be the version's digest.
	Digest string
	// Request is the id of the pending request approved.
	Request string
	// Approval is stored.
	Approval *Action
	// Production is the version expected in production now ("" for
	// none); it is retired and recorded as the new version's Previous.
	Production string
	At         time.Time
}

// Rollback retires the production version From and restores To, which
// must be From's Previous and retired; the store fails with ErrConflict
// otherwise.
type Rollback struct {
	Name     string
	From, To string
	Action   *Action
	At       time.Time
}

// Store persists the registry. Each change is committed in one
// transaction together with the audit payloads given (audit.Encode of the
// records), linked onto the audit chain, so a change never exists without
// its audit records. SQLite and PostgreSQL implement it (package store).
type Store interface {
	audit.Store
	// AddRegistryIdentity stores id; ErrExists when its name is taken
	// (by a removed identity too) or its key is an identity's key or a
	// retired key.
	AddRegistryIdentity(ctx context.Context, id *Identity, audit [][]byte) error
	// RegistryIdentityByKeyID returns the identity whose current key it
	// is (a removed one too, with RemovedAt set), or ErrNotFound.
	RegistryIdentityByKeyID(ctx context.Context, keyID string) (*Identity, error)
	// ListRegistryIdentities returns every identity by name, removed ones
	// included.
	ListRegistryIdentities(ctx context.Context) ([]*Identity, error)
	// RotateRegistryKey retires the current key of the identity name
	// (keeping it as a RetiredKey with retiredBy and reason, retired at
	// next.CreatedAt) and gives the identity next's KeyID, Algorithm,
	// PublicKey, AddedBy and CreatedAt, in one transaction. ErrNotFound
	// when there is no such identity or it was removed; ErrExists when
	// next's key is an identity's key or a retired key.
	RotateRegistryKey(ctx context.Context, name string, next *Identity, retiredBy, reason string, audit [][]byte) error
	// RemoveRegistryIdentity marks the identity name removed by by at at.
	// ErrNotFound when there is no such identity, ErrConflict when it was
	// removed already.
	RemoveRegistryIdentity(ctx context.Context, name, by string, at time.Time, audit [][]byte) error
	// RetiredRegistryKey returns the retired key, or ErrNotFound.
	RetiredRegistryKey(ctx context.Context, keyID string) (*RetiredKey, error)
	// ListRetiredRegistryKeys returns every retired key, by identity name
	// and then oldest retirement first.
	ListRetiredRegistryKeys(ctx context.Context) ([]*RetiredKey, error)
	// CreateModelVersion stores v (in staging) and its push action;
	// ErrExists when the name and version, or the action, exist.
	CreateModelVersion(ctx context.Context, v *Version, push *Action, audit [][]byte) error
	// ModelVersion returns one version, or ErrNotFound.
	ModelVersion(ctx context.Context, name, version string) (*Version, error)
	// ListModelVersions returns the versions of the model name (all
	// models when name is ""), by name and then newest first.
	ListModelVersions(ctx context.Context, name string) ([]*Version, error)
	// ListModelActions returns the actions on a model (on one version
	// when version is not ""), oldest first.
	ListModelActions(ctx context.Context, name, version string) ([]*Action, error)
	// ExpireModelRequest closes the pending request id as expired;
	// ErrConflict when it is not pending (approved or expired already).
	ExpireModelRequest(ctx context.Context, id string, audit [][]byte) error
	// AddModelRequest stores a pending promotion request; ErrExists when
	// the version has one pending already or the action exists, and
	// ErrNotFound when the version does not exist.
	AddModelRequest(ctx context.Context, req *Action, audit [][]byte) error
	// PromoteModel applies p (see Promotion).
	PromoteModel(ctx context.Context, p *Promotion, audit [][]byte) error
	// RollbackModel applies rb (see Rollback).
	RollbackModel(ctx context.Context, rb *Rollback, audit [][]byte) error
	// ProductionModels returns the production version of every model that
	// has one, by model name.
	ProductionModels(ctx context.Context) (map[string]string, error)
}

// Scanner scans a model folder (the `rampart scan model` driver).
type Scanner func(ctx context.Context, dir string) (*finding.Report, error)

// Verifier verifies the signature file sig of the model folder dir. An
// error means the signature is missing or invalid; it is recorded, and the
// version cannot be promoted.
type Verifier func(ctx context.Context, dir, sig string) (SignatureInfo, error)

// Options configure a Registry. The zero value is usable: nothing is
// scanned or verified then, so nothing can be promoted.
type Options struct {
	// Scanner scans pushed folders when the pusher gives no report.
	Scanner Scanner
	// Verifier verifies pushed folders' signatures.
	Verifier Verifier
	// Clock defaults to time.Now.
	Clock func() time.Time
	// MaxSkew bounds how far a statement's issued_at may be from the
	// registry's clock, default 5 minutes.
	MaxSkew time.Duration
	// RequestTTL is how long a promotion request waits for an approval,
	// default DefaultRequestTTL; a negative value means requests never
	// expire. An approval of an expired request is refused, and a new
	// request replaces it.
	RequestTTL time.Duration
}

// DefaultMaxSkew is the default of Options.MaxSkew.
const DefaultMaxSkew = 5 * time.Minute

// DefaultRequestTTL is the default of Options.RequestTTL: a week, so an
// approval given long after the request, when what was reviewed may no
// longer be what anyone remembers, has to start from a new request.
const DefaultRequestTTL = 7 * 24 * time.Hour

// Registry applies the registry's rules over a Store.
type Registry struct {
	store Store
	opts  Options
}

// New returns a Registry over s.
func New(s Store, opts Options) *Registry {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = DefaultMaxSkew
	}
	if opts.RequestTTL == 0 {
		opts.RequestTTL = DefaultRequestTTL
	}
	return &Registry{store: s, opts: opts}
}

// Refusal is the error of a refused action. It is audited.
type Refusal struct {
	// Code is stable, e.g. "same_identity", "no_approval",
	// "scan_blocking" (see the constants Refused*).
	Code string
	// Reason is a sentence naming what was refused and why.
	Reason string
}

// Refusal codes.
const (
	RefusedMalformed      = "malformed_statement"
	RefusedUnknownKey     = "unknown_key"
	RefusedBadSignature   = "bad_signature"
	RefusedStale          = "stale_statement"
	RefusedReplay         = "replayed_statement"
	RefusedWrongAction    = "wrong_action"
	RefusedNotFound       = "not_found"
	RefusedExists         = "exists"
	RefusedDigest         = "digest_mismatch"
	RefusedStage          = "wrong_stage"
	RefusedScanMissing    = "scan_missing"
	RefusedScanBlocking   = "scan_blocking"
	RefusedUnsigned       = "signature_invalid"
	RefusedNoApproval     = "no_approval"
	RefusedNoRequest      = "no_request"
	RefusedSameIdentity   = "same_identity"
	RefusedNoProduction   = "no_production"
	RefusedNoPrevious     = "no_previous"
	RefusedConflict       = "conflict"
	RefusedFilesChanged   = "files_changed"
	RefusedInvalidRequest = "invalid"
	RefusedExpired        = "request_expired"
	// RefusedKeyRetired: the statement, or the request approved, was
	// signed with a key rotated out since.
	RefusedKeyRetired = "key_retired"
	// RefusedIdentityRemoved: the statement, or the request approved, is
	// by an identity removed since.
	RefusedIdentityRemoved = "identity_removed"
)

func (e *Refusal) Error() string { return "refused: " + e.Reason }

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// RefusalCode returns the code of a Refusal in err's chain, or "".
func RefusalCode(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}
