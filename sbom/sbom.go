// Package sbom builds the AI bill of materials of a repository as a
// CycloneDX 1.6 document: the packages its manifests and lockfiles name
// (library components with package URLs and hashes), the model files it
// holds (machine-learning-model components with their format, SHA-256 and
// SHA-512, signature status and `rampart scan model` result), and the
// datasets it describes with a data manifest (a Hugging Face dataset card,
// a Frictionless datapackage.json or an MLCommons Croissant file: data
// components with their licence and local data files, hashed).
//
// Generate walks a folder within limits and never fails on a malformed
// file: what could not be read becomes a "rampart:warning" property of the
// BOM's metadata. Write encodes the BOM as CycloneDX 1.6 JSON.
package sbom

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/rampartsec/rampart/artifact/sign"
	"github.com/rampartsec/rampart/internal/version"
)

// Options configure Generate. The zero value of a field takes its default.
type Options struct {
	// Verifiers are the keys (or certificate chains) a model signature is
	// verified with. Without any, a signature found is reported as present
	// but not verified.
	Verifiers []sign.Verifier
	// Time is the BOM's timestamp; default time.Now().
	Time time.Time
	// SerialNumber is the BOM's serial number, "urn:uuid:…"; default a
	// random (version 4) UUID.
	SerialNumber string
	// MaxFiles bounds the files looked at in the walk for models and data
	// manifests; default 200,000.
	MaxFiles int
	// MaxDepth bounds how deep the walk descends below root; default 32.
	MaxDepth int
	// MaxDataFiles bounds the data files listed for one dataset; default
	// 10,000.
	MaxDataFiles int
	// Workers is the number of model files scanned at once; default
	// GOMAXPROCS.
	Workers int
}

func (o Options) withDefaults() Options {
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 200_000
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 32
	}
	if o.MaxDataFiles <= 0 {
		o.MaxDataFiles = 10_000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// maxWarnings bounds the warnings recorded in one BOM.
const maxWarnings = 1000

// Property names, all under the "rampart:" namespace.
const (
	PropWarning         = "rampart:warning"
	PropEcosystem       = "rampart:package:ecosystem"
	PropSpec            = "rampart:package:spec"
	PropSource          = "rampart:package:source"
	PropCommit          = "rampart:package:commit"
	PropModelFormat     = "rampart:model:format"
	PropModelSize       = "rampart:model:size"
	PropModelFolder     = "rampart:model:folder"
	PropSignatureStatus = "rampart:signature:status"
	PropSignatureFile   = "rampart:signature:file"
	PropSignatureSigner = "rampart:signature:signer"
	PropSignatureDetail = "rampart:signature:detail"
	PropScanStatus      = "rampart:scan:status"
	PropScanSeverity    = "rampart:scan:max-severity"
	PropScanFindings    = "rampart:scan:findings"
	PropScanRules       = "rampart:scan:rules"
	PropDataManifest    = "rampart:data:manifest"
	PropDataFormat      = "rampart:data:manifest-format"
	PropDataLocal       = "rampart:data:local"
	PropDataSize        = "rampart:data:size"
)

// Signature statuses of a model component (property PropSignatureStatus).
const (
	// SignatureVerified: a model.sig covering the file verifies with one of
	// Options.Verifiers and the file is unchanged since it was signed.
	SignatureVerified = "verified"
	// SignatureUnverified: a model.sig lists the file, but no key was given
	// to verify it with (or its kind of signature cannot be verified yet).
	SignatureUnverified = "unverified"
	// SignatureInvalid: the signature does not verify with any key given,
	// cannot be read, or the file changed since it was signed.
	SignatureInvalid = "invalid"
	// SignatureUnsigned: no model.sig beside or above the file lists it.
	SignatureUnsigned = "unsigned"
)

// rootRef is the bom-ref of the application the BOM describes.
const rootRef = "application"

// Generate builds the BOM of the folder (or single file) root. The error is
// for a root that cannot be read at all or a context that ended; problems
// with individual files are recorded as warnings in the BOM.
func Generate(ctx context.Context, root string, opts Options) (*cdx.BOM, error) {
	opts = opts.withDefaults()
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	serial := opts.SerialNumber
	if serial == "" {
		if serial, err = newSerial(); err != nil {
			return nil, err
		}
	}
	g := &generator{ctx: ctx, opts: opts, root: root, isDir: st.IsDir()}

	libs, deps, err := g.packages()
	if err != nil {
		return nil, err
	}
	if err := g.walk(); err != nil {
		return nil, err
	}
	models, err := g.models()
	if err != nil {
		return nil, err
	}
	data := g.datasets()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	comps := make([]cdx.Component, 0, len(libs)+len(models)+len(data))
	comps = append(comps, libs...)
	comps = append(comps, models...)
	comps = append(comps, data...)

	name := filepath.Base(abs)
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.SerialNumber = serial
	bom.Metadata = &cdx.Metadata{
		Timestamp: opts.Time.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "rampart", Version: version.Get().Version,
			ExternalReferences: &[]cdx.ExternalReference{{Type: cdx.ERTypeVCS, URL: "https://github.com/rampartsec/rampart"}},
		}}},
		Component: &cdx.Component{BOMRef: rootRef, Type: cdx.ComponentTypeApplication, Name: name},
	}
	if len(g.warnings) > 0 {
		props := make([]cdx.Property, len(g.warnings))
		for i, w := range g.warnings {
			props[i] = cdx.Property{Name: PropWarning, Value: w}
		}
		bom.Metadata.Properties = &props
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}
	if len(deps) > 0 {
		bom.Dependencies = &deps
	}
	return bom, nil
}

