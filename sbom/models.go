package sbom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/rampartsec/rampart/artifact/sign"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/internal/ctxio"
	"github.com/rampartsec/rampart/internal/parallel"
	"github.com/rampartsec/rampart/internal/smallfile"
	"github.com/rampartsec/rampart/scan/model"
	"github.com/rampartsec/rampart/scan/model/keras"
)

// modelFile is a file the walk took for a model.
type modelFile struct {
	path   string
	format string
	size   int64
	// lfsOID is the SHA-256 (hex) a Git LFS pointer names, when the file
	// is one: the weights are not in the working tree.
	lfsOID string
}

// sniffLen is how much of a file classify reads.
const sniffLen = 4096

// modelExts are the extensions model tools load weights from. Content in
// a container format (ZIP, tar, compressed streams) or of no recognised
// format is taken for a model only under one of these names.
var modelExts = map[string]bool{
	".pt": true, ".pth": true, ".bin": true, ".ckpt": true, ".pkl": true, ".pickle": true,
	".joblib": true, ".dill": true, ".h5": true, ".hdf5": true, ".keras": true, ".onnx": true,
	".gguf": true, ".safetensors": true, ".npy": true, ".npz": true, ".mar": true, ".tflite": true,
	".pb": true, ".skops": true,
}

// compressionExts are the suffixes joblib reads a compressor from
// (joblib.dump(model, "model.pkl.xz")): a model file name under one of
// them is judged by the name before it.
var compressionExts = map[string]bool{".z": true, ".gz": true, ".bz2": true, ".xz": true, ".lzma": true, ".lz4": true, ".zst": true}

// modelExt returns the lower-case extension of p that tells a model file:
// the last one, or the one before a compression suffix.
func modelExt(p string) string {
	ext := strings.ToLower(filepath.Ext(p))
	if compressionExts[ext] {
		if inner := strings.ToLower(filepath.Ext(strings.TrimSuffix(p, filepath.Ext(p)))); modelExts[inner] {
			return inner
		}
	}
	return ext
}

