package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/artifact/keys"
)

// ErrSignature marks a signature that does not verify: wrong key, an
// untrusted certificate, or a changed signature or payload.
var ErrSignature = errors.New("bad signature")

// Signer signs the DSSE pre-authentication encoding of a model statement
// and says how to verify it. A key signer returns a public key hint; a
// future keyless (Fulcio and Rekor) signer would fetch a certificate, sign,
// log the signature and return the certificate and the log entry.
type Signer interface {
	Sign(ctx context.Context, pae []byte) (sig []byte, vm VerificationMaterial, err error)
}

// Verifier checks the signature of a bundle's envelope against the
// bundle's verification material and what the verifier trusts, and
// returns a description of the signer. Errors wrap ErrSignature when the
// signature is not valid. A keyless verifier would check the certificate
// against the Fulcio roots, the identity and the Rekor inclusion proof.
type Verifier interface {
	VerifyBundle(ctx context.Context, b *Bundle) (signer string, err error)
}

// KeySigner signs with a private key: ECDSA (P-256, P-384, P-521; hashed
// with SHA-256, SHA-384 or SHA-512 to match the curve, as Sigstore does)
// or Ed25519 (pure Ed25519 over the PAE).
type KeySigner struct {
	key  crypto.Signer
	hint string
}

// NewKeySigner returns a signer for k.
func NewKeySigner(k crypto.Signer) (*KeySigner, error) {
	hint, err := keys.Hint(k.Public())
	if err != nil {
		return nil, err
	}
	return &KeySigner{key: k, hint: hint}, nil
}

// Sign implements Signer.
func (s *KeySigner) Sign(_ context.Context, pae []byte) ([]byte, VerificationMaterial, error) {
	vm := VerificationMaterial{PublicKey: &PublicKeyIdentifier{Hint: s.hint}}
	switch k := s.key.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(k, pae), vm, nil
	case *ecdsa.PrivateKey:
		h, _ := curveHash(k.Curve)
		sig, err := ecdsa.SignASN1(rand.Reader, k, digest(h, pae))
		if err != nil {
			return nil, vm, fmt.Errorf("ecdsa sign: %w", err)
		}
		return sig, vm, nil
	}
	// Other crypto.Signer implementations (HSM, KMS) of supported keys.
	switch pub := s.key.Public().(type) {
	case ed25519.PublicKey:
		sig, err := s.key.Sign(rand.Reader, pae, crypto.Hash(0))
		return sig, vm, err
	case *ecdsa.PublicKey:
		h, _ := curveHash(pub.Curve)
		sig, err := s.key.Sign(rand.Reader, digest(h, pae), h)
		return sig, vm, err
	}
	return nil, vm, fmt.Errorf("unsupported key %T", s.key)
}

// KeyVerifier verifies signatures made with one public key.
type KeyVerifier struct {
	key  crypto.PublicKey
	hint string
}

// NewKeyVerifier returns a verifier that trusts k.
func NewKeyVerifier(k crypto.PublicKey) (*KeyVerifier, error) {
	hint, err := keys.Hint(k)
	if err != nil {
		return nil, err
	}
	return &KeyVerifier{key: k, hint: hint}, nil
}

// VerifyBundle implements Verifier. A bundle that names another key by its
// hint is refused before any signature check.
func (v *KeyVerifier) VerifyBundle(_ context.Context, b *Bundle) (string, error) {
	if err := v.checkMaterial(b); err != nil {
		return "", err
	}
	if err := verifyEnvelope(v.key, b.DSSEEnvelope); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s key %s", keys.Describe(v.key), v.hint), nil
}

// checkMaterial checks that the bundle names the verifier's key.
func (v *KeyVerifier) checkMaterial(b *Bundle) error {
	pk := b.VerificationMaterial.PublicKey
	if pk == nil {
		return fmt.Errorf("%w: the signature was not made with a public key (it carries a certificate); verify it with the certificate chain", ErrSignature)
	}
	if pk.Hint != "" && pk.Hint != v.hint {
		return fmt.Errorf("%w: the signature names key %s, not the given key %s", ErrSignature, truncate(pk.Hint, 64), v.hint)
	}
	// Signatures of model_signing 0.3 and 1.0 carry the PEM public key and
	// its algorithm instead of a hint; both must be the given key's.
	if len(pk.RawBytes) > 0 {
		k, err := keys.ParsePublic(pk.RawBytes)
		if err != nil {
			return fmt.Errorf("%w: public key in the signature: %v", ErrSignature, err)
		}
		if !samePublicKey(k, v.key) {
			return fmt.Errorf("%w: the signature carries another public key than the given one", ErrSignature)
		}
	}
	if pk.KeyDetails != "" && pk.KeyDetails != keyDetails(v.key) {
		return fmt.Errorf("%w: the signature's key is %s, the given key %s", ErrSignature, truncate(pk.KeyDetails, 64), keyDetails(v.key))
	}
	return nil
}

// CertVerifier verifies signatures whose bundle carries an X.509 chain
// (leaf first) that leads to one of its trusted certificates. As the
// reference implementation does, the chain is checked at the time the leaf
// became valid, and the leaf must allow digital signatures or code signing.
type CertVerifier struct {
	roots *x509.CertPool
}

