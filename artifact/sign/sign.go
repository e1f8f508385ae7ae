// Package sign signs and verifies model folders in the OpenSSF model
// signing (OMS) format that sigstore/model-transparency writes.
//
// A signature ("model.sig" beside the files) is a Sigstore bundle v0.3 in
// JSON holding a DSSE envelope. The envelope's payload is an in-toto
// Statement v1 with predicate type https://model_signing/signature/v1.0:
// the predicate lists every file ("resources": name, algorithm, digest,
// sorted by path) and how the list was made ("serialization": method
// "files", hash_type "sha256", allow_symlinks, ignore_paths); the one
// subject is the model's name with the SHA-256 over the concatenated
// resource digests. The envelope is signed over the DSSE pre-authentication
// encoding (PAE).
//
// Key signatures name the key by a hint, the SHA-256 of its PKIX PEM
// encoding. ECDSA keys (P-256, P-384, P-521) are interoperable with
// model_signing; Ed25519 keys are signed the same way (pure Ed25519 over
// the PAE), which Sigstore's protobuf specification allows but which not
// every model_signing release verifies.
//
// Verify reads signatures of model_signing 1.x and 0.3 (same predicate;
// 0.3 and 1.0 key signatures put the PEM key in the bundle instead of a
// hint) and 0.2 (predicate https://model_signing/Digests/v0.1, files as
// subjects, signed over a mistaken PAE that is accepted for compatibility).
// Key and X.509 chain signatures are verified offline; keyless Sigstore
// signatures (Fulcio certificate and Rekor entry) are not verified yet:
// the Signer and Verifier interfaces are where they will plug in.
package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/artifact/manifest"
)

// DefaultSignatureName is the file name of a model's signature.
const DefaultSignatureName = "model.sig"

// Options configure Sign and Verify.
type Options struct {
	// SignaturePath is where the signature is (to be) written; when it is
	// inside the model folder it is left out of the manifest. Default:
	// model.sig inside the model folder, or beside a single-file model.
	SignaturePath string
	// IgnorePaths are left out of the model, relative to its folder. Sign
	// records them (with the git paths and the signature) in the
	// signature, and Verify honours those recorded as well as these.
	IgnorePaths []string
	// IncludeGitPaths signs .git, .gitattributes, .github and .gitignore,
	// which are left out by default.
	IncludeGitPaths bool
	// AllowSymlinks includes symbolic links to files (hashed by their
	// target's content) when signing; without it a link is an error.
	// Verify takes this from the signature.
	AllowSymlinks bool
	// Workers bounds the files hashed at once (default runtime.NumCPU()).
	Workers int
}

// SignaturePathFor returns the default signature path of a model.
func SignaturePathFor(modelPath string) string {
	if fi, err := os.Stat(modelPath); err == nil && !fi.IsDir() {
		return filepath.Join(filepath.Dir(modelPath), DefaultSignatureName)
	}
	return filepath.Join(modelPath, DefaultSignatureName)
}

// ignores returns the ignore paths for the model: opts.IgnorePaths, the
// git paths unless included, and the signature file when it is inside the
// model folder.
func (o *Options) ignores(modelPath string, extra []string) ([]string, error) {
	fi, err := os.Stat(modelPath)
	if err != nil {
		return nil, fmt.Errorf("model path: %w", err)
	}
	if !fi.IsDir() {
		// A single-file model has nothing to leave out.
		return nil, nil
	}
	ign := slices.Clone(o.IgnorePaths)
	ign = append(ign, extra...)
	if !o.IncludeGitPaths {
		ign = append(ign, manifest.DefaultIgnores...)
	}
	sig := o.SignaturePath
	if sig == "" {
		sig = SignaturePathFor(modelPath)
	}
	if rel, ok := within(modelPath, sig); ok {
		ign = append(ign, rel)
	}
	return manifest.NormalizeIgnores(ign)
}

// within returns p relative to dir when p is inside dir.
func within(dir, p string) (string, bool) {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return "", false
	}
	rel, err := filepath.Rel(ad, ap)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// Sign builds the manifest of the model at modelPath (a folder or a single
