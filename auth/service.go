package auth

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rampartsec/rampart/config"
)

// ErrInvalidOptions is wrapped by KeyService errors caused by the caller's
// input (a 400 for the admin API, a usage error for the CLI).
var ErrInvalidOptions = errors.New("invalid key options")

// ErrKeyRevoked is returned when rotating a key that is already revoked.
var ErrKeyRevoked = errors.New("key is revoked")

// Bounds on key options.
const (
	maxNameLen     = 128
	maxGroupLen    = 64
	maxPatterns    = 256
	maxPatternLen  = 256
	maxKeyLifetime = 100 * 365 * 24 * time.Hour
)

// KeyService creates, lists, revokes and rotates keys; the CLI and the
// admin API share it.
type KeyService struct {
	store KeyStore
	now   func() time.Time
}

// NewKeyService returns a KeyService over store. clock returns the current
// time; nil means time.Now.
func NewKeyService(store KeyStore, clock func() time.Time) *KeyService {
	if clock == nil {
		clock = time.Now
	}
	return &KeyService{store: store, now: clock}
}

// CreateOptions are a new key's settings.
type CreateOptions struct {
	// Name is a human label (required).
	Name string
	// Group is the key group policies and group limits apply to.
	Group string
	// Models and Routes the key may use; empty means all. "*" in an entry
	// matches any run of characters.
	Models []string
	Routes []string
	// ExpiresIn or ExpiresAt (not both) ends the key's life; both zero:
	// the key never expires.
	ExpiresIn time.Duration
	ExpiresAt time.Time
	// Limits override the group's and the defaults' (zero fields inherit).
	Limits config.LimitSet
}

// Create makes a key and stores it. The returned secret is the whole key;
// it is not stored and cannot be shown again.
func (s *KeyService) Create(ctx context.Context, opts CreateOptions) (secret string, k *Key, err error) {
	now := s.now().UTC().Truncate(time.Microsecond) // the stores keep microseconds
	if err := opts.validate(now); err != nil {
		return "", nil, err
	}
	expires := opts.ExpiresAt.UTC()
	if opts.ExpiresIn > 0 {
		expires = now.Add(opts.ExpiresIn)
	}
	return s.create(ctx, &Key{
		Name:      opts.Name,
		Group:     opts.Group,
		Models:    clean(opts.Models),
		Routes:    clean(opts.Routes),
		Limits:    opts.Limits,
		CreatedAt: now,
		ExpiresAt: expires,
	})
}

func (s *KeyService) create(ctx context.Context, k *Key) (string, *Key, error) {
	secret, prefix, hash, err := Generate()
	if err != nil {
		return "", nil, err
	}
	id, err := newKeyID(k.CreatedAt)
	if err != nil {
		return "", nil, err
	}
	k.ID, k.Prefix, k.Hash = id, prefix, hash
	if err := s.store.CreateKey(ctx, k); err != nil {
		return "", nil, fmt.Errorf("create key: %w", err)
	}
	return secret, k, nil
}

// List returns every key, newest first. Keys carry their hash for the
// store's sake; callers that show keys must not print it (Key's JSON form
// leaves it out).
func (s *KeyService) List(ctx context.Context) ([]*Key, error) {
	keys, err := s.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// Get returns one key by ID, or an error wrapping ErrNotFound.
func (s *KeyService) Get(ctx context.Context, id string) (*Key, error) {
	k, err := s.store.KeyByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get key %q: %w", id, err)
	}
	return k, nil
}

// Revoke revokes a key now. Revoking a revoked key keeps its original
// revocation time; a revocation scheduled for later is brought forward.
func (s *KeyService) Revoke(ctx context.Context, id string) (*Key, error) {
	k, err := s.store.KeyByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("revoke key %q: %w", id, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond) // the stores keep microseconds
	if !k.RevokedAt.IsZero() && !k.RevokedAt.After(now) {
		return k, nil
	}
	if err := s.store.RevokeKey(ctx, id, now); err != nil {
		return nil, fmt.Errorf("revoke key %q: %w", id, err)
	}
	k.RevokedAt = now
	return k, nil
}

