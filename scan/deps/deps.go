// Package deps is `rampart scan deps`: it reads every manifest and lockfile
// under a folder (Python, Go, npm, Cargo), reports dependencies that are not
// pinned or not hashed, matches the pinned versions against an offline OSV
// database (known vulnerabilities and malicious packages), flags names that
// imitate popular ML and LLM packages, and reads the project's Python code
// and notebooks for unsafe model loading.
package deps

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/internal/smallfile"
	"github.com/rampartsec/rampart/scan/deps/confusion"
	"github.com/rampartsec/rampart/scan/deps/lockfile"
	"github.com/rampartsec/rampart/scan/deps/osv"
	"github.com/rampartsec/rampart/scan/deps/pyload"
	"github.com/rampartsec/rampart/scan/deps/typosquat"
)

// Options configure a scan.
type Options struct {
	// Vulns answers vulnerability queries: an offline database (osv.Open)
	// or the online client. Nil skips vulnerability matching, and the scan
	// says so with one info finding.
	Vulns osv.Source
	// Private lists patterns of the organisation's own package names
	// (path.Match syntax, e.g. "acme-*"); they are never reported as
	// imitations of public packages, and are checked for dependency
	// confusion (see package confusion).
	Private []string
	// SkipCode leaves Python files and notebooks out.
	SkipCode bool
}

var family = finding.Family{
	Name:        "deps",
	Layer:       finding.LayerSupplyChain,
	Remediation: "Check the package name against the project you meant to install, and remove or replace the dependency.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
		CWE:   []string{"CWE-1357"},
	},
}

var (
	// RuleTyposquat is a dependency whose name imitates a popular package.
	RuleTyposquat = family.Rule("typosquat", "Dependency name imitates a popular ML or LLM package", finding.High)
	// RuleNoVulnDB says vulnerability matching did not run.
	RuleNoVulnDB = family.Rule("no-vulndb", "No vulnerability database: known vulnerabilities were not checked (run rampart vulndb import)", finding.Info)
	// RuleOffline says the OSV API could not be reached and the offline
	// database answered instead.
	RuleOffline = family.Rule("osv-api-unreachable", "OSV API unreachable: vulnerabilities were matched against the offline database only", finding.Low)
	// RuleUnreadable is a dependency file that could not be read.
	RuleUnreadable = family.Rule("unreadable", "Dependency file could not be read", finding.Medium)
)

// Rules lists every rule a deps scan can report.
func Rules() []finding.Rule {
	out := []finding.Rule{*RuleTyposquat, *RuleNoVulnDB, *RuleOffline, *RuleUnreadable}
	out = append(out, lockfile.Rules()...)
	out = append(out, osv.Rules()...)
	out = append(out, confusion.Rules()...)
	for _, r := range pyload.Rules() {
		out = append(out, *r)
	}
	return out
}

// maxCodeFile bounds the Python files and notebooks read.
const maxCodeFile = pyload.MaxSource

// Result is what a scan found.
type Result struct {
	Findings []finding.Finding
	// Packages are the dependencies read, in file order.
	Packages []lockfile.Package
	// Files are the dependency files read.
	Files []string
}

