package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/finding"
)

// Audit actions of the registry (audit.Record.Action).
const (
	AuditIdentityAdd    = "registry.identity.add"
	AuditPush           = "registry.push"
	AuditPromoteRequest = "registry.promote.request"
	AuditRequestExpire  = "registry.promote.expire"
	AuditApprove        = "registry.approve"
	AuditPromote        = "registry.promote"
	AuditRetire         = "registry.retire"
	AuditRollback       = "registry.rollback"
	AuditRestore        = "registry.restore"
)

// MaxReport bounds a scan report kept with a version (and one a pusher
// supplies).
const MaxReport = 4 << 20

// now returns the registry's time, to the microsecond the stores keep.
func (r *Registry) now() time.Time {
	return r.opts.Clock().UTC().Truncate(time.Microsecond)
}

// verify parses the signed statement, finds the identity of its key and
// checks the signature and the issue time. With the error it returns the
// audit subject it could make out.
func (r *Registry) verify(ctx context.Context, s SignedStatement, action string) (*Statement, *Identity, string, error) {
	st, err := ParseStatement(s.Statement)
	if err != nil {
		return nil, nil, "unauthenticated", refuse(RefusedMalformed, "malformed %s statement: %v", action, err)
	}
	if st.Action != action {
		return st, nil, "unauthenticated", refuse(RefusedWrongAction, "a %s statement was given for a %s", st.Action, action)
	}
	id, err := r.store.RegistryIdentityByKeyID(ctx, st.KeyID)
	var retired *RetiredKey
	if errors.Is(err, ErrNotFound) {
		// Not an identity's key: a retired key is refused as such, once
		// the signature shows the statement is really by that key.
		retired, err = r.store.RetiredRegistryKey(ctx, st.KeyID)
		if errors.Is(err, ErrNotFound) {
			return st, nil, "key " + st.KeyID, refuse(RefusedUnknownKey, "%s by key %s, which belongs to no registered identity", action, st.KeyID)
		}
		if err != nil {
			return st, nil, "", err
		}
		id = retired.Identity()
	}
	if err != nil {
		return st, nil, "", err
	}
	pub, err := ParsePublicKeyDER(id.PublicKey)
	if err != nil {
		return st, nil, "", fmt.Errorf("identity %s: %w", id.Name, err)
	}
	if pub.KeyID != st.KeyID || !pub.verify(signingMessage(s.Statement), s.Signature) {
		return st, nil, "unverified " + id.Name, refuse(RefusedBadSignature, "%s statement signature does not verify with %s's key", action, id.Name)
	}
	switch {
	case retired != nil:
		return st, nil, id.Name, retiredRefusal(action+" statement", retired, "sign with "+id.Name+"'s current key")
	case id.Removed():
		return st, nil, id.Name, removedRefusal(action+" statement", id, "a removed identity can no longer act")
	}
	issued, _ := st.issued() // checked by ParseStatement
	if d := r.now().Sub(issued); d > r.opts.MaxSkew || d < -r.opts.MaxSkew {
		return st, nil, id.Name, refuse(RefusedStale, "%s statement by %s was issued at %s, more than %s from the registry's clock", action, id.Name, st.IssuedAt, r.opts.MaxSkew)
	}
	return st, id, id.Name, nil
}

// record returns an audit record of the registry.
func record(id, action, subject, model, version string, at time.Time) audit.Record {
	if id == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = "adm_" + hex.EncodeToString(b[:])
	}
	target := model
	if version != "" {
		target += "@" + version
	}
	return audit.Record{
		ID: id, Time: at, Kind: audit.KindAdmin, Action: action, Target: target, Subject: subject,
		Model: model, Decision: "allow", Status: http.StatusOK,
	}
}

func encode(recs ...audit.Record) ([][]byte, error) {
	out := make([][]byte, len(recs))
	for i, rec := range recs {
		p, err := audit.Encode(rec)
		if err != nil {
			return nil, fmt.Errorf("audit %s: %w", rec.Action, err)
		}
		out[i] = p
	}
	return out, nil
}