// classify sniffs the file at p and records it when it holds a model.
// Formats with a distinctive header (pickle, NumPy, GGUF, safetensors,
// and HDF5 whose root attributes Keras wrote) are models whatever the
// file is called; containers and
// protobuf guesses only under a model file name, so that a zip of data or
// a random binary is not listed as a model.
func (g *generator) classify(p string) {
	f, err := os.Open(p)
	if err != nil {
		g.warn(p, "not read: %v", err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return
	}
	head := make([]byte, min(int64(sniffLen), st.Size()))
	if _, err := io.ReadFull(f, head); err != nil {
		g.warn(p, "not read: %v", err)
		return
	}
	ext := modelExt(p)
	if modelExts[ext] {
		if oid, size, ok := parseLFSPointer(head); ok && st.Size() < lfsPointerMax {
			g.modelFiles = append(g.modelFiles, modelFile{path: p, format: FormatLFSPointer, size: size, lfsOID: oid})
			return
		}
	}
	format, af := model.Sniff(head, st.Size())
	name := format.String()
	switch format {
	case model.Pickle, model.NPY, model.GGUF, model.Safetensors:
	case model.HDF5:
		if !keras.IsKerasH5(f, st.Size()) {
			return // an HDF5 file of data, not Keras weights
		}
	case model.Archive:
		if !modelExts[ext] {
			return
		}
		name = af.String()
	case model.Zlib, model.ONNX:
		if !modelExts[ext] {
			return
		}
	case model.SavedModel:
		if !modelExts[ext] && filepath.Base(p) != "saved_model.pb" {
			return
		}
	case model.JSON:
		return
	default:
		if !modelExts[ext] || ext == ".bin" || ext == ".pb" {
			return
		}
		switch {
		case keras.IsH5(f, st.Size()):
			if !keras.IsKerasH5(f, st.Size()) {
				return
			}
			name = model.HDF5.String()
		case ext == ".tflite" && len(head) >= 8 && bytes.Equal(head[4:8], []byte("TFL3")):
			name = "tflite"
		}
	}
	g.modelFiles = append(g.modelFiles, modelFile{path: p, format: name, size: st.Size()})
}

// modelInfo is what models learns about one model file.
type modelInfo struct {
	sha256, sha512 []byte
	hashErr        error
	sig            sigStatus
}

// models describes every model file found: hashes, signature status and
// the scan result.
func (g *generator) models() ([]cdx.Component, error) {
	if len(g.modelFiles) == 0 {
		return nil, nil
	}
	var paths []string
	for _, m := range g.modelFiles {
		if m.lfsOID == "" {
			paths = append(paths, m.path)
		}
	}
	rep, err := model.Scan(g.ctx, paths, model.Options{Workers: g.opts.Workers})
	if err != nil {
		return nil, fmt.Errorf("sbom: scan models: %w", err)
	}
	byFile := map[string][]finding.Finding{}
	index := map[string]bool{}
	for _, p := range paths {
		index[p] = true
	}
	for _, f := range rep.Findings {
		p := f.Location.Path
		if !index[p] {
			// A member of an archive: "outer!inner".
			for i := 0; i < len(p); i++ {
				if p[i] == '!' && index[p[:i]] {
					p = p[:i]
					break
				}
			}
		}
		byFile[p] = append(byFile[p], f)
	}

	infos := make([]modelInfo, len(g.modelFiles))
	parallel.Each(g.ctx, len(g.modelFiles), g.opts.Workers, func(_, i int) {
		if oid := g.modelFiles[i].lfsOID; oid != "" {
			infos[i].sha256, _ = hex.DecodeString(oid)
			return
		}
		infos[i].sha256, infos[i].sha512, infos[i].hashErr = hashFile(g.ctx, g.modelFiles[i].path)
	})
	if err := g.ctx.Err(); err != nil {
		return nil, err
	}
	sigs := newSigChecker(g)
	for i, m := range g.modelFiles {
		infos[i].sig = sigs.status(m.path, infos[i].sha256)
	}

	comps := make([]cdx.Component, 0, len(g.modelFiles))
	for i, m := range g.modelFiles {
		comps = append(comps, g.modelComponent(m, infos[i], byFile[m.path]))
	}
	sortComponents(comps)
	return comps, nil
}

// modelComponent renders one model file.
func (g *generator) modelComponent(m modelFile, info modelInfo, fs []finding.Finding) cdx.Component {
	rel := g.rel(m.path)
	c := cdx.Component{BOMRef: "model:" + rel, Type: cdx.ComponentTypeMachineLearningModel, Name: rel}
	if info.hashErr != nil {
		g.warn(m.path, "not hashed: %v", info.hashErr)
	} else {
		hs := []cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex.EncodeToString(info.sha256)}}
		if info.sha512 != nil {
			hs = append(hs, cdx.Hash{Algorithm: cdx.HashAlgoSHA512, Value: hex.EncodeToString(info.sha512)})
		}
		c.Hashes = &hs
	}
	props := []cdx.Property{
		property(PropModelFormat, m.format),
		property(PropModelSize, strconv.FormatInt(m.size, 10)),
		property(PropSignatureStatus, info.sig.status),
	}
	if info.sig.file != "" {
		props = append(props, property(PropSignatureFile, info.sig.file))
	}
	if info.sig.signer != "" {
		props = append(props, property(PropSignatureSigner, info.sig.signer))
	}
	if info.sig.detail != "" {
		props = append(props, property(PropSignatureDetail, info.sig.detail))
	}
	if m.lfsOID != "" {
		props = append(props, property(PropScanStatus, "not-scanned: a Git LFS pointer, the weights are not in the working tree; the SHA-256 and size are those the pointer records"))
	} else {
		props = append(props, property(PropScanStatus, "scanned"))
		props = append(props, scanProperties(fs)...)
	}
	c.Properties = &props

	params := &cdx.MLModelParameters{}
	if cfg := g.hfConfig(filepath.Dir(m.path)); cfg != nil {
		// The files of one Hugging Face model folder share the folder
		// and the model card taken from its config.json.
		props = append(props, property(PropModelFolder, g.rel(filepath.Dir(m.path))))
		c.Properties = &props
		params.ArchitectureFamily = cfg.ModelType
		if len(cfg.Architectures) > 0 {
			params.ModelArchitecture = cfg.Architectures[0]
		}
	}
	if params.ArchitectureFamily != "" || params.ModelArchitecture != "" {
		c.ModelCard = &cdx.MLModelCard{ModelParameters: params}
	}
	return c
}

// hfConfig is what the BOM takes from a Hugging Face config.json.
type hfConfig struct {
	ModelType     string   `json:"model_type"`
	Architectures []string `json:"architectures"`
}

