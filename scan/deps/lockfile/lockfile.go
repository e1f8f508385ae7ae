// Package lockfile reads the dependency manifests and lockfiles of Python,
// Go, npm and Rust projects into a flat list of packages named the way OSV
// expects, and reports what is wrong with the files themselves: requirements
// not pinned to one version, requirements without hashes where hashes are
// used, and lines that do not parse.
//
// Parse chooses a parser from the file name (and, for unknown names, the
// content); Find lists the files Parse understands under a folder.
package lockfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/deps/vcs"
)

// Limits on hostile input.
const (
	// MaxFileSize is the largest file Parse accepts, and the largest
	// requirements file it reads through an include.
	MaxFileSize = 64 << 20
	// MaxPackages bounds the packages one file yields.
	MaxPackages = 500_000
	// MaxIncludeDepth bounds nested -r/-c includes of requirements files.
	MaxIncludeDepth = 8
	// MaxIncludes bounds the requirements files one Parse reads in all.
	MaxIncludes = 256
	// maxFindings bounds the findings one file yields.
	maxFindings = 10_000
	// maxFound bounds the files Find lists.
	maxFound = 100_000
	// maxNesting bounds the depth of YAML documents walked.
	maxNesting = 64
)

// Ecosystem names, as OSV spells them.
const (
	PyPI   = "PyPI"
	Go     = "Go"
	NPM    = "npm"
	Crates = "crates.io"
	Conda  = "conda"
)

