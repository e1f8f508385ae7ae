package registry

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/artifact/keys"
)

// Key algorithms.
const (
	AlgEd25519   = "ed25519"
	AlgECDSAP256 = "ecdsa-p256"
)

// MaxKeyPEM bounds a key file.
const MaxKeyPEM = 16 << 10

// maxSignature bounds a signature: 64 bytes for Ed25519, at most 72 for an
// ASN.1 ECDSA P-256 signature.
const maxSignature = 80

// PublicKey is an identity's verified public key.
type PublicKey struct {
	key crypto.PublicKey
	// DER is the PKIX encoding.
	DER []byte
	// KeyID is "sha256:" and the hex SHA-256 of DER.
	KeyID string
	// Algorithm is AlgEd25519 or AlgECDSAP256.
	Algorithm string
}

// KeyIDOf returns the key id of a PKIX DER public key.
func KeyIDOf(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParsePublicKey parses a PEM "PUBLIC KEY" block (PKIX) holding an Ed25519
// or ECDSA P-256 key.
func ParsePublicKey(pemBytes []byte) (*PublicKey, error) {
	if len(pemBytes) > MaxKeyPEM {
		return nil, fmt.Errorf("public key: the file has %d bytes; a key has at most %d", len(pemBytes), MaxKeyPEM)
	}
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("public key: no PEM block found")
	}
	if b.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key: PEM block is %q, want \"PUBLIC KEY\" (PKIX)", b.Type)
	}
	return ParsePublicKeyDER(b.Bytes)
}

// ParsePublicKeyDER parses a PKIX DER public key (Ed25519 or ECDSA P-256).
func ParsePublicKeyDER(der []byte) (*PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	alg, err := algorithmOf(k)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return &PublicKey{key: k, DER: der, KeyID: KeyIDOf(der), Algorithm: alg}, nil
}

// algorithmOf applies the registry's key policy: of the keys package
// artifact/keys supports, only Ed25519 and ECDSA P-256.
func algorithmOf(k crypto.PublicKey) (string, error) {
	switch alg := keys.Describe(k); alg {
	case AlgEd25519, AlgECDSAP256:
		return alg, nil
	default:
		return "", fmt.Errorf("%s keys are not supported (want Ed25519 or ECDSA P-256)", alg)
	}
}

// verify reports whether sig is k's signature of msg.
func (k *PublicKey) verify(msg, sig []byte) bool {
	if len(sig) > maxSignature {
		return false
	}
	switch pk := k.key.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(pk, msg, sig)
	case *ecdsa.PublicKey:
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(pk, h[:], sig)
	}
	return false
}

// Signer signs statements with an identity's private key.
type Signer struct {
	key crypto.Signer
	pub *PublicKey
}

// ParsePrivateKey parses a PEM "PRIVATE KEY" block (PKCS#8, unencrypted)
// holding an Ed25519 or ECDSA P-256 key.
func ParsePrivateKey(pemBytes []byte) (*Signer, error) {
	if len(pemBytes) > MaxKeyPEM {
		return nil, fmt.Errorf("private key: the file has %d bytes; a key has at most %d", len(pemBytes), MaxKeyPEM)
	}
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("private key: no PEM block found")
	}
	if b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("private key: PEM block is %q, want \"PRIVATE KEY\" (unencrypted PKCS#8)", b.Type)
	}
	// The first block is PKCS#8, so keys.ParsePrivate decodes that one.
	k, err := keys.ParsePrivate(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return NewSigner(k)
}

// NewSigner returns a Signer for an Ed25519 or ECDSA P-256 key.
func NewSigner(k crypto.Signer) (*Signer, error) {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	pub, err := ParsePublicKeyDER(der)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return &Signer{key: k, pub: pub}, nil
}

// KeyID returns the id of the signer's public key.
func (s *Signer) KeyID() string { return s.pub.KeyID }

// sign signs msg: Ed25519 over msg itself, ECDSA P-256 (ASN.1) over its
// SHA-256.
func (s *Signer) sign(msg []byte) ([]byte, error) {
	switch s.pub.Algorithm {
	case AlgEd25519:
		return s.key.Sign(rand.Reader, msg, crypto.Hash(0))
	default:
		h := sha256.Sum256(msg)
		return s.key.Sign(rand.Reader, h[:], crypto.SHA256)
	}
}

// PublicKeyPEM returns the signer's public key as a PEM "PUBLIC KEY"
// block, the form `rampart registry identity add` reads.
func (s *Signer) PublicKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: s.pub.DER})
}
