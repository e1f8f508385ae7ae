package sign

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/artifact/keys"
)

// vector is one signature of the OpenSSF model-signing test set in
// testdata/vectors (Apache-2.0, from sigstore/model-transparency).
type vector struct {
	dir    string
	cert   bool     // signed with a certificate chain, not a bare key
	file   string   // the model is this single file of dir
	ignore []string // --ignore-paths given to the reference verifier
	format string
	signed []string // the files the signature covers
}

var vectors = []vector{
	{dir: "v0.2.0-certificate", cert: true, format: FormatV02, signed: []string{"signme-1", "signme-2"}},
	{dir: "v0.3.1-certificate", cert: true, format: FormatV1, signed: []string{"signme-1", "signme-2"}},
	{dir: "v0.3.1-elliptic-key", file: "signme-1", format: FormatV1, signed: []string{"signme-1"}},
	{dir: "v1.0.0-certificate", cert: true, format: FormatV1, signed: []string{"signme-1", "signme-2"}},
	{dir: "v1.0.0-elliptic-key", file: "signme-1", format: FormatV1, signed: []string{"signme-1"}},
	{dir: "v1.0.1-certificate", cert: true, ignore: []string{"ignore-me"}, format: FormatV1, signed: []string{"signme-1", "signme-2"}},
	{dir: "v1.0.1-elliptic-key", ignore: []string{"ignore-me"}, format: FormatV1, signed: []string{"signme-1", "signme-2"}},
	{dir: "v1.1.0-certificate", cert: true, format: FormatV1, signed: []string{"signme-1", "signme-2"}},
	{dir: "v1.1.0-elliptic-key", format: FormatV1, signed: []string{"signme-1", "signme-2"}},
}