// refused audits a refusal and returns it (or ref wrapped with the audit
// failure).
func (r *Registry) refused(ctx context.Context, action, subject string, st *Statement, ref *Refusal) error {
	model, version := "", ""
	if st != nil {
		model, version = st.Model, st.Version
	}
	return r.denied(ctx, record("", action, subject, model, version, r.now()), ref)
}

// denied writes rec as the audit record of the refusal ref and returns ref
// (or ref wrapped with the audit failure).
func (r *Registry) denied(ctx context.Context, rec audit.Record, ref *Refusal) error {
	rec.Decision, rec.Status, rec.Error = "denied", http.StatusForbidden, ref.Error()
	p, err := encode(rec)
	if err == nil {
		_, err = r.store.AppendAudit(context.WithoutCancel(ctx), p)
	}
	if err != nil {
		return fmt.Errorf("%w (its audit record was not written: %v)", ref, err)
	}
	return ref
}

// fail audits err when it is a Refusal and returns it.
func (r *Registry) fail(ctx context.Context, action, subject string, st *Statement, err error) error {
	var ref *Refusal
	if errors.As(err, &ref) {
		return r.refused(ctx, action, subject, st, ref)
	}
	return err
}

// perform verifies s as a statement of action and performs it with do; it
// audits a refusal by either as auditAction.
func perform[T any](ctx context.Context, r *Registry, s SignedStatement, action, auditAction string, do func(*Statement, *Identity) (T, error)) (T, error) {
	st, id, subject, err := r.verify(ctx, s, action)
	if err == nil {
		var res T
		if res, err = do(st, id); err == nil {
			return res, nil
		}
	}
	var zero T
	return zero, r.fail(ctx, auditAction, subject, st, err)
}

// AddIdentity registers the identity name with the public key in pubPEM
// (PEM PKIX, Ed25519 or ECDSA P-256) on behalf of admin. A name or key
// registered already is refused.
func (r *Registry) AddIdentity(ctx context.Context, name string, pubPEM []byte, admin string) (*Identity, error) {
	fail := func(ref *Refusal) error {
		rec := record("", AuditIdentityAdd, admin, "", "", r.now())
		rec.Target, rec.Model = name, ""
		return r.denied(ctx, rec, ref)
	}
	if err := CheckIdentityName(name); err != nil {
		return nil, fail(refuse(RefusedInvalidRequest, "identity %v", err))
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		return nil, fail(refuse(RefusedInvalidRequest, "identity %s: %v", name, err))
	}
	id := &Identity{Name: name, KeyID: pub.KeyID, Algorithm: pub.Algorithm, PublicKey: pub.DER, AddedBy: admin, CreatedAt: r.now()}
	rec := record("", AuditIdentityAdd, admin, "", "", id.CreatedAt)
	rec.Target, rec.Model = name+" "+pub.KeyID, ""
	p, err := encode(rec)
	if err != nil {
		return nil, err
	}
	err = r.store.AddRegistryIdentity(ctx, id, p)
	if errors.Is(err, ErrExists) {
		return nil, fail(refuse(RefusedExists, "identity %s: the name or the key %s is registered already", name, pub.KeyID))
	}
	if err != nil {
		return nil, err
	}
	return id, nil
}

// Identities returns every registered identity.
func (r *Registry) Identities(ctx context.Context) ([]*Identity, error) {
	return r.store.ListRegistryIdentities(ctx)
}

// PushInput is what a push reads besides its statement.
type PushInput struct {
	// Dir is the model folder.
	Dir string
	// Signature is the model's signature file, default Dir/model.sig.
	Signature string
	// Report, when not nil, is a scan report (finding JSON) the pusher
	// supplies instead of the registry's own scan; the push statement must
	// carry its SHA-256.
	Report []byte
	// Manifest, when not nil, is DigestDir's result for Dir, computed by
	// the caller in this process (to sign its digest): the registry uses
	// it instead of hashing the files again, after checking that no file
	// changed size or modification time since.
	Manifest *Manifest
}

