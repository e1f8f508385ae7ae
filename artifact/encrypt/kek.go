package encrypt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/rampartsec/rampart/secretref"
)

// KEKSize is the size of a key-encryption key: AES-256.
const KEKSize = 32

// LocalKEK wraps data keys with AES-256-GCM under a 256-bit key held in
// memory. The wrapped form is a 12-byte random nonce followed by the
// sealed data key and tag (60 bytes).
type LocalKEK struct {
	id   string
	aead cipher.AEAD
}

// NewLocalKEK returns a wrapper for a 32-byte key named id.
func NewLocalKEK(id string, key []byte) (*LocalKEK, error) {
	if len(key) != KEKSize {
		return nil, fmt.Errorf("KEK %q is %d bytes, want %d", id, len(key), KEKSize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("KEK %q: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("KEK %q: %w", id, err)
	}
	return &LocalKEK{id: id, aead: aead}, nil
}

// ID implements KeyWrapper.
func (k *LocalKEK) ID() string { return k.id }

// WrapKey implements KeyWrapper.
func (k *LocalKEK) WrapKey(_ context.Context, dataKey, aad []byte) ([]byte, error) {
	out := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(dataKey)+k.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out, dataKey, aad), nil
}

// UnwrapKey implements KeyWrapper.
func (k *LocalKEK) UnwrapKey(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(wrapped) != ns+keySize+k.aead.Overhead() {
		return nil, fmt.Errorf("%w: wrapped key is %d bytes, want %d", ErrAuth, len(wrapped), ns+keySize+k.aead.Overhead())
	}
	key, err := k.aead.Open(nil, wrapped[:ns], wrapped[ns:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: wrong KEK, or the header was changed", ErrAuth)
	}
	return key, nil
}

// ParseKEK resolves a KEK reference with package secretref ("file:PATH" or
// "env:NAME", or a registered scheme) and decodes its value: 64 hex
// digits, base64 (standard or URL, padded or not) of 32 bytes, or 32 raw
// bytes. The KEK id is id, or the reference itself when id is empty.
func ParseKEK(ctx context.Context, ref, id string) (*LocalKEK, error) {
	if !secretref.IsReference(ref) {
		return nil, fmt.Errorf("KEK %q: want file:PATH, env:NAME or another registered secret reference such as vault:MOUNT/PATH#FIELD", ref)
	}
	sec, err := secretref.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	key, err := DecodeKEK(sec.Reveal())
	if err != nil {
		return nil, fmt.Errorf("KEK %s: %w", ref, err)
	}
	defer clear(key)
	if id == "" {
		id = ref
	}
	return NewLocalKEK(id, key)
}

// DecodeKEK decodes a KEK value: 64 hex digits, base64 of 32 bytes, or 32
// raw bytes.
func DecodeKEK(v string) ([]byte, error) {
	t := strings.TrimSpace(v)
	if len(t) == 2*KEKSize {
		if b, err := hex.DecodeString(t); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(t); err == nil && len(b) == KEKSize {
			return b, nil
		}
	}
	if len(v) == KEKSize {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("the value is %d bytes; want 64 hex digits, base64 of 32 bytes, or 32 raw bytes", len(v))
}

// NewKEKText returns a new random KEK encoded in base64, as
// `rampart keygen --type kek` writes it.
func NewKEKText() (string, error) {
	k := make([]byte, KEKSize)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	defer clear(k)
	return base64.StdEncoding.EncodeToString(k) + "\n", nil
}
