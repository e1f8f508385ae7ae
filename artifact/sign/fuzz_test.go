package sign

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerifyBundle parses arbitrary signature files and runs the checks
// of the verification material (key hint, PEM key, key details,
// certificates): it must never panic. The signature arithmetic itself is
// left out: under the fuzzer's instrumentation one ECDSA P-384 or RSA
// check takes tens of milliseconds, which starves the search, and
// TestVectorsTamperSignature runs it on every one-bit change of the
// vectors.
func FuzzVerifyBundle(f *testing.F) {
	for _, vec := range vectors {
		b, err := os.ReadFile(filepath.Join("testdata/vectors", vec.dir, "model.sig"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	kv := vectorVerifier(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		_ = kv.(*KeyVerifier).checkMaterial(b)
		if c := b.VerificationMaterial.X509CertificateChain; c != nil {
			for _, cert := range c.Certificates {
				_, _ = x509.ParseCertificate(cert.RawBytes)
			}
		}
		_, _ = parsePayload(b.DSSEEnvelope.Payload)
	})
}

// FuzzParsePayload parses arbitrary in-toto statements, which Verify
// reads only after the signature holds, so FuzzVerifyBundle cannot reach
// them.
func FuzzParsePayload(f *testing.F) {
	for _, vec := range vectors {
		b, err := ReadSignature(filepath.Join("testdata/vectors", vec.dir, "model.sig"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(b.DSSEEnvelope.Payload))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sm, err := parsePayload(data)
		if err != nil {
			return
		}
		for _, it := range sm.items {
			if checkName(it.Name) != nil {
				t.Fatalf("accepted bad name %q", it.Name)
			}
		}
	})
}
