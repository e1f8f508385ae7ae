package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
)

// Key format: "rk_" + 12 base62 characters (the public prefix) + "_" + 40
// base62 characters of secret. 40 base62 characters carry 40·log2(62) ≈ 238
// bits drawn from crypto/rand.
const (
	keyScheme    = "rk_"
	prefixChars  = 12
	secretChars  = 40
	prefixLen    = len(keyScheme) + prefixChars // "rk_" + 12
	keyLen       = prefixLen + 1 + secretChars  // prefix + "_" + secret
	base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// KeyLength is the length in bytes of every Rampart API key.
const KeyLength = keyLen

// Generate returns a new API key: the whole key (shown to its owner once),
// its public prefix (stored, used for lookup) and the SHA-256 digest of the
// whole key (stored, compared on use).
func Generate() (secret string, prefix string, hash []byte, err error) {
	return generate(rand.Reader)
}

func generate(r io.Reader) (string, string, []byte, error) {
	var b [keyLen]byte
	copy(b[:], keyScheme)
	if err := fillBase62(r, b[len(keyScheme):prefixLen]); err != nil {
		return "", "", nil, fmt.Errorf("generate key: %w", err)
	}
	b[prefixLen] = '_'
	if err := fillBase62(r, b[prefixLen+1:]); err != nil {
		return "", "", nil, fmt.Errorf("generate key: %w", err)
	}
	sum := sha256.Sum256(b[:])
	key := string(b[:])
	return key, key[:prefixLen], sum[:], nil
}

// fillBase62 fills dst with uniformly distributed base62 characters, using
// rejection sampling so that no character is more likely than another.
func fillBase62(r io.Reader, dst []byte) error {
	var buf [64]byte
	n := 0
	for n < len(dst) {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return fmt.Errorf("read random bytes: %w", err)
		}
		for _, c := range buf {
			// 248 = 4·62: bytes at or above it would bias the result.
			if c >= 248 {
				continue
			}
			dst[n] = base62Digits[c%62]
			n++
			if n == len(dst) {
				break
			}
		}
	}
	return nil
}

// ParsePrefix checks that key has the shape of a Rampart API key and
// returns its public prefix. It reads nothing but the string, so callers
// use it to refuse malformed credentials before touching the store.
func ParsePrefix(key string) (string, bool) {
	if len(key) != keyLen || key[:len(keyScheme)] != keyScheme || key[prefixLen] != '_' {
		return "", false
	}
	for i := len(keyScheme); i < keyLen; i++ {
		if i == prefixLen {
			continue
		}
		if !isBase62(key[i]) {
			return "", false
		}
	}
	return key[:prefixLen], true
}

// isRampartKey reports whether a credential claims to be a Rampart key,
// well formed or not.
func isRampartKey(cred string) bool {
	return len(cred) >= len(keyScheme) && cred[:len(keyScheme)] == keyScheme
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// hashKey returns SHA-256 of a key that ParsePrefix accepted, without
// allocating.
func hashKey(key string) [sha256.Size]byte {
	var b [keyLen]byte
	copy(b[:], key)
	return sha256.Sum256(b[:])
}
