package sbom

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/rampartsec/rampart/internal/smallfile"
	"github.com/rampartsec/rampart/scan/deps/lockfile"
)

// pkgEntry gathers every declaration of one package URL.
type pkgEntry struct {
	pkg     lockfile.Package // the first declaration
	direct  bool
	dev     bool // every declaration is a development one
	specs   []string
	sources []string // registries or indexes the files record
	repo    string   // VCS repository and commit of a package pinned to one
	commit  string
	hashes  []cdx.Hash
	occ     []cdx.EvidenceOccurrence
}

// packages reads the manifests and lockfiles under root into library
// components, sorted by package URL, and their dependency graph (see
// pkgGraph.dependencies).
func (g *generator) packages() ([]cdx.Component, []cdx.Dependency, error) {
	var files []string
	if g.isDir {
		fs, err := lockfile.Find(g.ctx, g.root)
		if err != nil {
			if g.ctx.Err() != nil {
				return nil, nil, g.ctx.Err()
			}
			g.warn("", "%v", err)
		}
		files = fs
	} else if lockfile.KindOf(g.root) != lockfile.KindUnknown {
		files = []string{g.root}
	}
	goMods := map[string]bool{}
	for _, f := range files {
		if lockfile.KindOf(f) == lockfile.KindGoMod {
			goMods[filepath.Dir(f)] = true
		}
	}

	byPURL := map[string]*pkgEntry{}
	graph := newPkgGraph()
	for _, f := range files {
		if err := g.ctx.Err(); err != nil {
			return nil, nil, err
		}
		// go.sum lists versions the build no longer uses; beside a go.mod
		// (which lists the whole build since Go 1.17) it adds nothing, and
		// its h1: hashes are not digests of an artifact.
		if lockfile.KindOf(f) == lockfile.KindGoSum && goMods[filepath.Dir(f)] {
			continue
		}
		data, err := smallfile.Read(f, lockfile.MaxFileSize)
		if err != nil {
			g.warn(f, "not read: %v", err)
			continue
		}
		pkgs, findings, err := lockfile.Parse(f, data)
		if err != nil {
			g.warn(f, "not parsed: %v", err)
			continue
		}
		for _, fd := range findings {
			if fd.RuleID == "deps.malformed" || fd.RuleID == "deps.limit" {
				g.warn(f, "line %d: %s", fd.Location.Line, fd.Message)
			}
		}
		for _, p := range pkgs {
			if p.PURL == "" {
				continue
			}
			e := byPURL[p.PURL]
			if e == nil {
				e = &pkgEntry{pkg: p, dev: true}
				byPURL[p.PURL] = e
			}
			g.addDeclaration(e, p)
		}
		if lockfile.KindOf(f).RecordsGraph() {
			graph.addFile(pkgs)
		}
	}

	// A manifest that names a package without a version (pyproject.toml,
	// a loose requirement) and a lockfile that pins it describe the same
	// dependency: the unversioned entry is folded into the pinned ones.
	pinned := map[string][]*pkgEntry{}
	for purl, e := range byPURL {
		if base, _, ok := strings.Cut(purl, "@"); ok {
			pinned[base] = append(pinned[base], e)
		}
	}
	for purl, e := range byPURL {
		if strings.Contains(purl, "@") {
			continue
		}
		targets := pinned[purl]
		if len(targets) == 0 {
			continue
		}
		for _, t := range targets {
			graph.fold(purl, t.pkg.PURL)
		}
		anyDirect := slices.ContainsFunc(targets, func(t *pkgEntry) bool { return t.direct })
		for _, t := range targets {
			t.occ = append(t.occ, e.occ...)
			t.specs = append(t.specs, e.specs...)
			if e.direct && !anyDirect {
				t.direct = true
			}
			if !e.dev {
				t.dev = false
			}
		}
		delete(byPURL, purl)
	}

	comps := make([]cdx.Component, 0, len(byPURL))
	var direct []string
	for purl, e := range byPURL {
		comps = append(comps, e.component(purl))
		if e.direct {
			direct = append(direct, purl)
		}
	}
	sortComponents(comps)
	return comps, graph.dependencies(comps, direct), nil
}

// addDeclaration records one declaration p of the package in e.
func (g *generator) addDeclaration(e *pkgEntry, p lockfile.Package) {
	e.direct = e.direct || p.Direct
	e.dev = e.dev && p.Dev
	if spec := strings.TrimLeft(p.Spec, "= "); p.Spec != "" && spec != p.Version && !slices.Contains(e.specs, p.Spec) {
		e.specs = append(e.specs, p.Spec)
	}
	if p.Source != "" && !slices.Contains(e.sources, p.Source) {
		e.sources = append(e.sources, p.Source)
	}
	if p.Commit != "" && e.commit == "" {
		e.repo, e.commit = p.Repo, p.Commit
	}
	for _, h := range p.Hashes {
		for _, ch := range convertHash(h) {
			if !slices.Contains(e.hashes, ch) {
				e.hashes = append(e.hashes, ch)
			}
		}
	}
	o := cdx.EvidenceOccurrence{Location: g.rel(p.File)}
	if p.Line > 0 {
		line := p.Line
		o.Line = &line
	}
	if !slices.ContainsFunc(e.occ, func(x cdx.EvidenceOccurrence) bool {
		return x.Location == o.Location && (x.Line == nil) == (o.Line == nil) && (x.Line == nil || *x.Line == *o.Line)
	}) {
		e.occ = append(e.occ, o)
	}
}