// hfConfig reads dir/config.json once, when it is a Hugging Face model
// configuration.
func (g *generator) hfConfig(dir string) *hfConfig {
	if g.hfConfigs == nil {
		g.hfConfigs = map[string]*hfConfig{}
	}
	if c, ok := g.hfConfigs[dir]; ok {
		return c
	}
	g.hfConfigs[dir] = nil
	p := filepath.Join(dir, "config.json")
	if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
		return nil // a FIFO would block the read; a link may lead anywhere
	}
	data, err := smallfile.Read(p, 1<<20)
	if err != nil {
		return nil
	}
	var c hfConfig
	if json.Unmarshal(data, &c) != nil || c.ModelType == "" && len(c.Architectures) == 0 {
		return nil
	}
	c.ModelType = clip(c.ModelType, 200)
	if len(c.Architectures) > 0 {
		c.Architectures[0] = clip(c.Architectures[0], 200)
	}
	g.hfConfigs[dir] = &c
	return &c
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// hashFile streams the file at p through SHA-256 and SHA-512 at once.
func hashFile(ctx context.Context, p string) (s256, s512 []byte, err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	h1, h2 := sha256.New(), sha512.New()
	if _, err := io.CopyBuffer(io.MultiWriter(h1, h2), ctxio.Reader(ctx, f), make([]byte, 1<<20)); err != nil {
		return nil, nil, fmt.Errorf("hash %s: %w", p, err)
	}
	return h1.Sum(nil), h2.Sum(nil), nil
}

// sigStatus is the signature status of one model file.
type sigStatus struct {
	status, file, signer, detail string
}

// sigFile is a model.sig found in the tree, read once.
type sigFile struct {
	path    string
	bundle  *sign.Bundle
	readErr error
	digests map[string]string // resource name → SHA-256 hex, unverified
	ignored []string          // the paths the signature says it leaves out
	single  string            // for a single-file signature, the model's name
	// verification, done once per signature
	verified bool
	result   *sign.Result
	signer   string
	verr     error
}

// sigChecker finds and verifies the signatures of model files.
type sigChecker struct {
	g     *generator
	found map[string]*sigFile // folder → its model.sig, nil when none
}

func newSigChecker(g *generator) *sigChecker {
	return &sigChecker{g: g, found: map[string]*sigFile{}}
}

// at returns the model.sig in dir, read once, or nil.
func (s *sigChecker) at(dir string) *sigFile {
	if sf, ok := s.found[dir]; ok {
		return sf
	}
	p := filepath.Join(dir, sign.DefaultSignatureName)
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		s.found[dir] = nil
		return nil
	}
	sf := &sigFile{path: p}
	sf.bundle, sf.readErr = sign.ReadSignature(p)
	if sf.readErr == nil {
		sf.digests, sf.ignored, sf.single = signedDigests(sf.bundle)
	}
	s.found[dir] = sf
	return sf
}

// signedDigests reads, without verifying it, the file list a signature
// claims (name → SHA-256 hex) and the paths it says it leaves out, to tell
// which files it covers. For a single-file signature it also returns the
// model's name.
func signedDigests(b *sign.Bundle) (digests map[string]string, ignored []string, single string) {
	if b.DSSEEnvelope == nil {
		return nil, nil, ""
	}
	var st sign.Statement
	if json.Unmarshal(b.DSSEEnvelope.Payload, &st) != nil {
		return nil, nil, ""
	}
	digests = map[string]string{}
	if st.PredicateType == sign.PredicateType {
		var p sign.Predicate
		if json.Unmarshal(st.Predicate, &p) != nil {
			return nil, nil, ""
		}
		for _, r := range p.Resources {
			digests[r.Name] = strings.ToLower(r.Digest)
		}
		if len(p.Resources) == 1 && p.Resources[0].Name == "." && len(st.Subject) == 1 {
			single = st.Subject[0].Name
		}
		return digests, p.Serialization.IgnorePaths, single
	}
	for _, sub := range st.Subject {
		digests[sub.Name] = strings.ToLower(sub.Digest["sha256"])
	}
	return digests, nil, ""
}

// ignores reports whether the signature sf, found in dir, says it leaves
// the file p out.
func (sf *sigFile) ignores(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	for _, ig := range sf.ignored {
		ig = strings.TrimSuffix(ig, "/")
		if rel == ig || strings.HasPrefix(rel, ig+"/") {
			return true
		}
	}
	return false
}

// status finds the nearest model.sig, in the file's folder or a folder
// above it up to the root, that lists the file, and verifies it with the
// configured keys.
func (s *sigChecker) status(p string, digest []byte) sigStatus {
	var (
		notListed *sigFile
		ignored   bool
	)
	dir := filepath.Dir(p)
	for {
		if sf := s.at(dir); sf != nil {
			if sf.readErr != nil {
				return sigStatus{status: SignatureInvalid, file: s.g.rel(sf.path), detail: sf.readErr.Error()}
			}
			name, target, ok := covers(sf, dir, p)
			if ok {
				return s.check(sf, name, target, digest)
			}
			if notListed == nil {
				notListed, ignored = sf, sf.ignores(dir, p)
			}
		}
		if !s.g.isDir || dir == s.g.root || filepath.Dir(dir) == dir {
			break
		}
		if rel, err := filepath.Rel(s.g.root, dir); err != nil || rel == "." || !filepath.IsLocal(rel) {
			break
		}
		dir = filepath.Dir(dir)
	}
	switch {
	case notListed != nil && ignored:
		return sigStatus{status: SignatureUnsigned, file: s.g.rel(notListed.path),
			detail: "the signature leaves this file out on purpose (its ignore_paths)"}
	case notListed != nil:
		return sigStatus{status: SignatureUnsigned, file: s.g.rel(notListed.path),
			detail: "the signature does not list this file (added after signing, or signed separately)"}
	}
	return sigStatus{status: SignatureUnsigned}
}

