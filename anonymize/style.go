package anonymize

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Style is how a redacted value is replaced.
type Style uint8

// The styles.
const (
	// Mask replaces a value with "[REDACTED:LABEL]".
	Mask Style = iota
	// Hash replaces a value with "[LABEL:xxxxxxxx]", the first four bytes
	// of HMAC-SHA-256(deployment key, value) in hex: equal values give
	// equal tokens, and the value cannot be read back without the key.
	Hash
	// Synthetic replaces a value with a realistic fake of the same kind and
	// shape (Faker).
	Synthetic
	// Placeholder replaces a value with its vault placeholder "<LABEL_N>",
	// to be restored in the answer (the anonymize action).
	Placeholder
)

var styleNames = [...]string{"mask", "hash", "synthetic", "placeholder"}

// String returns the style's name.
func (s Style) String() string {
	if int(s) < len(styleNames) {
		return styleNames[s]
	}
	return fmt.Sprintf("style(%d)", s)
}

// ParseStyle parses "mask", "hash" or "synthetic" (the styles a redact
// rule may name); "" is Mask.
func ParseStyle(s string) (Style, error) {
	switch s {
	case "", "mask":
		return Mask, nil
	case "hash":
		return Hash, nil
	case "synthetic":
		return Synthetic, nil
	}
	return Mask, fmt.Errorf("unknown redaction style %q (want mask, hash or synthetic)", s)
}

// MaskOf returns "[REDACTED:LABEL]", or "[REDACTED]" without a label.
func MaskOf(label string) string {
	if label == "" {
		return "[REDACTED]"
	}
	return "[REDACTED:" + label + "]"
}

// Hasher renders keyed hashes of values. It is safe for concurrent use.
type Hasher struct {
	key []byte
}

// NewHasher returns a Hasher with the deployment's key; an empty key gets
// a random one (tokens are then stable only within this process).
func NewHasher(key []byte) *Hasher {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return &Hasher{key: append([]byte(nil), key...)}
}

// Token returns "[LABEL:xxxxxxxx]" for value ("[HASH:…]" without a label).
func (h *Hasher) Token(label, value string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	if label == "" {
		label = "HASH"
	}
	return "[" + label + ":" + hex.EncodeToString(sum[:4]) + "]"
}

// Session is the replacement state of one request: its vault, its faker
// (seeded afresh per request, so fakes cannot be linked across requests)
// and the deployment's hasher. It is not safe for concurrent use.
type Session struct {
	Vault  *Vault
	hasher *Hasher
	faker  *Faker
}

// NewSession returns a session using h for hashes (nil: a random key).
func NewSession(h *Hasher) *Session {
	if h == nil {
		h = NewHasher(nil)
	}
	return &Session{Vault: NewVault(), hasher: h}
}

// Replace returns the stand-in for value in the given style.
func (s *Session) Replace(style Style, label, value string) string {
	switch style {
	case Hash:
		return s.hasher.Token(label, value)
	case Synthetic:
		if s.faker == nil {
			s.faker = NewFaker(nil)
		}
		return s.faker.Fake(label, value)
	case Placeholder:
		return s.Vault.Placeholder(label, value)
	}
	return MaskOf(label)
}