// component renders e as a library component.
func (e *pkgEntry) component(purl string) cdx.Component {
	c := cdx.Component{
		BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: e.pkg.Name, Version: e.pkg.Version,
		PackageURL: purl, Scope: cdx.ScopeRequired,
	}
	if e.dev {
		c.Scope = cdx.ScopeOptional
	}
	if len(e.hashes) > 0 {
		hs := slices.Clone(e.hashes)
		slices.SortFunc(hs, func(a, b cdx.Hash) int {
			return strings.Compare(string(a.Algorithm)+a.Value, string(b.Algorithm)+b.Value)
		})
		c.Hashes = &hs
	}
	props := []cdx.Property{property(PropEcosystem, e.pkg.Ecosystem)}
	specs := slices.Clone(e.specs)
	slices.Sort(specs)
	for _, s := range slices.Compact(specs) {
		props = append(props, property(PropSpec, s))
	}
	sources := slices.Clone(e.sources)
	slices.Sort(sources)
	for _, src := range sources {
		props = append(props, property(PropSource, src))
	}
	if e.commit != "" {
		props = append(props, property(PropCommit, e.commit))
		refs := []cdx.ExternalReference{{URL: "https://" + e.repo, Type: cdx.ERTypeVCS, Comment: "commit " + e.commit}}
		c.ExternalReferences = &refs
	}
	c.Properties = &props
	if len(e.occ) > 0 {
		occ := slices.Clone(e.occ)
		slices.SortFunc(occ, func(a, b cdx.EvidenceOccurrence) int {
			if c := strings.Compare(a.Location, b.Location); c != 0 {
				return c
			}
			return lineOf(a) - lineOf(b)
		})
		c.Evidence = &cdx.Evidence{Occurrences: &occ}
	}
	return c
}

func lineOf(o cdx.EvidenceOccurrence) int {
	if o.Line == nil {
		return 0
	}
	return *o.Line
}

// hashAlgorithms maps the algorithm names lockfiles use (lower case,
// without separators) to CycloneDX's, with the digest length in bytes.
var hashAlgorithms = map[string]struct {
	alg cdx.HashAlgorithm
	n   int
}{
	"md5":     {cdx.HashAlgoMD5, 16},
	"sha1":    {cdx.HashAlgoSHA1, 20},
	"sha256":  {cdx.HashAlgoSHA256, 32},
	"sha384":  {cdx.HashAlgoSHA384, 48},
	"sha512":  {cdx.HashAlgoSHA512, 64},
	"sha3256": {cdx.HashAlgoSHA3_256, 32},
	"sha3384": {cdx.HashAlgoSHA3_384, 48},
	"sha3512": {cdx.HashAlgoSHA3_512, 64},
}

// convertHash turns a lockfile hash, "algo:hex" or an SRI integrity string
// ("sha512-BASE64", several separated by spaces), into CycloneDX hashes
// with lower-case hex digests. Algorithms CycloneDX does not name (Go's
// h1: directory hash among them) and digests of the wrong length are
// dropped.
func convertHash(h string) []cdx.Hash {
	h = strings.TrimSpace(h)
	if algo, hexd, ok := strings.Cut(h, ":"); ok && !strings.ContainsAny(h, " \t") {
		d, err := hex.DecodeString(hexd)
		if err != nil {
			return nil
		}
		if ch, err := makeHash(algo, d); err == nil {
			return []cdx.Hash{ch}
		}
		return nil
	}
	var out []cdx.Hash
	for _, tok := range strings.Fields(h) {
		tok, _, _ = strings.Cut(tok, "?") // SRI options
		algo, b64, ok := strings.Cut(tok, "-")
		if !ok {
			continue
		}
		d, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if ch, err := makeHash(algo, d); err == nil {
			out = append(out, ch)
		}
	}
	return out
}

// makeHash checks digest d against algorithm algo.
func makeHash(algo string, d []byte) (cdx.Hash, error) {
	key := strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(algo))
	a, ok := hashAlgorithms[key]
	if !ok {
		return cdx.Hash{}, fmt.Errorf("hash algorithm %q: %w", algo, errors.ErrUnsupported)
	}
	if len(d) != a.n {
		return cdx.Hash{}, fmt.Errorf("%s digest of %d bytes (want %d)", algo, len(d), a.n)
	}
	return cdx.Hash{Algorithm: a.alg, Value: hex.EncodeToString(d)}, nil
}
