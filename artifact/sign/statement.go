package sign

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/artifact/manifest"
)

// StatementType is the in-toto statement type of a model signature.
const StatementType = "https://in-toto.io/Statement/v1"

// PredicateType is the predicate type of the OpenSSF model signing
// specification v1.0, which model_signing 0.3 and later write.
const PredicateType = "https://model_signing/signature/v1.0"

// predicateTypeV02 is the predicate of model_signing 0.2, which listed the
// files as the statement's subjects.
const predicateTypeV02 = "https://model_signing/Digests/v0.1"

// maxResources bounds the number of files a signature may list.
const maxResources = 1 << 20

// Statement is an in-toto Statement v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is an in-toto resource descriptor naming what was signed.
type Subject struct {
	Name        string            `json:"name"`
	Digest      map[string]string `json:"digest"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Predicate is the model signing v1.0 predicate.
type Predicate struct {
	Serialization SerializationArgs `json:"serialization"`
	Resources     []Resource        `json:"resources"`
}

// SerializationArgs records how the model was serialized into resources.
type SerializationArgs struct {
	Method        string   `json:"method"`
	HashType      string   `json:"hash_type"`
	AllowSymlinks bool     `json:"allow_symlinks"`
	IgnorePaths   []string `json:"ignore_paths,omitempty"`
	ShardSize     *int64   `json:"shard_size,omitempty"`
}

// Resource is one file of the model and its digest.
type Resource struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

// Format versions that Verify reports.
const (
	FormatV1  = "model_signing v1.0 (" + PredicateType + ")"
	FormatV02 = "model_signing v0.2 (" + predicateTypeV02 + ")"
)

// NewStatement builds the in-toto statement of a manifest: the resources
// in manifest order under the predicate, and one subject, the model name
// with the SHA-256 over the concatenated resource digests.
func NewStatement(m *manifest.Manifest) (*Statement, error) {
	res := make([]Resource, len(m.Items))
	for i, it := range m.Items {
		res[i] = Resource{Name: it.Name, Algorithm: manifest.HashSHA256, Digest: hex.EncodeToString(it.Digest[:])}
	}
	ign := slices.Clone(m.Serialization.IgnorePaths)
	slices.Sort(ign)
	pred, err := json.Marshal(Predicate{
		Serialization: SerializationArgs{
			Method: m.Serialization.Method, HashType: m.Serialization.HashType,
			AllowSymlinks: m.Serialization.AllowSymlinks, IgnorePaths: ign,
		},
		Resources: res,
	})
	if err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	root := manifest.RootDigest(m.Items)
	return &Statement{
		Type:          StatementType,
		Subject:       []Subject{{Name: m.ModelName, Digest: map[string]string{"sha256": hex.EncodeToString(root[:])}}},
		PredicateType: PredicateType,
		Predicate:     pred,
	}, nil
}

// signedManifest is what a verified payload says about the model.
type signedManifest struct {
	format        string
	modelName     string
	items         []manifest.Item
	allowSymlinks bool
	ignorePaths   []string
}

// parsePayload decodes a verified DSSE payload into the signed manifest,
// checking that it is consistent (root digest, unique and clean names).
func parsePayload(payload []byte) (*signedManifest, error) {
	var st Statement
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("parse in-toto statement: %w", jsonErr(err))
	}
	if st.Type != StatementType {
		return nil, fmt.Errorf("%w: statement type %q (want %s)", ErrFormat, st.Type, StatementType)
	}
	switch st.PredicateType {
	case PredicateType:
		return parseV1(&st)
	case predicateTypeV02:
		return parseV02(&st)
	}
	return nil, fmt.Errorf("%w: predicate type %q (want %s)", ErrFormat, st.PredicateType, PredicateType)
}

func parseV1(st *Statement) (*signedManifest, error) {
	if len(st.Subject) != 1 {
		return nil, fmt.Errorf("%w: %d subjects (want exactly one, the model)", ErrFormat, len(st.Subject))
	}
	subj := st.Subject[0]
	want, err := hexDigest(subj.Digest["sha256"])
	if err != nil {
		return nil, fmt.Errorf("%w: subject digest: %v", ErrFormat, err)
	}
	var p Predicate
	if err := json.Unmarshal(st.Predicate, &p); err != nil {
		return nil, fmt.Errorf("parse predicate: %w", jsonErr(err))
	}
	s := p.Serialization
	switch {
	case s.Method == "shards":
		return nil, fmt.Errorf("%w: serialization method \"shards\" is not supported yet (only %q)", ErrFormat, manifest.MethodFiles)
	case s.Method != manifest.MethodFiles:
		return nil, fmt.Errorf("%w: serialization method %q (want %q)", ErrFormat, s.Method, manifest.MethodFiles)
	case s.HashType != manifest.HashSHA256:
		return nil, fmt.Errorf("%w: hash_type %q (only %q is supported)", ErrFormat, s.HashType, manifest.HashSHA256)
	case len(p.Resources) > maxResources:
		return nil, fmt.Errorf("%w: %d resources (at most %d)", ErrFormat, len(p.Resources), maxResources)
	}
	ign, err := manifest.NormalizeIgnores(s.IgnorePaths)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	items := make([]manifest.Item, len(p.Resources))
	seen := make(map[string]bool, len(p.Resources))
	for i, r := range p.Resources {
		if r.Algorithm != s.HashType {
			return nil, fmt.Errorf("%w: resource %q: algorithm %q (want %q)", ErrFormat, r.Name, r.Algorithm, s.HashType)
		}
		it, err := item(r.Name, r.Digest, seen)
		if err != nil {
			return nil, err
		}
		items[i] = it
	}
	if got := manifest.RootDigest(items); got != want {
		return nil, fmt.Errorf("%w: inconsistent manifest: the subject digest %x is not the digest of the listed resources (%x)", ErrFormat, want, got)
	}
	return &signedManifest{
		format: FormatV1, modelName: subj.Name, items: items,
		allowSymlinks: s.AllowSymlinks, ignorePaths: ign,
	}, nil
}

// parseV02 reads the model_signing 0.2 statement, where every subject is a
// file with its SHA-256 and there is no serialization record.
func parseV02(st *Statement) (*signedManifest, error) {
	if len(st.Subject) == 0 {
		return nil, fmt.Errorf("%w: no subjects", ErrFormat)
	}
	if len(st.Subject) > maxResources {
		return nil, fmt.Errorf("%w: %d subjects (at most %d)", ErrFormat, len(st.Subject), maxResources)
	}
	items := make([]manifest.Item, len(st.Subject))
	seen := make(map[string]bool, len(st.Subject))
	for i, s := range st.Subject {
		it, err := item(s.Name, s.Digest["sha256"], seen)
		if err != nil {
			return nil, err
		}
		items[i] = it
	}
	return &signedManifest{format: FormatV02, items: items}, nil
}

func item(name, digest string, seen map[string]bool) (manifest.Item, error) {
	if err := checkName(name); err != nil {
		return manifest.Item{}, fmt.Errorf("%w: resource name %q: %v", ErrFormat, name, err)
	}
	if seen[name] {
		return manifest.Item{}, fmt.Errorf("%w: resource %q listed twice", ErrFormat, name)
	}
	seen[name] = true
	d, err := hexDigest(digest)
	if err != nil {
		return manifest.Item{}, fmt.Errorf("%w: resource %q: %v", ErrFormat, name, err)
	}
	return manifest.Item{Name: name, Digest: d}, nil
}

// checkName accepts "." (a single-file model) and clean relative
// slash-separated paths.
func checkName(name string) error {
	switch {
	case name == ".":
		return nil
	case name == "":
		return fmt.Errorf("empty")
	case strings.ContainsRune(name, 0) || strings.ContainsRune(name, '\\'):
		return fmt.Errorf("contains NUL or backslash")
	case path.IsAbs(name):
		return fmt.Errorf("absolute path")
	case path.Clean(name) != name:
		return fmt.Errorf("not a clean path")
	case name == ".." || strings.HasPrefix(name, "../"):
		return fmt.Errorf("leaves the model folder")
	}
	return nil
}

func hexDigest(s string) ([32]byte, error) {
	var d [32]byte
	if len(s) != 64 {
		return d, fmt.Errorf("sha256 digest %q is not 64 hex digits", truncate(s, 80))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("sha256 digest %q: %v", s, err)
	}
	return d, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
