package sign

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerifyBundle parses arbitrary signature files and checks them with
// a key verifier and a certificate verifier: it must never panic.
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
	cv := vectorVerifier(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		for _, v := range []Verifier{kv, cv} {
			_, _ = v.VerifyBundle(context.Background(), b)
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
