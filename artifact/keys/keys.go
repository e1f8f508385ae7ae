// Package keys generates, writes and loads the signing keys of model
// artifacts: Ed25519 and ECDSA (P-256, and P-384 and P-521 for keys made by
// other tools) in PEM files.
//
// Private keys are written as PKCS#8 "PRIVATE KEY" blocks with mode 0600 and
// public keys as PKIX "PUBLIC KEY" blocks. Loading also accepts SEC1
// "EC PRIVATE KEY" blocks, which the OpenSSF model_signing tools and openssl
// ecparam produce, and X.509 certificates in place of a public key.
package keys

import (
	"github.com/rampartsec/rampart/internal/smallfile"

	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// Type names a kind of key that Generate can make.
type Type string

// The key types Generate supports.
const (
	Ed25519   Type = "ed25519"
	ECDSAP256 Type = "ecdsa-p256"
)

// Types lists the key types Generate supports, for help texts.
var Types = []Type{Ed25519, ECDSAP256}

// maxKeyFile bounds a key or certificate file: a PEM key is a few hundred
// bytes and a certificate chain a few kilobytes.
const maxKeyFile = 1 << 20

// Generate makes a new private key of type t.
func Generate(t Type) (crypto.Signer, error) {
	switch t {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ed25519 key: %w", err)
		}
		return priv, nil
	case ECDSAP256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ecdsa-p256 key: %w", err)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("unknown key type %q (want %s or %s)", t, Ed25519, ECDSAP256)
}

// MarshalPrivate encodes a private key as a PKCS#8 "PRIVATE KEY" PEM block.
func MarshalPrivate(k crypto.Signer) ([]byte, error) {
	if err := Check(k.Public()); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublic encodes a public key as a PKIX "PUBLIC KEY" PEM block, the
// encoding whose SHA-256 is the key hint of a model signature.
func MarshalPublic(k crypto.PublicKey) ([]byte, error) {
	if err := Check(k); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Hint returns the hex SHA-256 of the key's PKIX PEM encoding: the public
// key identifier that OpenSSF model signatures carry in
// verificationMaterial.publicKey.hint.
func Hint(k crypto.PublicKey) (string, error) {
	p, err := MarshalPublic(k)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:]), nil
}

// Check reports whether k is a public key that model signatures support:
// Ed25519, or ECDSA on P-256, P-384 or P-521.
func Check(k crypto.PublicKey) error {
	switch k := k.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("ed25519 public key of %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("ECDSA curve %s is not supported (want P-256, P-384 or P-521)", k.Curve.Params().Name)
	}
	return fmt.Errorf("%T keys are not supported (want Ed25519 or ECDSA)", k)
}

// Describe names a key's algorithm, e.g. "ecdsa-p256" or "ed25519".
func Describe(k crypto.PublicKey) string {
	switch k := k.(type) {
	case ed25519.PublicKey:
		return "ed25519"
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ecdsa-p256"
		case elliptic.P384():
			return "ecdsa-p384"
		case elliptic.P521():
			return "ecdsa-p521"
		}
	}
	return fmt.Sprintf("%T", k)
}

// ParsePrivate decodes the first private key PEM block in data: PKCS#8
// ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"). Encrypted keys are refused.
func ParsePrivate(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PRIVATE KEY or EC PRIVATE KEY PEM block found")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted private keys are not supported; decrypt it first (openssl pkcs8)")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", b.Type, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%T private keys are not supported", k)
		}
		if err := Check(s.Public()); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// ParsePublic decodes the first public key in data: a PKIX "PUBLIC KEY" PEM
// block, a "CERTIFICATE" block (its subject key), or raw PKIX DER.
func ParsePublic(data []byte) (crypto.PublicKey, error) {
	var k any
	var err error
	b, _ := pem.Decode(data)
	switch {
	case b == nil:
		k, err = x509.ParsePKIXPublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("no PUBLIC KEY PEM block, and not PKIX DER: %w", err)
		}
	case b.Type == "PUBLIC KEY":
		if k, err = x509.ParsePKIXPublicKey(b.Bytes); err != nil {
			return nil, fmt.Errorf("parse PUBLIC KEY: %w", err)
		}
	case b.Type == "CERTIFICATE":
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse CERTIFICATE: %w", err)
		}
		k = c.PublicKey
	default:
		return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY", b.Type)
	}
	if err := Check(k); err != nil {
		return nil, err
	}
	return k, nil
}

// LoadPrivate reads and parses a private key file.
func LoadPrivate(path string) (crypto.Signer, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivate(b)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return k, nil
}

// LoadPublic reads and parses a public key file.
func LoadPublic(path string) (crypto.PublicKey, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublic(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// WritePair writes k to prefix+".key" (PKCS#8, mode 0600) and its public
// key to prefix+".pub" (PKIX, mode 0644). It refuses to overwrite either
// file.
func WritePair(prefix string, k crypto.Signer) (privPath, pubPath string, err error) {
	priv, err := MarshalPrivate(k)
	if err != nil {
		return "", "", err
	}
	pub, err := MarshalPublic(k.Public())
	if err != nil {
		return "", "", err
	}
	privPath, pubPath = prefix+".key", prefix+".pub"
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s exists; refusing to overwrite it", p)
		}
	}
	if err := writeNew(privPath, priv, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, pub, 0o644); err != nil {
		os.Remove(privPath)
		return "", "", err
	}
	return privPath, pubPath, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func readSmall(path string) ([]byte, error) {
	b, err := smallfile.Read(path, maxKeyFile)
	if errors.Is(err, smallfile.ErrTooLarge) {
		return nil, fmt.Errorf("%w; not a key file", err)
	}
	return b, err
}