// Push records a new version in staging: it hashes the folder (the digest
// must be the statement's), takes the supplied report or scans the folder
// with the Scanner, verifies the signature with the Verifier, and checks
// that no file changed meanwhile. A version that has no scan result, a
// high or critical finding or an invalid signature is still recorded (in
// staging), but cannot be promoted.
func (r *Registry) Push(ctx context.Context, s SignedStatement, in PushInput) (*Version, error) {
	return perform(ctx, r, s, ActionPush, AuditPush, func(st *Statement, id *Identity) (*Version, error) {
		return r.push(ctx, s, st, id, in)
	})
}

func (r *Registry) push(ctx context.Context, s SignedStatement, st *Statement, id *Identity, in PushInput) (*Version, error) {
	target := st.Model + "@" + st.Version
	if _, err := r.store.ModelVersion(ctx, st.Model, st.Version); err == nil {
		return nil, refuse(RefusedExists, "%s exists already; a version is pushed once", target)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	m := in.Manifest
	if m != nil && m.stat != nil {
		if err := m.Unchanged(ctx, in.Dir); err != nil {
			if errors.Is(err, errChanged) {
				return nil, refuse(RefusedFilesChanged, "push of %s: %v", target, err)
			}
			return nil, refuse(RefusedInvalidRequest, "push of %s: %v", target, err)
		}
	} else {
		var err error
		if m, err = DigestDir(ctx, in.Dir); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return nil, refuse(RefusedInvalidRequest, "push of %s: %v", target, err)
		}
	}
	if m.Digest != st.Digest {
		return nil, refuse(RefusedDigest, "push of %s: the folder's digest is %s, but %s signed %s", target, m.Digest, id.Name, st.Digest)
	}
	scan, err := r.scan(ctx, st, id, in)
	if err != nil {
		return nil, err
	}
	sig := r.verifySignature(ctx, in)
	if err := m.Unchanged(ctx, in.Dir); err != nil {
		if errors.Is(err, errChanged) {
			return nil, refuse(RefusedFilesChanged, "push of %s: %v", target, err)
		}
		return nil, err
	}
	now := r.now()
	v := &Version{
		Name: st.Model, Version: st.Version, Digest: m.Digest, Files: m.Files, Signature: sig, Scan: scan,
		Lineage: st.Lineage, Stage: StageStaging, PushedBy: id.Name, PushedAt: now, StageAt: now,
	}
	if v.Lineage == nil {
		v.Lineage = []string{}
	}
	act := newAction(s, st, id, KindPush, now)
	p, err := encode(record(act.ID, AuditPush, id.Name, v.Name, v.Version, now))
	if err != nil {
		return nil, err
	}
	if err := r.store.CreateModelVersion(ctx, v, act, p); err != nil {
		switch {
		case errors.Is(err, ErrExists):
			return nil, refuse(RefusedExists, "%s exists already, or this statement was used before", target)
		case errors.Is(err, ErrConflict):
			return nil, refuse(RefusedConflict, "push of %s: %v", target, err)
		}
		return nil, err
	}
	return v, nil
}

func newAction(s SignedStatement, st *Statement, id *Identity, kind string, now time.Time) *Action {
	return &Action{
		ID: actionID(s.Statement), Kind: kind, Name: st.Model, Version: st.Version, Actor: id.Name, KeyID: id.KeyID,
		Statement: s.Statement, Signature: s.Signature, CreatedAt: now,
	}
}