// Write encodes bom as indented CycloneDX 1.6 JSON.
func Write(w io.Writer, bom *cdx.BOM) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("sbom: encode: %w", err)
	}
	return nil
}

// newSerial returns a random urn:uuid serial number (RFC 9562 version 4).
func newSerial() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sbom: serial number: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// generator holds the state of one Generate.
type generator struct {
	ctx      context.Context
	opts     Options
	root     string
	rootReal string // root with links resolved, absolute; set by inside
	isDir    bool
	warnings []string

	modelFiles []modelFile // from walk
	manifests  []string    // data manifests, from walk
	hfConfigs  map[string]*hfConfig
}

// warn records a warning about a file (path relative to root) or the walk.
func (g *generator) warn(path, format string, args ...any) {
	if len(g.warnings) >= maxWarnings {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = g.rel(path) + ": " + msg
	}
	g.warnings = append(g.warnings, msg)
}

// rel returns path relative to root, slash-separated, as the BOM names
// files. A single-file root is named by its base name.
func (g *generator) rel(path string) string {
	if !g.isDir {
		return filepath.ToSlash(filepath.Base(path))
	}
	r, err := filepath.Rel(g.root, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(r)
}

// skipDirs are folders the walk never enters: version control, package
// caches and virtual environments.
var skipDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, "node_modules": true, ".venv": true,
	"venv": true, "__pycache__": true, ".tox": true, ".nox": true, ".mypy_cache": true,
	".pytest_cache": true, "site-packages": true, ".ipynb_checkpoints": true,
}

// walk lists model files and data manifests under root within the limits.
// Symbolic links are not followed.
func (g *generator) walk() error {
	files := 0
	err := filepath.WalkDir(g.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == g.root {
				return err
			}
			g.warn(p, "not read: %v", err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := g.ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p == g.root {
				return nil
			}
			if skipDirs[d.Name()] {
				return fs.SkipDir
			}
			if strings.Count(g.rel(p), "/")+1 > g.opts.MaxDepth {
				g.warn(p, "deeper than %d folders; not walked", g.opts.MaxDepth)
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		files++
		if files > g.opts.MaxFiles {
			g.warn("", "more than %d files under the root; the rest were not looked at", g.opts.MaxFiles)
			return fs.SkipAll
		}
		if manifestKindOf(d.Name()) != "" {
			g.manifests = append(g.manifests, p)
		}
		g.classify(p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sbom: walk %s: %w", g.root, err)
	}
	return nil
}

// property returns a property, for brevity.
func property(name, value string) cdx.Property { return cdx.Property{Name: name, Value: value} }

// sortComponents orders components by bom-ref.
func sortComponents(cs []cdx.Component) {
	slices.SortFunc(cs, func(a, b cdx.Component) int { return cmp.Compare(a.BOMRef, b.BOMRef) })
}
