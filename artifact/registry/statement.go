package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
	"unicode/utf8"
)

// StatementType is the type of every registry statement; it changes only
// when the statement's meaning does.
const StatementType = "rampart.registry.statement/v1"

// signingTag is prepended to a statement before it is signed, so that a
// registry signature is never valid for anything else the same key signs
// (a model signature, say).
const signingTag = "rampart/registry-statement/v1\x00"

// Statement actions.
const (
	ActionPush     = "push"
	ActionPromote  = "promote"
	ActionApprove  = "approve"
	ActionRollback = "rollback"
)

// Limits on a statement.
const (
	// MaxStatement bounds a statement's encoding.
	MaxStatement = 16 << 10
	// MaxLineage bounds the lineage entries of a push.
	MaxLineage = 64
	// MaxLineageEntry bounds one lineage entry, in bytes.
	MaxLineageEntry = 512
)

// Statement is what an actor signs. Its canonical encoding is the JSON
// encoding of this struct (keys in alphabetical order, no spaces, empty
// optional fields left out); a statement in any other encoding is refused.
type Statement struct {
	// Action is push, promote, approve or rollback.
	Action string `json:"action"`
	// Digest is the model version's digest (push, promote, approve).
	Digest string `json:"digest,omitempty"`
	// IssuedAt is when the statement was signed, RFC 3339 in UTC to the
	// second; the registry refuses statements too far from its clock.
	IssuedAt string `json:"issued_at"`
	// KeyID names the signing key.
	KeyID string `json:"key_id"`
	// Lineage is the pushed version's lineage (push).
	Lineage []string `json:"lineage,omitempty"`
	// Model is the model's name.
	Model string `json:"model"`
	// Nonce is 16 random bytes in hex, so that every statement is unique.
	Nonce string `json:"nonce"`
	// Report is the SHA-256 of a scan report the pusher supplies (push).
	Report string `json:"report,omitempty"`
	// Request is the id of the request an approval approves (approve).
	Request string `json:"request,omitempty"`
	// Type is StatementType.
	Type string `json:"type"`
	// Version is the version acted on; for a rollback, the production
	// version being rolled back.
	Version string `json:"version"`
}

// SignedStatement is a statement's canonical encoding and its signature.
type SignedStatement struct {
	Statement []byte `json:"statement"`
	Signature []byte `json:"signature"`
}

var (
	modelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)
	versionRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
	identityRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)
	digestRE    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	nonceRE     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	actionIDRE  = regexp.MustCompile(`^act_[0-9a-f]{32}$`)
)

// CheckModelName reports whether name is a valid model name: 1 to 128
// letters, digits and . _ : / -, starting with a letter or digit.
func CheckModelName(name string) error {
	if !modelNameRE.MatchString(name) {
		return fmt.Errorf("invalid model name %q: want 1 to 128 letters, digits and . _ : / -, starting with a letter or digit", clip(name))
	}
	return nil
}

// CheckVersion reports whether v is a valid version: 1 to 64 letters,
// digits and . _ + -, starting with a letter or digit.
func CheckVersion(v string) error {
	if !versionRE.MatchString(v) {
		return fmt.Errorf("invalid version %q: want 1 to 64 letters, digits and . _ + -, starting with a letter or digit", clip(v))
	}
	return nil
}