// scan returns the version's scan result: the supplied report, or the
// Scanner's.
func (r *Registry) scan(ctx context.Context, st *Statement, id *Identity, in PushInput) (Scan, error) {
	target := st.Model + "@" + st.Version
	var rep *finding.Report
	var sc Scan
	switch {
	case in.Report != nil:
		sum := sha256.Sum256(in.Report)
		if got := "sha256:" + hex.EncodeToString(sum[:]); got != st.Report {
			return Scan{}, refuse(RefusedDigest, "push of %s: the supplied report's digest is %s, but %s signed %q", target, got, id.Name, st.Report)
		}
		var err error
		if rep, err = ReadReport(bytes.NewReader(in.Report)); err != nil {
			return Scan{}, refuse(RefusedInvalidRequest, "push of %s: supplied scan report: %v", target, err)
		}
		sc.Source = "supplied by " + id.Name
	case st.Report != "":
		return Scan{}, refuse(RefusedInvalidRequest, "push of %s: the statement names a scan report, but none was given", target)
	case r.opts.Scanner == nil:
		return Scan{Error: "no model scanner is configured"}, nil
	default:
		var err error
		rep, err = r.opts.Scanner(ctx, in.Dir)
		if err != nil {
			if ctx.Err() != nil {
				return Scan{}, err
			}
			return Scan{Error: "scan failed: " + err.Error()}, nil
		}
		if rep == nil {
			return Scan{Error: "the scanner returned no report"}, nil
		}
		sc.Source = "registry"
	}
	sc.Findings = len(rep.Findings)
	if m, ok := rep.Max(); ok {
		sc.MaxSeverity = m.String()
	}
	var buf bytes.Buffer
	if err := finding.WriteJSON(&buf, rep); err != nil {
		return Scan{Source: sc.Source, Error: "the report is invalid: " + err.Error()}, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, buf.Bytes()); err != nil {
		return Scan{}, fmt.Errorf("scan report: %w", err)
	}
	if compact.Len() <= MaxReport {
		sc.Report = compact.Bytes()
	}
	return sc, nil
}