// covers reports whether sf, found in dir, lists the file p, with the name
// the signature gives it and the model path to verify (dir, or p for a
// single-file signature).
func covers(sf *sigFile, dir, p string) (name, target string, ok bool) {
	if sf.single != "" {
		if filepath.Dir(p) == dir && filepath.Base(p) == sf.single {
			return ".", p, true
		}
		return "", "", false
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return "", "", false
	}
	rel = filepath.ToSlash(rel)
	_, ok = sf.digests[rel]
	return rel, dir, ok
}

// check verifies sf (once) and says what it means for the file name.
func (s *sigChecker) check(sf *sigFile, name, target string, digest []byte) sigStatus {
	st := sigStatus{file: s.g.rel(sf.path)}
	if len(s.g.opts.Verifiers) == 0 {
		st.status = SignatureUnverified
		if sf.digests[name] == hex.EncodeToString(digest) {
			st.detail = "no key given; the digest the signature lists matches the file"
		} else {
			st.detail = "no key given; the digest the signature lists does NOT match the file"
		}
		return st
	}
	if !sf.verified {
		sf.verified = true
		sf.verr = errNoKeyMatched
		for _, v := range s.g.opts.Verifiers {
			res, err := sign.Verify(s.g.ctx, target, sf.bundle, v, sign.Options{SignaturePath: sf.path})
			if err == nil {
				sf.result, sf.signer, sf.verr = res, res.Signer, nil
				break
			}
			if !errors.Is(err, sign.ErrSignature) {
				sf.verr = err
				break
			}
		}
	}
	switch {
	case sf.verr == nil:
		st.signer = sf.signer
		for _, c := range sf.result.Changes {
			if c.Name == name || name == "." {
				st.status = SignatureInvalid
				st.detail = fmt.Sprintf("the signature holds but the file is %s since signing", c.Kind)
				return st
			}
		}
		st.status = SignatureVerified
	case errors.Is(sf.verr, sign.ErrFormat):
		st.status = SignatureUnverified
		st.detail = sf.verr.Error()
	default:
		st.status = SignatureInvalid
		st.detail = sf.verr.Error()
	}
	return st
}

// errNoKeyMatched is the verification error when no key verifies a
// signature.
var errNoKeyMatched = fmt.Errorf("%w: no key given verifies the signature", sign.ErrSignature)

// scanProperties summarises the scan findings of one model file.
func scanProperties(fs []finding.Finding) []cdx.Property {
	sev := "none"
	var rules []string
	if len(fs) > 0 {
		top := finding.Info
		for _, f := range fs {
			top = max(top, f.Severity)
			rules = append(rules, f.RuleID)
		}
		sev = top.String()
	}
	props := []cdx.Property{property(PropScanSeverity, sev), property(PropScanFindings, strconv.Itoa(len(fs)))}
	slices.Sort(rules)
	if rules = slices.Compact(rules); len(rules) > 0 {
		props = append(props, property(PropScanRules, strings.Join(rules, ",")))
	}
	return props
}

// FormatLFSPointer is the model format of a Git LFS pointer file.
const FormatLFSPointer = "git-lfs-pointer"

// lfsPointerMax bounds the size of a Git LFS pointer file (the
// specification keeps them under 1024 bytes).
const lfsPointerMax = 1024

// parseLFSPointer reads a Git LFS pointer (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md):
// "version https://git-lfs.github.com/spec/v1", then "oid sha256:HEX" and
// "size N" among other key-value lines. It returns the object's SHA-256 in
// hex and its size.
func parseLFSPointer(data []byte) (oid string, size int64, ok bool) {
	if len(data) >= lfsPointerMax {
		return "", 0, false
	}
	rest, found := strings.CutPrefix(string(data), "version https://git-lfs.github.com/spec/v1\n")
	if !found {
		return "", 0, false
	}
	size = -1
	for line := range strings.SplitSeq(strings.TrimSuffix(rest, "\n"), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "oid":
			h, found := strings.CutPrefix(v, "sha256:")
			if !found || checkHex(h, 32) != h {
				return "", 0, false
			}
			oid = h
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return "", 0, false
			}
			size = n
		}
	}
	if oid == "" || size < 0 {
		return "", 0, false
	}
	return oid, size, true
}