// CheckIdentityName reports whether name is a valid identity name: 1 to 64
// lower-case letters, digits and . _ @ -, starting with a letter or digit.
func CheckIdentityName(name string) error {
	if !identityRE.MatchString(name) {
		return fmt.Errorf("invalid identity name %q: want 1 to 64 lower-case letters, digits and . _ @ -, starting with a letter or digit", clip(name))
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// Sign completes st (type, key id, issue time, nonce), encodes it
// canonically and signs it.
func (s *Signer) Sign(st Statement, now time.Time) (SignedStatement, error) {
	st.Type = StatementType
	st.KeyID = s.KeyID()
	st.IssuedAt = now.UTC().Truncate(time.Second).Format(time.RFC3339)
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return SignedStatement{}, fmt.Errorf("sign statement: %w", err)
	}
	st.Nonce = hex.EncodeToString(n[:])
	if err := st.check(); err != nil {
		return SignedStatement{}, fmt.Errorf("sign statement: %w", err)
	}
	b, err := json.Marshal(&st)
	if err != nil {
		return SignedStatement{}, fmt.Errorf("sign statement: %w", err)
	}
	sig, err := s.sign(signingMessage(b))
	if err != nil {
		return SignedStatement{}, fmt.Errorf("sign statement: %w", err)
	}
	return SignedStatement{Statement: b, Signature: sig}, nil
}

func signingMessage(b []byte) []byte {
	return append([]byte(signingTag), b...)
}

// ParseStatement decodes a statement and checks that it is in canonical
// form and well formed. It does not check the signature.
func ParseStatement(b []byte) (*Statement, error) {
	if len(b) > MaxStatement {
		return nil, fmt.Errorf("statement: %d bytes; at most %d", len(b), MaxStatement)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var st Statement
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("statement: data after the object at byte %d", dec.InputOffset())
	}
	canon, err := json.Marshal(&st)
	if err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	if !bytes.Equal(canon, b) {
		at := 0
		for at < len(b) && at < len(canon) && b[at] == canon[at] {
			at++
		}
		return nil, fmt.Errorf("statement: not in canonical form (differs at byte %d)", at)
	}
	if err := st.check(); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	return &st, nil
}

// check validates every field for the statement's action.
func (st *Statement) check() error {
	if st.Type != StatementType {
		return fmt.Errorf("type %q, want %q", clip(st.Type), StatementType)
	}
	if !digestRE.MatchString(st.KeyID) {
		return fmt.Errorf("key_id %q is not sha256:<64 hex digits>", clip(st.KeyID))
	}
	if !nonceRE.MatchString(st.Nonce) {
		return errors.New("nonce is not 32 hex digits")
	}
	if _, err := st.issued(); err != nil {
		return err
	}
	if err := CheckModelName(st.Model); err != nil {
		return err
	}
	if err := CheckVersion(st.Version); err != nil {
		return err
	}
	digest, lineage, report, request := st.Digest != "", st.Lineage != nil, st.Report != "", st.Request != ""
	switch st.Action {
	case ActionPush:
		if request {
			return errors.New("a push has no request")
		}
	case ActionPromote:
		if lineage || report || request {
			return errors.New("a promotion request has only model, version and digest")
		}
	case ActionApprove:
		if lineage || report {
			return errors.New("an approval has only model, version, digest and request")
		}
		if !actionIDRE.MatchString(st.Request) {
			return fmt.Errorf("request %q is not act_<32 hex digits>", clip(st.Request))
		}
	case ActionRollback:
		if digest || lineage || report || request {
			return errors.New("a rollback has only model and version")
		}
	default:
		return fmt.Errorf("unknown action %q", clip(st.Action))
	}
	if st.Action != ActionRollback && !digestRE.MatchString(st.Digest) {
		return fmt.Errorf("digest %q is not sha256:<64 hex digits>", clip(st.Digest))
	}
	if report && !digestRE.MatchString(st.Report) {
		return fmt.Errorf("report %q is not sha256:<64 hex digits>", clip(st.Report))
	}
	if len(st.Lineage) > MaxLineage {
		return fmt.Errorf("%d lineage entries; at most %d", len(st.Lineage), MaxLineage)
	}
	for i, l := range st.Lineage {
		if l == "" || len(l) > MaxLineageEntry || !utf8.ValidString(l) {
			return fmt.Errorf("lineage entry %d: want 1 to %d bytes of UTF-8", i, MaxLineageEntry)
		}
	}
	return nil
}

func (st *Statement) issued() (time.Time, error) {
	t, err := time.Parse(time.RFC3339, st.IssuedAt)
	if err != nil || t.Location() != time.UTC || t.Format(time.RFC3339) != st.IssuedAt {
		return time.Time{}, fmt.Errorf("issued_at %q is not an RFC 3339 time in UTC to the second", clip(st.IssuedAt))
	}
	return t, nil
}

// actionID returns the id of the action a statement becomes.
func actionID(statement []byte) string {
	sum := sha256.Sum256(statement)
	return "act_" + hex.EncodeToString(sum[:16])
}

// VerifyAction checks a stored action's statement and signature against
// the identity's public key, as evidence: the signature is valid, the
// statement is the action's (model, version, key) and its id matches.
func VerifyAction(a *Action, id *Identity) error {
	pub, err := ParsePublicKeyDER(id.PublicKey)
	if err != nil {
		return fmt.Errorf("action %s: identity %s: %w", a.ID, id.Name, err)
	}
	if pub.KeyID != a.KeyID || id.KeyID != a.KeyID {
		return fmt.Errorf("action %s: signed by key %s, not by %s's key", a.ID, a.KeyID, id.Name)
	}
	if !pub.verify(signingMessage(a.Statement), a.Signature) {
		return fmt.Errorf("action %s: the signature does not verify", a.ID)
	}
	st, err := ParseStatement(a.Statement)
	if err != nil {
		return fmt.Errorf("action %s: %w", a.ID, err)
	}
	if actionID(a.Statement) != a.ID || st.Model != a.Name || st.Version != a.Version || st.KeyID != a.KeyID {
		return fmt.Errorf("action %s: the statement does not match the stored action", a.ID)
	}
	return nil
}