func vectorVerifier(t testing.TB, cert bool) Verifier {
	t.Helper()
	if cert {
		data, err := os.ReadFile("testdata/vectors/keys/ca-cert.pem")
		if err != nil {
			t.Fatal(err)
		}
		roots, err := ParseCertificates(data)
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewCertVerifier(roots)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pub, err := keys.LoadPublic("testdata/vectors/keys/signing-key-pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewKeyVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// copyVector copies a vector folder into a temporary folder that the test
// may change.
func copyVector(t testing.TB, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata/vectors", name))); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	return dst
}

func verifyVector(t testing.TB, vec vector, dir string) (*Result, error) {
	t.Helper()
	model := dir
	if vec.file != "" {
		model = filepath.Join(dir, vec.file)
	}
	return VerifyFile(context.Background(), model, vectorVerifier(t, vec.cert), Options{
		SignaturePath: filepath.Join(dir, "model.sig"),
		IgnorePaths:   vec.ignore,
	})
}

func TestVectorsVerify(t *testing.T) {
	for _, vec := range vectors {
		t.Run(vec.dir, func(t *testing.T) {
			res, err := verifyVector(t, vec, filepath.Join("testdata/vectors", vec.dir))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if !res.OK() {
				t.Fatalf("changes: %v", res.Changes)
			}
			if res.Format != vec.format {
				t.Errorf("format = %q, want %q", res.Format, vec.format)
			}
			if res.Files != len(vec.signed) {
				t.Errorf("files = %d, want %d", res.Files, len(vec.signed))
			}
			t.Logf("%s: %s, signer %s", vec.dir, res.Format, res.Signer)
		})
	}
}

// TestVectorsWrongTrust verifies each vector with the other kind of
// material and with a key it was not made with.
func TestVectorsWrongTrust(t *testing.T) {
	other, err := keys.Generate(keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := NewKeyVerifier(other.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, vec := range vectors {
		t.Run(vec.dir, func(t *testing.T) {
			model := filepath.Join("testdata/vectors", vec.dir)
			if vec.file != "" {
				model = filepath.Join(model, vec.file)
			}
			opts := Options{SignaturePath: filepath.Join("testdata/vectors", vec.dir, "model.sig"), IgnorePaths: vec.ignore}
			for name, v := range map[string]Verifier{"other kind": vectorVerifier(t, !vec.cert), "wrong key": wrong} {
				if vec.cert && name == "wrong key" {
					continue
				}
				if _, err := VerifyFile(context.Background(), model, v, opts); !errors.Is(err, ErrSignature) {
					t.Errorf("%s: err = %v, want ErrSignature", name, err)
				}
			}
		})
	}
}

func TestVectorsTamperFile(t *testing.T) {
	for _, vec := range vectors {
		for _, f := range vec.signed {
			t.Run(vec.dir+"/"+f, func(t *testing.T) {
				dir := copyVector(t, vec.dir)
				p := filepath.Join(dir, f)
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				for i := range data {
					data[i] ^= 0x01
					if err := os.WriteFile(p, data, 0o644); err != nil {
						t.Fatal(err)
					}
					res, err := verifyVector(t, vec, dir)
					if err != nil {
						t.Fatalf("byte %d: %v", i, err)
					}
					if len(res.Changes) != 1 || res.Changes[0].Kind.String() != "modified" {
						t.Fatalf("byte %d changed: changes = %v, want one modified", i, res.Changes)
					}
					data[i] ^= 0x01
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
				if res, err := verifyVector(t, vec, dir); err != nil || !res.OK() {
					t.Fatalf("restored: %v %v", res, err)
				}
			})
		}
	}
}

func TestVectorsAddFile(t *testing.T) {
	for _, vec := range vectors {
		if vec.file != "" {
			continue // a single-file model has no folder to add to
		}
		t.Run(vec.dir, func(t *testing.T) {
			dir := copyVector(t, vec.dir)
			if err := os.WriteFile(filepath.Join(dir, "added"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := verifyVector(t, vec, dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changes) != 1 || res.Changes[0].String() != "added: added" {
				t.Fatalf("changes = %v, want added: added", res.Changes)
			}
			if err := os.Remove(filepath.Join(dir, vec.signed[0])); err != nil {
				t.Fatal(err)
			}
			res, err = verifyVector(t, vec, dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changes) != 2 || res.Changes[1].String() != "removed: "+vec.signed[0] {
				t.Fatalf("changes = %v, want added and removed", res.Changes)
			}
		})
	}
}

// TestVectorsTamperSignature flips one bit of bytes of each model.sig in
// turn; every change must make verification fail. By default it changes
// the first 512 bytes (the bundle's structure) and every 37th byte after
// (every 101st with -short); RAMPART_SIG_ALL_BYTES=1 changes every byte
// (about 50 s on an idle 2-core machine).
func TestVectorsTamperSignature(t *testing.T) {
	stride := 37
	if testing.Short() {
		stride = 101
	}
	if os.Getenv("RAMPART_SIG_ALL_BYTES") == "1" {
		stride = 1
	}
	for _, vec := range vectors {
		t.Run(vec.dir, func(t *testing.T) {
			dir := copyVector(t, vec.dir)
			sigPath := filepath.Join(dir, "model.sig")
			orig, err := os.ReadFile(sigPath)
			if err != nil {
				t.Fatal(err)
			}
			v := vectorVerifier(t, vec.cert)
			model := dir
			if vec.file != "" {
				model = filepath.Join(dir, vec.file)
			}
			for i := range orig {
				if i >= 512 && i%stride != 0 {
					continue
				}
				data := append([]byte(nil), orig...)
				data[i] ^= 0x01
				b, err := ParseBundle(data)
				if err != nil {
					continue
				}
				res, err := Verify(context.Background(), model, b, v, Options{SignaturePath: sigPath, IgnorePaths: vec.ignore})
				if err == nil && res.OK() {
					t.Errorf("byte %d (%q→%q) changed and the signature still verifies", i, orig[i], data[i])
				}
			}
		})
	}
}