// Scan scans the folder (or single file) root.
func Scan(ctx context.Context, root string, opts Options) (*Result, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("scan deps: %w", err)
	}
	res := &Result{}
	var files []string
	if st.IsDir() {
		if files, err = lockfile.Find(ctx, root); err != nil {
			return nil, fmt.Errorf("scan deps: %w", err)
		}
	} else if lockfile.KindOf(root) != "" {
		files = []string{root}
	}
	for _, f := range files {
		data, err := smallfile.Read(f, lockfile.MaxFileSize)
		if err != nil {
			res.Findings = append(res.Findings, fileFinding(RuleUnreadable, f, 0, "", err.Error()))
			continue
		}
		pkgs, fs, err := lockfile.Parse(f, data)
		if err != nil {
			res.Findings = append(res.Findings, fileFinding(RuleUnreadable, f, 0, "", err.Error()))
			continue
		}
		for i := range fs {
			if fs[i].Location.Path == "" {
				fs[i].Location.Path = f
			}
		}
		res.Files = append(res.Files, f)
		res.Packages = append(res.Packages, pkgs...)
		res.Findings = append(res.Findings, fs...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Names that imitate popular packages, once per name and file.
	seen := map[string]bool{}
	for _, p := range res.Packages {
		key := p.Ecosystem + "\x00" + p.Name + "\x00" + p.File
		if seen[key] {
			continue
		}
		seen[key] = true
		if typosquat.Private(p.Ecosystem, p.Name, opts.Private) {
			continue
		}
		if m, ok := typosquat.Check(p.Ecosystem, p.Name); ok {
			f := fileFinding(RuleTyposquat, p.File, p.Line, p.Name, fmt.Sprintf("%q looks like %q (%s); check that this is the package you meant", p.Name, m.Popular, m.Kind))
			res.Findings = append(res.Findings, f)
		}
	}

	// Private names a public registry could serve (dependency confusion).
	res.Findings = append(res.Findings, confusion.Check(res.Packages, opts.Private)...)

	// Known vulnerabilities of the pinned versions.
	if opts.Vulns == nil {
		if len(res.Packages) > 0 {
			res.Findings = append(res.Findings, fileFinding(RuleNoVulnDB, root, 0, "", "no vulnerability database was given"))
		}
	} else if err := matchVulns(ctx, opts.Vulns, res); err != nil {
		return nil, err
	} else if fb, ok := opts.Vulns.(*osv.Fallback); ok && fb.Err() != nil {
		res.Findings = append(res.Findings, fileFinding(RuleOffline, root, 0, "", fmt.Sprintf("the OSV API failed (%v); the offline database answered", clipErr(fb.Err()))))
	}

	if !opts.SkipCode && st.IsDir() {
		if err := scanCode(ctx, root, res); err != nil {
			return nil, err
		}
	} else if !opts.SkipCode {
		res.Findings = append(res.Findings, checkCode(root)...)
	}
	return res, nil
}

// matchVulns queries each distinct pinned package once and reports it at
// every place it is declared.
func matchVulns(ctx context.Context, src osv.Source, res *Result) error {
	type key struct{ eco, name, ver, repo, commit string }
	keyOf := func(p lockfile.Package) (key, bool) {
		if !p.Pinned || p.Version == "" && p.Commit == "" {
			return key{}, false
		}
		return key{p.Ecosystem, p.Name, p.Version, p.Repo, p.Commit}, true
	}
	index := map[key]int{}
	var batch []osv.PackageVersion
	for _, p := range res.Packages {
		k, ok := keyOf(p)
		if !ok {
			continue
		}
		if _, ok := index[k]; !ok {
			index[k] = len(batch)
			batch = append(batch, osv.PackageVersion{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version, Repo: p.Repo, Commit: p.Commit})
		}
	}
	if len(batch) == 0 {
		return nil
	}
	vulns, err := src.QueryBatch(ctx, batch)
	if err != nil {
		return fmt.Errorf("scan deps: vulnerability query: %w", err)
	}
	paths := newPathFinder(res.Packages)
	for _, p := range res.Packages {
		k, ok := keyOf(p)
		if !ok {
			continue
		}
		i := index[k]
		if len(vulns[i]) == 0 {
			continue
		}
		fs := osv.Findings(batch[i], p.File, p.Line, vulns[i])
		// A transitive package: say through which direct dependency it
		// comes, by the shortest chain the lockfile records.
		if path := paths.path(p); len(path) > 1 {
			via := describePath(path)
			for j := range fs {
				fs[j].Message += "; pulled in through " + path[0] + " (" + via + ")"
			}
		}
		res.Findings = append(res.Findings, fs...)
	}
	return nil
}

// skipDirs are folders that hold other projects' code, not this one's.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".venv": true, "venv": true, "site-packages": true,
	"__pycache__": true, ".tox": true, ".mypy_cache": true, "vendor": true, ".ipynb_checkpoints": true}

// scanCode reads the Python files and notebooks under root.
func scanCode(ctx context.Context, root string, res *Result) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable folders are skipped, as by the lockfile search
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			res.Findings = append(res.Findings, checkCode(p)...)
		}
		return nil
	})
}

// checkCode checks one Python file or notebook.
func checkCode(p string) []finding.Finding {
	ext := strings.ToLower(filepath.Ext(p))
	if ext != ".py" && ext != ".ipynb" {
		return nil
	}
	data, err := smallfile.Read(p, maxCodeFile)
	if err != nil {
		return nil // too large or unreadable: not a project source file
	}
	if ext == ".py" {
		return pyload.Check(p, data)
	}
	fs, err := pyload.CheckNotebook(p, data)
	if err != nil {
		return []finding.Finding{fileFinding(RuleUnreadable, p, 0, "", err.Error())}
	}
	return fs
}

func fileFinding(r *finding.Rule, path string, line int, excerpt, msg string) finding.Finding {
	f := finding.New(r, finding.Location{Path: path, Line: line}, 0.9, excerpt)
	f.Message = msg
	f.Detector = "deps"
	return f
}

// clipErr shortens an error for a finding's message.
func clipErr(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(s) <= 200 {
		return s
	}
	i := 200
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
