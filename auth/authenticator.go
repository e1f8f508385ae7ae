package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// maxCredentialLen bounds a presented credential; longer ones are refused
// before any parsing.
const maxCredentialLen = 16 << 10

// Authenticator turns a request's credential into a Principal.
//
// Key records are read from the store on every request, so a revocation
// takes effect on the very next request (and, with a shared store, on every
// gateway replica at once). When the store is a KeyVersioner, records are
// cached and reused only while the store's version is unchanged, which
// keeps that guarantee.
type Authenticator struct {
	store KeyStore
	jwt   *JWTVerifier
	now   func() time.Time
	cache *keyCache
}

// NewAuthenticator returns an Authenticator that looks keys up in store and
// verifies JWTs with jwt (nil: JWTs are refused). clock returns the current
// time; nil means time.Now.
func NewAuthenticator(store KeyStore, jwt *JWTVerifier, clock func() time.Time) *Authenticator {
	if clock == nil {
		clock = time.Now
	}
	a := &Authenticator{store: store, jwt: jwt, now: clock}
	if v, ok := store.(KeyVersioner); ok {
		a.cache = &keyCache{v: v, m: make(map[string]cachedKey)}
	}
	return a
}

// Authenticate reads the request's credential ("Authorization: Bearer …",
// or the "api-key" header that Azure OpenAI clients send) and verifies it.
// Its errors match ErrMissingCredential, ErrInvalidCredential, ErrExpired,
// ErrRevoked or ErrUnavailable with errors.Is, and never contain the
// credential.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	cred, err := credential(r.Header)
	if err != nil {
		return nil, err
	}
	return a.AuthenticateCredential(ctx, cred)
}

// AuthenticateCredential verifies a credential taken from elsewhere than
// an HTTP request (a WebSocket subprotocol, a CLI check).
func (a *Authenticator) AuthenticateCredential(ctx context.Context, cred string) (*Principal, error) {
	switch {
	case cred == "":
		return nil, errEmptyCredential
	case len(cred) > maxCredentialLen:
		return nil, errTooLong
	case isRampartKey(cred):
		return a.authenticateKey(ctx, cred)
	case looksLikeJWT(cred):
		if a.jwt == nil {
			return nil, errJWTDisabled
		}
		return a.jwt.Verify(ctx, cred, a.now())
	default:
		return nil, errUnknownKind
	}
}

func (a *Authenticator) authenticateKey(ctx context.Context, cred string) (*Principal, error) {
	prefix, ok := ParsePrefix(cred)
	if !ok {
		return nil, errMalformedKey
	}
	var k *Key
	var err error
	if a.cache != nil {
		k, err = a.cache.lookup(ctx, a.store, prefix)
	} else {
		k, err = a.store.KeyByPrefix(ctx, prefix)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, errUnknownKey
	}
	if err != nil {
		// The prefix is the key's public identifier, never the secret,
		// but the store's message is not ours to vouch for: keep it out.
		return nil, fmt.Errorf("%w: look up key: %w", ErrUnavailable, scrub(err, cred))
	}
	sum := hashKey(cred)
	if subtle.ConstantTimeCompare(sum[:], k.Hash) != 1 {
		return nil, errWrongSecret
	}
	now := a.now()
	if !k.RevokedAt.IsZero() && !now.Before(k.RevokedAt) {
		return nil, errKeyRevoked
	}
	if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		return nil, errKeyExpired
	}
	return &Principal{
		KeyID:     k.ID,
		Subject:   k.Name,
		Group:     k.Group,
		Models:    k.Models,
		Routes:    k.Routes,
		Limits:    k.Limits,
		Kind:      KindKey,
		ExpiresAt: earliest(k.ExpiresAt, k.RevokedAt),
	}, nil
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// scrub replaces err by a plain message if its text contains the
// credential's secret part.
func scrub(err error, cred string) error {
	if strings.Contains(err.Error(), cred[prefixLen:]) {
		return errors.New("key store error (message withheld)")
	}
	return err
}

// credential extracts the presented credential from request headers.
// "Authorization: Bearer X" wins; without an Authorization header, the
// "api-key" header is used as Azure OpenAI clients send it.
func credential(h http.Header) (string, error) {
	if vs := h["Authorization"]; len(vs) > 0 {
		if len(vs) > 1 {
			return "", errManyHeaders
		}
		return bearer(vs[0])
	}
	if vs := h["Api-Key"]; len(vs) > 0 {
		if len(vs) > 1 {
			return "", errManyHeaders
		}
		v := strings.Trim(vs[0], " \t")
		if v == "" {
			return "", errEmptyCredential
		}
		return v, nil
	}
	return "", ErrMissingCredential
}

// bearer returns the token of an "Authorization: Bearer <token>" value.
func bearer(v string) (string, error) {
	v = strings.Trim(v, " \t")
	if v == "" {
		return "", errEmptyCredential
	}
	const scheme = "bearer"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", errNotBearer
	}
	rest := v[len(scheme):]
	if rest == "" {
		return "", errEmptyCredential
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return "", errNotBearer
	}
	tok := strings.TrimLeft(rest, " \t")
	if tok == "" {
		return "", errEmptyCredential
	}
	return tok, nil
}

// looksLikeJWT reports whether s has the shape of a compact JWS: three
// base64url parts, the first two non-empty. An empty signature is let
// through so that the verifier, not the shape check, refuses alg "none".
func looksLikeJWT(s string) bool {
	part, dots := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if part == 0 {
				return false
			}
			dots++
			if dots > 2 {
				return false
			}
			part = 0
		case isBase62(c) || c == '-' || c == '_':
			part++
		default:
			return false
		}
	}
	return dots == 2
}