// Rotate creates a key with the same settings as key id (RotatedFrom set
// to id; an expiring key gets the same lifetime from now) and revokes the
// old key after grace (zero: now). It returns the new key's secret, shown
// once, and the new key.
func (s *KeyService) Rotate(ctx context.Context, id string, grace time.Duration) (string, *Key, error) {
	if grace < 0 || grace > maxKeyLifetime {
		return "", nil, fmt.Errorf("%w: grace %s out of range", ErrInvalidOptions, grace)
	}
	old, err := s.store.KeyByID(ctx, id)
	if err != nil {
		return "", nil, fmt.Errorf("rotate key %q: %w", id, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond) // the stores keep microseconds
	if !old.RevokedAt.IsZero() && !old.RevokedAt.After(now) {
		return "", nil, fmt.Errorf("rotate key %q: %w", id, ErrKeyRevoked)
	}
	next := &Key{
		Name:        old.Name,
		Group:       old.Group,
		Models:      old.Models,
		Routes:      old.Routes,
		Limits:      old.Limits,
		CreatedAt:   now,
		RotatedFrom: old.ID,
	}
	if !old.ExpiresAt.IsZero() {
		next.ExpiresAt = now.Add(old.ExpiresAt.Sub(old.CreatedAt))
	}
	secret, next, err := s.create(ctx, next)
	if err != nil {
		return "", nil, fmt.Errorf("rotate key %q: %w", id, err)
	}
	at := now.Add(grace)
	if !old.RevokedAt.IsZero() && old.RevokedAt.Before(at) {
		at = old.RevokedAt // an earlier scheduled revocation stands
	}
	if err := s.store.RevokeKey(ctx, old.ID, at); err != nil {
		// Leave no second live key behind when the old one stays live.
		cleanupErr := s.store.RevokeKey(context.WithoutCancel(ctx), next.ID, now)
		return "", nil, errors.Join(fmt.Errorf("rotate key %q: revoke old key: %w", id, err), cleanupErr)
	}
	return secret, next, nil
}

func (o *CreateOptions) validate(now time.Time) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
	}
	if strings.TrimSpace(o.Name) == "" {
		return bad("name is required")
	}
	if err := checkLabel("name", o.Name, maxNameLen); err != nil {
		return bad("%s", err)
	}
	if err := checkLabel("group", o.Group, maxGroupLen); err != nil {
		return bad("%s", err)
	}
	for _, list := range []struct {
		field string
		v     []string
	}{{"models", o.Models}, {"routes", o.Routes}} {
		if len(list.v) > maxPatterns {
			return bad("%s: %d entries, at most %d", list.field, len(list.v), maxPatterns)
		}
		for i, p := range list.v {
			if strings.TrimSpace(p) == "" {
				return bad("%s[%d] is empty", list.field, i)
			}
			if err := checkLabel(fmt.Sprintf("%s[%d]", list.field, i), p, maxPatternLen); err != nil {
				return bad("%s", err)
			}
		}
	}
	switch {
	case o.ExpiresIn < 0:
		return bad("expires_in %s is negative", o.ExpiresIn)
	case o.ExpiresIn > maxKeyLifetime:
		return bad("expires_in %s is longer than 100 years", o.ExpiresIn)
	case o.ExpiresIn > 0 && !o.ExpiresAt.IsZero():
		return bad("set expires_in or expires_at, not both")
	case !o.ExpiresAt.IsZero() && !o.ExpiresAt.After(now):
		return bad("expires_at %s is not in the future", o.ExpiresAt.Format(time.RFC3339))
	}
	l := o.Limits
	if l.RequestsPerMinute < 0 || l.TokensPerMinute < 0 || l.Concurrent < 0 || l.MaxTokens < 0 || l.DailyBudgetUSD < 0 || math.IsNaN(l.DailyBudgetUSD) || math.IsInf(l.DailyBudgetUSD, 0) {
		return bad("limits must not be negative")
	}
	return nil
}

// checkLabel refuses overlong text and control characters (which would
// forge lines in terminals and logs).
func checkLabel(field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s contains a control character", field)
		}
	}
	return nil
}

// clean returns a copy of list with surrounding spaces trimmed, or nil for
// an empty list.
func clean(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// crockford is the Crockford base32 alphabet that ULIDs use.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newKeyID returns "key_" + a ULID: 48 bits of milliseconds then 80 random
// bits, so IDs sort by creation time.
func newKeyID(t time.Time) (string, error) {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		return "", fmt.Errorf("generate key id: %w", err)
	}
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [4 + 26]byte
	copy(out[:], "key_")
	// 128 bits in 26 characters: the first holds the top 3 bits (ULID's
	// 2 padding bits are zero), each next one 5 bits.
	for i := 25; i >= 0; i-- {
		out[4+i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:]), nil
}