// ReadReport reads a finding JSON report of at most MaxReport bytes.
func ReadReport(rd io.Reader) (*finding.Report, error) {
	b, err := io.ReadAll(io.LimitReader(rd, MaxReport+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxReport {
		return nil, fmt.Errorf("the report exceeds %d bytes", MaxReport)
	}
	return finding.ReadJSON(bytes.NewReader(b))
}

func (r *Registry) verifySignature(ctx context.Context, in PushInput) SignatureInfo {
	if r.opts.Verifier == nil {
		return SignatureInfo{Error: "no signature verifier is configured"}
	}
	sig := in.Signature
	if sig == "" {
		sig = filepath.Join(in.Dir, SignatureFile)
	}
	info, err := r.opts.Verifier(ctx, in.Dir, sig)
	if err != nil {
		return SignatureInfo{Signer: info.Signer, Error: err.Error()}
	}
	if !info.Verified && info.Error == "" {
		info.Error = "the signature did not verify"
	}
	return info
}

// Gate returns the refusal that keeps v from production, or nil: v must
// not be in production already, its scan must have run and found nothing
// high or critical, and its signature must have verified.
func Gate(v *Version) *Refusal {
	t := v.Target()
	switch {
	case v.Stage == StageProduction:
		return refuse(RefusedStage, "%s is in production already", t)
	case v.Scan.Error != "" || v.Scan.Source == "":
		why := v.Scan.Error
		if why == "" {
			why = "not scanned"
		}
		return refuse(RefusedScanMissing, "%s has no scan result (%s); promotion needs a scan with no high or critical finding", t, why)
	}
	if sev, err := finding.ParseSeverity(v.Scan.MaxSeverity); v.Scan.MaxSeverity != "" && (err != nil || sev >= finding.High) {
		return refuse(RefusedScanBlocking, "%s has a %s finding in its scan (%d findings); promotion needs a scan with no high or critical finding", t, v.Scan.MaxSeverity, v.Scan.Findings)
	}
	if !v.Signature.Verified {
		return refuse(RefusedUnsigned, "the signature of %s did not verify (%s)", t, v.Signature.Error)
	}
	return nil
}

// pendingRequest returns the version's pending request, or nil.
func (r *Registry) pendingRequest(ctx context.Context, name, version string) (*Action, error) {
	acts, err := r.store.ListModelActions(ctx, name, version)
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		if a.Kind == KindRequest && a.State == RequestPending {
			return a, nil
		}
	}
	return nil, nil
}

// expired reports whether the pending request req has waited longer than
// Options.RequestTTL at now, and when it expired.
func (r *Registry) expired(req *Action, now time.Time) (bool, time.Time) {
	if r.opts.RequestTTL < 0 {
		return false, time.Time{}
	}
	at := req.CreatedAt.Add(r.opts.RequestTTL)
	return !now.Before(at), at
}

// expire closes the pending request req as expired, with an audit record
// naming the registry (no identity acted: time did) as its subject.
func (r *Registry) expire(ctx context.Context, req *Action, now time.Time) error {
	rec := record("", AuditRequestExpire, "registry", req.Name, req.Version, now)
	rec.Target += " " + req.ID
	p, err := encode(rec)
	if err != nil {
		return err
	}
	err = r.store.ExpireModelRequest(ctx, req.ID, p)
	if errors.Is(err, ErrConflict) {
		return nil // approved or expired by another process meanwhile
	}
	return err
}

// RequestPromotion records the statement's actor's request to promote a
// version to production. The version must pass Gate. Nothing is promoted
// yet: an identity other than the requester must approve the request
// (Approve). While a request is pending, another promotion of the version
// is refused for want of an approval.
func (r *Registry) RequestPromotion(ctx context.Context, s SignedStatement) (*Action, error) {
	return perform(ctx, r, s, ActionPromote, AuditPromoteRequest, func(st *Statement, id *Identity) (*Action, error) {
		return r.requestPromotion(ctx, s, st, id)
	})
}

func (r *Registry) requestPromotion(ctx context.Context, s SignedStatement, st *Statement, id *Identity) (*Action, error) {
	v, err := r.versionFor(ctx, st)
	if err != nil {
		return nil, err
	}
	if ref := Gate(v); ref != nil {
		return nil, ref
	}
	waiting := func(req *Action) error {
		return refuse(RefusedNoApproval, "promotion of %s has no approval: request %s by %s is waiting for an approval by an identity other than %s",
			v.Target(), req.ID, req.Actor, req.Actor)
	}
	pending, err := r.pendingRequest(ctx, v.Name, v.Version)
	if err != nil {
		return nil, err
	}
	now := r.now()
	if pending != nil {
		// A pending request stands until it expires, unless its key was
		// retired or its actor removed since: it cannot be approved then,
		// and this request replaces it.
		ref, err := r.signerState(ctx, pending, v.Target())
		if err != nil {
			return nil, err
		}
		if old, _ := r.expired(pending, now); !old && ref == nil {
			return nil, waiting(pending)
		}
		if err := r.expire(ctx, pending, now); err != nil {
			return nil, err
		}
	}
	a := newAction(s, st, id, KindRequest, now)
	a.State = RequestPending
	p, err := encode(record(a.ID, AuditPromoteRequest, id.Name, v.Name, v.Version, now))
	if err != nil {
		return nil, err
	}
	if err := r.store.AddModelRequest(ctx, a, p); err != nil {
		if errors.Is(err, ErrExists) {
			if pending, perr := r.pendingRequest(ctx, v.Name, v.Version); perr == nil && pending != nil {
				return nil, waiting(pending)
			}
			return nil, refuse(RefusedReplay, "this promotion statement was used before")
		}
		if errors.Is(err, ErrConflict) {
			return nil, refuse(RefusedConflict, "promotion request of %s: %v", v.Target(), err)
		}
		return nil, err
	}
	return a, nil
}

// versionFor returns the version a statement names, refusing one that
// does not exist or whose digest is not the statement's.
func (r *Registry) versionFor(ctx context.Context, st *Statement) (*Version, error) {
	v, err := r.store.ModelVersion(ctx, st.Model, st.Version)
	if errors.Is(err, ErrNotFound) {
		return nil, refuse(RefusedNotFound, "%s@%s is not in the registry", st.Model, st.Version)
	}
	if err != nil {
		return nil, err
	}
	if v.Digest != st.Digest {
		return nil, refuse(RefusedDigest, "%s has digest %s, but the statement names %s", v.Target(), v.Digest, st.Digest)
	}
	return v, nil
}

// Approve records the statement's actor's approval of a pending promotion
// request and, in the same transaction, promotes the version: the version
// in production is retired. The approver must be another identity than
// the requester (another name and another key), the approval must name
// the request and the version's digest, and the version must pass Gate.
func (r *Registry) Approve(ctx context.Context, s SignedStatement) (*Version, error) {
	return perform(ctx, r, s, ActionApprove, AuditApprove, func(st *Statement, id *Identity) (*Version, error) {
		return r.approve(ctx, s, st, id)
	})
}

func (r *Registry) approve(ctx context.Context, s SignedStatement, st *Statement, id *Identity) (*Version, error) {
	v, err := r.versionFor(ctx, st)
	if err != nil {
		return nil, err
	}
	acts, err := r.store.ListModelActions(ctx, v.Name, v.Version)
	if err != nil {
		return nil, err
	}
	var req *Action
	for _, a := range acts {
		if a.ID == st.Request && a.Kind == KindRequest {
			req = a
		}
	}
	switch {
	case req == nil:
		return nil, refuse(RefusedNoRequest, "approval of %s names request %s, which is not a promotion request of that version", v.Target(), st.Request)
	case req.State == RequestExpired:
		return nil, refuse(RefusedExpired, "request %s to promote %s expired without an approval; request the promotion again", req.ID, v.Target())
	case req.State != RequestPending:
		return nil, refuse(RefusedNoRequest, "request %s to promote %s was approved already", req.ID, v.Target())
	}
	if ref, err := r.signerState(ctx, req, v.Target()); err != nil {
		return nil, err
	} else if ref != nil {
		if err := r.expire(ctx, req, r.now()); err != nil {
			return nil, err
		}
		return nil, ref
	}
	if old, at := r.expired(req, r.now()); old {
		if err := r.expire(ctx, req, r.now()); err != nil {
			return nil, err
		}
		return nil, refuse(RefusedExpired, "request %s to promote %s expired at %s (requests wait %s for an approval); request the promotion again",
			req.ID, v.Target(), at.UTC().Format(time.RFC3339), r.opts.RequestTTL)
	}
	reqSt, err := ParseStatement(req.Statement)
	if err != nil {
		return nil, fmt.Errorf("stored request %s: %w", req.ID, err)
	}
	if reqSt.Digest != st.Digest {
		return nil, refuse(RefusedDigest, "request %s names digest %s, the approval %s", req.ID, reqSt.Digest, st.Digest)
	}
	if req.Actor == id.Name || req.KeyID == id.KeyID {
		return nil, refuse(RefusedSameIdentity, "approval by the requesting identity %s: promotion of %s needs an approval by another identity", id.Name, v.Target())
	}
	if ref := Gate(v); ref != nil {
		return nil, ref
	}
	prod, err := r.Production(ctx, v.Name)
	if err != nil {
		return nil, err
	}
	now := r.now()
	appr := newAction(s, st, id, KindApprove, now)
	appr.Request = req.ID
	p := &Promotion{Name: v.Name, Version: v.Version, Digest: v.Digest, Request: req.ID, Approval: appr, At: now}
	recs := []audit.Record{
		record(appr.ID, AuditApprove, id.Name, v.Name, v.Version, now),
		record("", AuditPromote, req.Actor, v.Name, v.Version, now),
	}
	if prod != nil {
		p.Production = prod.Version
		recs = append(recs, record("", AuditRetire, id.Name, v.Name, prod.Version, now))
	}
	payloads, err := encode(recs...)
	if err != nil {
		return nil, err
	}
	if err := r.store.PromoteModel(ctx, p, payloads); err != nil {
		switch {
		case errors.Is(err, ErrConflict):
			return nil, refuse(RefusedConflict, "promotion of %s: another action changed the model first (%v); check its state and try again", v.Target(), err)
		case errors.Is(err, ErrExists):
			return nil, refuse(RefusedReplay, "this approval statement was used before")
		}
		return nil, err
	}
	return r.store.ModelVersion(ctx, v.Name, v.Version)
}

// Production returns the production version of the model name, or nil.
func (r *Registry) Production(ctx context.Context, name string) (*Version, error) {
	vs, err := r.store.ListModelVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.Stage == StageProduction {
			return v, nil
		}
	}
	return nil, nil
}