// file), signs it with s and returns the bundle and the manifest. It does
// not write the bundle; see WriteSignature.
func Sign(ctx context.Context, modelPath string, s Signer, opts Options) (*Bundle, *manifest.Manifest, error) {
	ign, err := opts.ignores(modelPath, nil)
	if err != nil {
		return nil, nil, err
	}
	m, err := manifest.Build(ctx, modelPath, manifest.Options{
		IgnorePaths: ign, AllowSymlinks: opts.AllowSymlinks, Workers: opts.Workers,
	})
	if err != nil {
		return nil, nil, err
	}
	b, err := SignManifest(ctx, m, s)
	if err != nil {
		return nil, nil, err
	}
	return b, m, nil
}

// SignManifest signs an already built manifest.
func SignManifest(ctx context.Context, m *manifest.Manifest, s Signer) (*Bundle, error) {
	st, err := NewStatement(m)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	sig, vm, err := s.Sign(ctx, PAE(PayloadType, payload))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return &Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: vm,
		DSSEEnvelope: &Envelope{
			Payload: payload, PayloadType: PayloadType,
			Signatures: []Signature{{Sig: sig}},
		},
	}, nil
}

// WriteSignature writes b to path atomically (a temporary file renamed
// into place).
func WriteSignature(path string, b *Bundle) error {
	data, err := b.Marshal()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write signature: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write signature: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write signature: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write signature: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write signature: %w", err)
	}
	return nil
}

// ReadSignature reads and parses a signature file, refusing files larger
// than MaxBundleSize.
func ReadSignature(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read signature: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("read signature %s: %w", path, err)
	}
	b, err := ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", path, err)
	}
	return b, nil
}

// Result is the outcome of verifying a model whose signature is valid.
type Result struct {
	// Format is the signature format version (FormatV1 or FormatV02).
	Format string
	// Signer describes the key or certificate that signed.
	Signer string
	// ModelName is the name recorded at signing (informative).
	ModelName string
	// Files is the number of files the signature lists.
	Files int
	// Changes lists every added, removed and modified file; empty when
	// the model is exactly what was signed.
	Changes []manifest.Change
}

// OK reports whether the model matches its signature.
func (r *Result) OK() bool { return len(r.Changes) == 0 }

// Verify checks the signature b with v and then compares the model at
// modelPath with the signed manifest. It returns an error wrapping
// ErrSignature when the signature is not valid and ErrFormat when it is
// not a format this package reads; a valid signature over a changed model
// returns a Result whose Changes name every difference.
func Verify(ctx context.Context, modelPath string, b *Bundle, v Verifier, opts Options) (*Result, error) {
	signer, err := v.VerifyBundle(ctx, b)
	if err != nil {
		return nil, err
	}
	sm, err := parsePayload(b.DSSEEnvelope.Payload)
	if err != nil {
		return nil, err
	}
	ign, err := opts.ignores(modelPath, sm.ignorePaths)
	if err != nil {
		return nil, err
	}
	if len(sm.items) == 1 && sm.items[0].Name == "." {
		if fi, err := os.Stat(modelPath); err == nil && fi.IsDir() {
			return nil, fmt.Errorf("the signature covers a single file (model %q), not a folder; verify that file", sm.modelName)
		}
	}
	res := &Result{Format: sm.format, Signer: signer, ModelName: sm.modelName, Files: len(sm.items)}
	got, err := manifest.Build(ctx, modelPath, manifest.Options{
		IgnorePaths: ign, AllowSymlinks: sm.allowSymlinks, Workers: opts.Workers, AllowEmpty: true,
	})
	if err != nil {
		return nil, err
	}
	res.Changes = manifest.Diff(sm.items, got.Items)
	return res, nil
}

// VerifyFile reads the signature at opts.SignaturePath (default
// SignaturePathFor(modelPath)) and calls Verify.
func VerifyFile(ctx context.Context, modelPath string, v Verifier, opts Options) (*Result, error) {
	if opts.SignaturePath == "" {
		opts.SignaturePath = SignaturePathFor(modelPath)
	}
	b, err := ReadSignature(opts.SignaturePath)
	if err != nil {
		return nil, err
	}
	return Verify(ctx, modelPath, b, v, opts)
}