// NewCertVerifier returns a verifier that trusts the given certificates
// as roots.
func NewCertVerifier(trusted []*x509.Certificate) (*CertVerifier, error) {
	if len(trusted) == 0 {
		return nil, errors.New("no trusted certificates")
	}
	p := x509.NewCertPool()
	for _, c := range trusted {
		p.AddCert(c)
	}
	return &CertVerifier{roots: p}, nil
}

// ParseCertificates decodes every CERTIFICATE PEM block in data.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	return out, nil
}

// VerifyBundle implements Verifier.
func (v *CertVerifier) VerifyBundle(_ context.Context, b *Bundle) (string, error) {
	vm := &b.VerificationMaterial
	var raw []Certificate
	switch {
	case vm.X509CertificateChain != nil:
		raw = vm.X509CertificateChain.Certificates
	case vm.Certificate != nil:
		raw = []Certificate{*vm.Certificate}
	default:
		return "", fmt.Errorf("%w: the signature carries no certificate (it was made with a key); verify it with the public key", ErrSignature)
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, c := range raw {
		var err error
		if certs[i], err = x509.ParseCertificate(c.RawBytes); err != nil {
			return "", fmt.Errorf("%w: certificate %d of the bundle: %v", ErrSignature, i, err)
		}
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		CurrentTime:   leaf.NotBefore,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return "", fmt.Errorf("%w: signing certificate %q: %v", ErrSignature, leaf.Subject.String(), err)
	}
	canSign := leaf.KeyUsage&x509.KeyUsageDigitalSignature != 0
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning {
			canSign = true
		}
	}
	if !canSign {
		return "", fmt.Errorf("%w: certificate %q allows neither digital signatures nor code signing", ErrSignature, leaf.Subject.String())
	}
	if err := keys.Check(leaf.PublicKey); err != nil {
		return "", fmt.Errorf("%w: signing certificate: %v", ErrSignature, err)
	}
	if err := verifyEnvelope(leaf.PublicKey, b.DSSEEnvelope); err != nil {
		return "", err
	}
	return fmt.Sprintf("certificate %q issued by %q", leaf.Subject.String(), leaf.Issuer.String()), nil
}

// verifyEnvelope checks the first DSSE signature over the PAE. For
// signatures of model_signing before 1.0 it also accepts the mistaken
// encoding those releases signed, which 0.2 hashed with SHA-256 whatever
// the curve.
func verifyEnvelope(pub crypto.PublicKey, e *Envelope) error {
	sig := e.Signatures[0].Sig
	ok, err := verifyRaw(pub, PAE(e.PayloadType, e.Payload), sig, 0)
	if err != nil || ok {
		return err
	}
	compat := paeCompat(e.PayloadType, e.Payload)
	if ok, _ := verifyRaw(pub, compat, sig, 0); ok {
		return nil
	}
	if k, isEC := pub.(*ecdsa.PublicKey); isEC && k.Curve != elliptic.P256() {
		if ok, _ := verifyRaw(pub, compat, sig, crypto.SHA256); ok {
			return nil
		}
	}
	return fmt.Errorf("%w: the DSSE signature does not verify with %s key", ErrSignature, keys.Describe(pub))
}

// verifyRaw checks sig over msg; h overrides the curve's hash for ECDSA.
func verifyRaw(pub crypto.PublicKey, msg, sig []byte, h crypto.Hash) (bool, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(k, msg, sig), nil
	case *ecdsa.PublicKey:
		if h == 0 {
			var err error
			if h, err = curveHash(k.Curve); err != nil {
				return false, err
			}
		}
		return ecdsa.VerifyASN1(k, digest(h, msg), sig), nil
	}
	return false, fmt.Errorf("%w: unsupported key type %T", ErrSignature, pub)
}

// curveHash is the hash Sigstore pairs with each curve.
func curveHash(c elliptic.Curve) (crypto.Hash, error) {
	switch c {
	case elliptic.P256():
		return crypto.SHA256, nil
	case elliptic.P384():
		return crypto.SHA384, nil
	case elliptic.P521():
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("%w: unsupported curve", ErrSignature)
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(msg)
		return s[:]
	}
	s := sha256.Sum256(msg)
	return s[:]
}

// sigstoreKeyDetails are the Sigstore PublicKeyDetails names of the key
// algorithms keys.Describe names.
var sigstoreKeyDetails = map[string]string{
	"ed25519":    "PKIX_ED25519",
	"ecdsa-p256": "PKIX_ECDSA_P256_SHA_256",
	"ecdsa-p384": "PKIX_ECDSA_P384_SHA_384",
	"ecdsa-p521": "PKIX_ECDSA_P521_SHA_512",
}

// keyDetails is the Sigstore PublicKeyDetails name of a key, "" for a key
// Sigstore does not name.
func keyDetails(k crypto.PublicKey) string {
	return sigstoreKeyDetails[keys.Describe(k)]
}

// samePublicKey reports whether two public keys are equal.
func samePublicKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