// Package is one dependency read from a manifest or lockfile.
type Package struct {
	// Ecosystem is the OSV ecosystem: "PyPI", "Go", "npm", "crates.io" or "conda".
	Ecosystem string `json:"ecosystem"`
	// Name is normalised as OSV expects (PEP 503 for PyPI, lower case for
	// conda, as written otherwise).
	Name string `json:"name"`
	// Version is the exact version when the package is pinned to one.
	Version string `json:"version,omitempty"`
	// Spec is the requirement as written, e.g. ">=1.2,<2", or a URL.
	Spec string `json:"spec,omitempty"`
	// Pinned reports an exact version: "==" (or "===") in a requirement, an
	// entry of a lockfile, a Go module version, or a VCS commit.
	Pinned bool `json:"pinned"`
	// Hashes holds the artifact hashes recorded for the package, as
	// "algo:hex" (npm integrity strings are kept in their SRI form).
	Hashes []string `json:"hashes,omitempty"`
	// Direct reports a dependency the project names itself, as opposed to
	// one it pulls in transitively (lockfiles that do not record this leave
	// it false).
	Direct bool `json:"direct"`
	// Dev reports a development-only dependency.
	Dev bool `json:"dev"`
	// File is the path of the file that declares the package: the path given
	// to Parse or, for a requirements include, the included file.
	File string `json:"file"`
	// Line is the 1-based line of the declaration; zero when unknown.
	Line int `json:"line,omitempty"`
	// PURL is the package URL, with the version when one is known.
	PURL string `json:"purl,omitempty"`
	// Repo and Commit name the version-control repository (as
	// vcs.NormalizeRepo writes it, without credentials) and the full commit
	// hash of a package pinned to a commit; OSV GIT ranges are matched
	// against them. Both are empty otherwise.
	Repo   string `json:"repo,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Source is the registry or index the file records the package as
	// fetched from, credentials removed (see RedactURL): the registry of an
	// npm tarball URL ("https://registry.npmjs.org/"), the index of a
	// poetry.lock, uv.lock or Pipfile.lock entry (PyPIIndex for a
	// poetry.lock entry without a source), the index a pyproject.toml
	// (Poetry source =, [tool.uv.sources] index =) or Pipfile (index =)
	// binds the dependency to, the only --index-url of a requirements file,
	// the index URL of a Cargo.lock registry source, or the conda channel of
	// a "channel::name" spec. It is "" when the file
	// does not bind the package to one place; Indexes then lists the
	// candidates when the file names them.
	Source string `json:"source,omitempty"`
	// Indexes lists, for a package the file does not bind to one index, the
	// indexes (or conda channels) the installer searches for it, in order,
	// credentials removed: the --index-url (PyPIIndex when none is given) and
	// every --extra-index-url of a requirements tree, the sources of a
	// Pipfile or Pipfile.lock with several, the sources Poetry merges for a
	// pyproject.toml dependency (PyPI with the primary sources, then the
	// supplemental ones), the indexes uv merges under index-strategy
	// "unsafe-best-match", the channels of an environment.yml. A pip
	// install merges the candidates of every index and takes the highest
	// version, whichever index offers it.
	Indexes []string `json:"indexes,omitempty"`
	// Requires lists the packages of the same Parse result this package
	// depends on, by Key, sorted and without duplicates: the edges of the
	// dependency graph as the lockfile records them, each resolved to the
	// entry the package manager uses (Node's node_modules lookup for
	// package-lock.json, the descriptor a yarn.lock entry lists, the exact
	// version and source a Cargo.lock or uv.lock names). A dependency that
	// resolves to no package of the result (a local or workspace package,
	// an entry the file lacks) is left out, as is the package itself.
	// Only the formats of which Kind.RecordsGraph is true fill it; for the
	// others it is always empty, meaning unknown, not "none".
	Requires []string `json:"requires,omitempty"`
}

// ErrUnsupported is returned by Parse for a file it has no parser for.
var ErrUnsupported = errors.New("not a supported manifest or lockfile")

// ErrTooLarge is returned by Parse for a file over MaxFileSize.
var ErrTooLarge = errors.New("file exceeds the size limit")

var family = finding.Family{
	Name:        "deps",
	Layer:       finding.LayerSupplyChain,
	Remediation: "Pin every dependency to one exact version with its hashes, preferably through a lockfile generated by the package manager, and keep the lockfile under version control.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
		CWE:   []string{"CWE-1357"},
	},
}

var (
	ruleUnpinned  = family.Rule("unpinned", "Dependency not pinned to one exact version", finding.Medium)
	ruleNoHash    = family.Rule("no-hash", "Requirement without --hash where the file uses hash checking", finding.Low)
	ruleMalformed = family.Rule("malformed", "Manifest or lockfile entry that does not parse", finding.Low)
	ruleLimit     = family.Rule("limit", "A parsing limit was reached (include depth, file count, package count); the rest was not read", finding.Medium)
)

// Rules lists every rule the package can emit.
func Rules() []finding.Rule {
	return []finding.Rule{*ruleUnpinned, *ruleNoHash, *ruleMalformed, *ruleLimit}
}

// detector names this package in findings.
const detector = "deps.lockfile"

// Kind names the format of a file.
type Kind string

// The formats Parse understands.
const (
	KindUnknown      Kind = ""
	KindRequirements Kind = "requirements.txt"
	KindPyproject    Kind = "pyproject.toml"
	KindPipfile      Kind = "Pipfile"
	KindPoetryLock   Kind = "poetry.lock"
	KindUVLock       Kind = "uv.lock"
	KindPipfileLock  Kind = "Pipfile.lock"
	KindCondaEnv     Kind = "environment.yml"
	KindGoMod        Kind = "go.mod"
	KindGoSum        Kind = "go.sum"
	KindPackageLock  Kind = "package-lock.json"
	KindPnpmLock     Kind = "pnpm-lock.yaml"
	KindYarnLock     Kind = "yarn.lock"
	KindCargoLock    Kind = "Cargo.lock"
	KindConstraints  Kind = "constraints.txt"
)

var (
	reRequirementsName = regexp.MustCompile(`(?i)^(.*[-_.])?requirements([-_.].*)?\.(txt|in)$`)
	reConstraintsName  = regexp.MustCompile(`(?i)^(.*[-_.])?constraints([-_.].*)?\.txt$`)
	reCondaName        = regexp.MustCompile(`(?i)^(.*[-_.])?environment([-_.].*)?\.ya?ml$`)
)

// KindOf names the format of a file from its path alone.
func KindOf(path string) Kind {
	base := filepath.Base(path)
	switch base {
	case "pyproject.toml":
		return KindPyproject
	case "Pipfile":
		return KindPipfile
	case "poetry.lock":
		return KindPoetryLock
	case "uv.lock":
		return KindUVLock
	case "Pipfile.lock":
		return KindPipfileLock
	case "go.mod":
		return KindGoMod
	case "go.sum":
		return KindGoSum
	case "package-lock.json", "npm-shrinkwrap.json":
		return KindPackageLock
	case "pnpm-lock.yaml":
		return KindPnpmLock
	case "yarn.lock":
		return KindYarnLock
	case "Cargo.lock":
		return KindCargoLock
	}
	switch {
	case reRequirementsName.MatchString(base):
		return KindRequirements
	case reConstraintsName.MatchString(base):
		return KindConstraints
	case reCondaName.MatchString(base):
		return KindCondaEnv
	case strings.EqualFold(filepath.Ext(base), ".txt") && strings.EqualFold(filepath.Base(filepath.Dir(path)), "requirements"):
		// requirements/dev.txt and the like.
		return KindRequirements
	}
	return KindUnknown
}

// sniff names the format of a file with an unknown name from its content.
func sniff(data []byte) Kind {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	s := strings.TrimLeft(string(head), "\ufeff \t\r\n")
	switch {
	case strings.HasPrefix(s, "# yarn lockfile v1"), strings.HasPrefix(s, "__metadata:"),
		strings.Contains(s, "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n"):
		return KindYarnLock
	case strings.HasPrefix(s, "lockfileVersion:"):
		return KindPnpmLock
	case strings.HasPrefix(s, "{") && strings.Contains(s, `"lockfileVersion"`):
		return KindPackageLock
	case strings.HasPrefix(s, "{") && strings.Contains(s, `"_meta"`) && strings.Contains(s, `"pipfile-spec"`):
		return KindPipfileLock
	case strings.HasPrefix(s, "module ") || strings.HasPrefix(s, "module\t"):
		return KindGoMod
	case strings.Contains(s, "# This file is automatically @generated by Cargo."):
		return KindCargoLock
	case strings.Contains(s, "# This file is automatically @generated by Poetry"):
		return KindPoetryLock
	case strings.HasPrefix(s, "version = 1\nrequires-python") || strings.HasPrefix(s, "version = 1\nrevision"):
		return KindUVLock
	}
	return KindUnknown
}

// Parse reads the manifest or lockfile at path, whose content is data, and
// returns its packages and the findings about the file. The parser is chosen
// from the file name, or from the content when the name is not one Parse
// knows. Content that does not parse yields a deps.malformed finding, not an
// error; the error is for a file Parse has no parser for (ErrUnsupported) or
// one over MaxFileSize (ErrTooLarge).
//
// Parse reads from disk in two cases: the files a requirements file includes
// with -r/-c (relative to the including file), and, for pyproject.toml,
// Pipfile and environment.yml, whether a lockfile sits next to the file
// (then unpinned versions are not reported: the lockfile pins them).
// Findings carry Location.Line; Location.Path is set only for findings in a
// file other than path (a requirements include), and left to the caller
// otherwise.
func Parse(path string, data []byte) ([]Package, []finding.Finding, error) {
	if len(data) > MaxFileSize {
		return nil, nil, fmt.Errorf("%s: %d bytes: %w", path, len(data), ErrTooLarge)
	}
	k := KindOf(path)
	if k == KindUnknown {
		k = sniff(data)
	}
	p := &parser{path: path}
	switch k {
	case KindRequirements:
		p.requirements(data, false)
	case KindConstraints:
		p.requirements(data, true)
	case KindPyproject:
		p.pyproject(data)
	case KindPipfile:
		p.pipfile(data)
	case KindPoetryLock:
		p.poetryLock(data)
	case KindUVLock:
		p.uvLock(data)
	case KindPipfileLock:
		p.pipfileLock(data)
	case KindCondaEnv:
		p.condaEnv(data)
	case KindGoMod:
		p.goMod(data)
	case KindGoSum:
		p.goSum(data)
	case KindPackageLock:
		p.packageLock(data)
	case KindPnpmLock:
		p.pnpmLock(data)
	case KindYarnLock:
		p.yarnLock(data)
	case KindCargoLock:
		p.cargoLock(data)
	default:
		return nil, nil, fmt.Errorf("%s: %w", path, ErrUnsupported)
	}
	for i := range p.pkgs {
		p.pkgs[i].PURL = purl(p.pkgs[i])
		p.pkgs[i].Repo, p.pkgs[i].Commit = vcs.Ref(p.pkgs[i].Spec)
		p.pkgs[i].Spec = redactUserinfo(p.pkgs[i].Spec)
	}
	p.link()
	return p.pkgs, p.findings, nil
}

// parser collects the packages and findings of one Parse.
type parser struct {
	path     string
	pkgs     []Package
	findings []finding.Finding
	full     bool // MaxPackages reached
	// dependency graph state (graph.go)
	edges     []edge
	edgesFull bool // maxEdges reached
	// requirements state
	includes int
	stack    []string
}

// add appends a package, unless MaxPackages is reached.
func (p *parser) add(pkg Package) bool {
	if len(p.pkgs) >= MaxPackages {
		if !p.full {
			p.full = true
			p.report(ruleLimit, pkg.File, pkg.Line, pkg.Name, fmt.Sprintf("more than %d packages; the rest of the file was not read", MaxPackages))
		}
		return false
	}
	if pkg.File == "" {
		pkg.File = p.path
	}
	if strings.Trim(pkg.Name, "-") == "" {
		p.malformed(pkg.File, pkg.Line, pkg.Spec, errors.New("package without a name"))
		return true // the entry is dropped, the file goes on
	}
	p.pkgs = append(p.pkgs, pkg)
	return true
}

// report appends a finding about line of file.
func (p *parser) report(r *finding.Rule, file string, line int, excerpt, msg string) {
	if len(p.findings) >= maxFindings {
		return
	}
	loc := finding.Location{Line: line}
	if file != "" && file != p.path {
		loc.Path = file
	}
	// Specs and lines may hold URLs with credentials: none reaches a finding.
	excerpt, msg = redactUserinfo(excerpt), redactUserinfo(msg)
	if len(excerpt) > 200 {
		excerpt = excerpt[:200] + "…"
	}
	f := finding.New(r, loc, 1, excerpt)
	f.Message = msg
	f.Detector = detector
	p.findings = append(p.findings, f)
}

// malformed reports a line or file that does not parse.
func (p *parser) malformed(file string, line int, excerpt string, err error) {
	p.report(ruleMalformed, file, line, excerpt, fmt.Sprintf("%s: %v", KindOf(file), err))
}

// reportUnpinned reports a direct dependency that allows more than one version.
func (p *parser) reportUnpinned(pkg Package) {
	spec := pkg.Spec
	if spec == "" {
		spec = "any version"
	}
	p.report(ruleUnpinned, pkg.File, pkg.Line, strings.TrimSpace(pkg.Name+" "+pkg.Spec),
		fmt.Sprintf("%s %s allows %s; pin it with == to one exact version", pkg.Ecosystem, pkg.Name, spec))
}

var rePEP503 = regexp.MustCompile(`[-_.]+`)

// normalise returns name as OSV matches it in ecosystem eco.
func normalise(eco, name string) string {
	switch eco {
	case PyPI:
		return strings.ToLower(rePEP503.ReplaceAllString(name, "-"))
	case Conda:
		return strings.ToLower(name)
	}
	return name
}

// purl returns the package URL of pkg (https://github.com/package-url/purl-spec).
func purl(pkg Package) string {
	var typ, name string
	switch pkg.Ecosystem {
	case PyPI:
		typ, name = "pypi", url.PathEscape(pkg.Name)
	case Conda:
		typ, name = "conda", url.PathEscape(pkg.Name)
	case Crates:
		typ, name = "cargo", url.PathEscape(pkg.Name)
	case Go:
		typ, name = "golang", escapeSegments(pkg.Name)
	case NPM:
		typ, name = "npm", escapeSegments(pkg.Name)
	default:
		return ""
	}
	if name == "" {
		return ""
	}
	s := "pkg:" + typ + "/" + name
	if pkg.Version != "" {
		s += "@" + url.PathEscape(pkg.Version)
	}
	return s
}

// escapeSegments percent-encodes each /-separated segment of a namespaced
// name ("@" becomes %40, as purl requires for npm scopes).
func escapeSegments(name string) string {
	parts := strings.Split(name, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
		parts[i] = strings.ReplaceAll(parts[i], "@", "%40")
	}
	return strings.Join(parts, "/")
}

// skipDirs are never descended into by Find.
var skipDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, "node_modules": true, ".venv": true,
	"venv": true, "vendor": true, "__pycache__": true, ".tox": true, ".nox": true,
	".mypy_cache": true, ".pytest_cache": true, "site-packages": true,
}

// Find lists, sorted, the manifests and lockfiles under root that Parse
// understands by name, skipping version-control folders, node_modules,
// virtual environments and vendor folders. Symbolic links are not followed.
func Find(ctx context.Context, root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // unreadable subfolder: skip it
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if KindOf(path) != KindUnknown {
			if len(out) >= maxFound {
				return fmt.Errorf("more than %d manifests and lockfiles", maxFound)
			}
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("find lockfiles under %s: %w", root, err)
	}
	sort.Strings(out)
	return out, nil
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	n := 1
	for _, b := range data[:off] {
		if b == '\n' {
			n++
		}
	}
	return n
}

// lineIndex answers lineAt for many offsets in one pass over the data.
type lineIndex []int // offsets of line starts

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range data {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the 1-based line holding byte offset off.
func (idx lineIndex) line(off int) int {
	return sort.Search(len(idx), func(i int) bool { return idx[i] > off })
}
