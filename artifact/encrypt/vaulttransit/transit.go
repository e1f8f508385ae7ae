// Package vaulttransit wraps the data keys of package encrypt with
// HashiCorp Vault's Transit secrets engine, so the key-encryption key never
// leaves Vault:
//
//	rampart model encrypt model.safetensors --kek vault-transit:transit/models
//
// Wrapping sends PUT /v1/MOUNT/encrypt/KEY with the plaintext
//
//	data key (32 bytes) || SHA-256(aad)
//
// and stores Vault's ciphertext ("vault:v1:…") as the wrapped key.
// Unwrapping sends it to /v1/MOUNT/decrypt/KEY and compares the hash with
// SHA-256 of the header it was given, in constant time. Transit's
// ciphertext is authenticated, so the hash cannot be changed without the
// key, and a header changed after encryption fails with encrypt.ErrAuth, as
// it does with a local KEK. This binds the header with any Transit key
// type (Transit's "context" parameter works only with derived keys).
//
// The Vault client is configured from the environment (see package
// secretref/vault: VAULT_ADDR, VAULT_TOKEN or AppRole, TLS settings).
package vaulttransit

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/rampartsec/rampart/artifact/encrypt"
	"github.com/rampartsec/rampart/secretref/vault"
)

// Scheme prefixes a Transit KEK reference.
const Scheme = "vault-transit:"

// dataKeySize is the size of encrypt's data keys (AES-256).
const dataKeySize = 32

// Wrapper is an encrypt.KeyWrapper backed by a Vault Transit key.
type Wrapper struct {
	c     *vault.Client
	mount string
	key   string
	id    string
}

// New returns a Wrapper for the Transit key name under mount. The KEK id
// recorded in file headers is id, or "vault-transit:MOUNT/NAME" when id is
// empty.
func New(c *vault.Client, mount, name, id string) (*Wrapper, error) {
	if !validSegment(mount) || !validSegment(name) {
		return nil, fmt.Errorf("vault transit key %q/%q: want MOUNT/NAME of letters, digits, '-', '_' and '.'", mount, name)
	}
	if id == "" {
		id = Scheme + mount + "/" + name
	}
	return &Wrapper{c: c, mount: mount, key: name, id: id}, nil
}

// Parse returns a Wrapper for a reference "vault-transit:MOUNT/NAME",
// with the client built from the environment.
func Parse(ref, id string) (*Wrapper, error) {
	rest, ok := strings.CutPrefix(ref, Scheme)
	if !ok {
		return nil, fmt.Errorf("KEK %q: want %sMOUNT/NAME", ref, Scheme)
	}
	mount, name, ok := strings.Cut(rest, "/")
	if !ok {
		return nil, fmt.Errorf("KEK %q: want %sMOUNT/NAME", ref, Scheme)
	}
	w, err := New(nil, mount, name, id)
	if err != nil {
		return nil, fmt.Errorf("KEK %q: %w", ref, err)
	}
	c, err := vault.Default()
	if err != nil {
		return nil, fmt.Errorf("KEK %q: %w", ref, err)
	}
	w.c = c
	return w, nil
}

func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ID implements encrypt.KeyWrapper.
func (w *Wrapper) ID() string { return w.id }

// WrapKey implements encrypt.KeyWrapper.
func (w *Wrapper) WrapKey(ctx context.Context, dataKey, aad []byte) ([]byte, error) {
	if len(dataKey) != dataKeySize {
		return nil, fmt.Errorf("vault transit %s: data key is %d bytes, want %d", w.id, len(dataKey), dataKeySize)
	}
	h := sha256.Sum256(aad)
	pt := make([]byte, 0, dataKeySize+len(h))
	pt = append(append(pt, dataKey...), h[:]...)
	defer clear(pt)
	b64 := base64.StdEncoding.EncodeToString(pt)
	var s *api.Secret
	err := w.c.Do(ctx, func(ctx context.Context, a *api.Client) error {
		var err error
		s, err = a.Logical().WriteWithContext(ctx, w.mount+"/encrypt/"+w.key, map[string]any{"plaintext": b64})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vault transit %s: encrypt: %s", w.id, vault.Describe(err))
	}
	var ct string
	if s != nil {
		ct, _ = s.Data["ciphertext"].(string)
	}
	if !strings.HasPrefix(ct, "vault:v") || len(ct) > encrypt.MaxWrappedKey {
		return nil, fmt.Errorf("vault transit %s: encrypt: the response has no ciphertext of at most %d bytes", w.id, encrypt.MaxWrappedKey)
	}
	return []byte(ct), nil
}

// UnwrapKey implements encrypt.KeyWrapper. Every failure to authenticate
// (a wrong key, a changed ciphertext, a changed header) wraps
// encrypt.ErrAuth.
func (w *Wrapper) UnwrapKey(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) > encrypt.MaxWrappedKey || !strings.HasPrefix(string(wrapped), "vault:v") {
		return nil, fmt.Errorf("%w: the wrapped key is not a Vault Transit ciphertext", encrypt.ErrAuth)
	}
	for i, c := range wrapped {
		if c <= ' ' || c >= 0x7f {
			return nil, fmt.Errorf("%w: the wrapped key has a byte 0x%02x at offset %d", encrypt.ErrAuth, c, i)
		}
	}
	var s *api.Secret
	err := w.c.Do(ctx, func(ctx context.Context, a *api.Client) error {
		var err error
		s, err = a.Logical().WriteWithContext(ctx, w.mount+"/decrypt/"+w.key, map[string]any{"ciphertext": string(wrapped)})
		return err
	})
	if err != nil {
		var re *api.ResponseError
		if errors.As(err, &re) && re.StatusCode == 400 {
			// Transit answers 400 for a ciphertext it cannot open.
			return nil, fmt.Errorf("%w: vault transit %s: decrypt: %s (wrong key, or the file was changed)", encrypt.ErrAuth, w.id, vault.Describe(err))
		}
		return nil, fmt.Errorf("vault transit %s: decrypt: %s", w.id, vault.Describe(err))
	}
	var b64 string
	if s != nil {
		b64, _ = s.Data["plaintext"].(string)
	}
	if len(b64) > 4*(dataKeySize+sha256.Size) {
		return nil, fmt.Errorf("%w: vault transit %s: the plaintext is too long", encrypt.ErrAuth, w.id)
	}
	pt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(pt) != dataKeySize+sha256.Size {
		return nil, fmt.Errorf("%w: vault transit %s: the plaintext is not a wrapped data key", encrypt.ErrAuth, w.id)
	}
	defer clear(pt)
	h := sha256.Sum256(aad)
	if subtle.ConstantTimeCompare(pt[dataKeySize:], h[:]) != 1 {
		return nil, fmt.Errorf("%w: the header was changed after encryption", encrypt.ErrAuth)
	}
	return append([]byte(nil), pt[:dataKeySize]...), nil
}

var _ encrypt.KeyWrapper = (*Wrapper)(nil)