// RollbackResult is what a rollback did.
type RollbackResult struct {
	// Retired is the version taken out of production.
	Retired *Version
	// Restored is the version back in production.
	Restored *Version
}

// Rollback retires the model's production version, which the statement
// must name, and restores the version it replaced. Any registered identity
// may roll back, without approval: it is the emergency exit, and it only
// returns to a version that passed promotion before.
func (r *Registry) Rollback(ctx context.Context, s SignedStatement) (*RollbackResult, error) {
	return perform(ctx, r, s, ActionRollback, AuditRollback, func(st *Statement, id *Identity) (*RollbackResult, error) {
		return r.rollback(ctx, s, st, id)
	})
}

func (r *Registry) rollback(ctx context.Context, s SignedStatement, st *Statement, id *Identity) (*RollbackResult, error) {
	cur, err := r.Production(ctx, st.Model)
	if err != nil {
		return nil, err
	}
	switch {
	case cur == nil:
		return nil, refuse(RefusedNoProduction, "rollback of %s: it has no production version", st.Model)
	case cur.Version != st.Version:
		return nil, refuse(RefusedConflict, "rollback of %s@%s: the production version is %s", st.Model, st.Version, cur.Version)
	case cur.Previous == "":
		return nil, refuse(RefusedNoPrevious, "rollback of %s: no version was in production before it", cur.Target())
	}
	prev, err := r.store.ModelVersion(ctx, st.Model, cur.Previous)
	if err != nil {
		return nil, err
	}
	if prev.Stage != StageRetired {
		return nil, refuse(RefusedNoPrevious, "rollback of %s: the previous version %s is %s, not retired", cur.Target(), prev.Version, prev.Stage)
	}
	now := r.now()
	act := newAction(s, st, id, KindRollback, now)
	payloads, err := encode(
		record(act.ID, AuditRollback, id.Name, cur.Name, cur.Version, now),
		record("", AuditRestore, id.Name, prev.Name, prev.Version, now),
	)
	if err != nil {
		return nil, err
	}
	rb := &Rollback{Name: cur.Name, From: cur.Version, To: prev.Version, Action: act, At: now}
	if err := r.store.RollbackModel(ctx, rb, payloads); err != nil {
		switch {
		case errors.Is(err, ErrConflict):
			return nil, refuse(RefusedConflict, "rollback of %s: another action changed the model first (%v)", cur.Target(), err)
		case errors.Is(err, ErrExists):
			return nil, refuse(RefusedReplay, "this rollback statement was used before")
		}
		return nil, err
	}
	res := &RollbackResult{}
	if res.Retired, err = r.store.ModelVersion(ctx, cur.Name, cur.Version); err != nil {
		return nil, err
	}
	if res.Restored, err = r.store.ModelVersion(ctx, prev.Name, prev.Version); err != nil {
		return nil, err
	}
	return res, nil
}

// Version returns one version, or an error wrapping ErrNotFound.
func (r *Registry) Version(ctx context.Context, name, version string) (*Version, error) {
	return r.store.ModelVersion(ctx, name, version)
}

// Versions returns the versions of a model (every model's when name is
// ""), by name and then newest first.
func (r *Registry) Versions(ctx context.Context, name string) ([]*Version, error) {
	return r.store.ListModelVersions(ctx, name)
}

// History returns the actions on a model (on one version when version is
// not ""), oldest first.
func (r *Registry) History(ctx context.Context, name, version string) ([]*Action, error) {
	return r.store.ListModelActions(ctx, name, version)
}
