package lockfile

import (
	"cmp"
	"fmt"
	"slices"
)

// Limits on the dependency graph of one file. Real lockfiles stay far
// below both: a package rarely requires more than a few hundred others, and
// a lockfile of 20,000 packages records about 100,000 edges.
var (
	// maxRequires bounds the Requires of one package.
	maxRequires = 10_000
	// maxEdges bounds the edges recorded for one file, duplicates included.
	maxEdges = 1_000_000
)

// maxPathSegments bounds the folders of a package-lock.json install path
// that Node's lookup walks up through; deeper paths resolve nothing.
const maxPathSegments = 128

// Key returns the identity of the package within the result of one Parse:
// Name and Version joined by "@" ("lodash@4.17.21", "@types/node@20.14.2",
// "typing-extensions@4.12.2"), or Name and Spec when the package has no
// version (one pinned to a commit or a URL). Requires lists Keys.
//
// A Key names one package, not one entry of the file: the same name and
// version installed at several node_modules paths of a package-lock.json,
// or resolved with several sets of peers in a pnpm-lock.yaml, is one Key,
// and so is one name and version fetched from two sources.
func (p Package) Key() string {
	v := p.Version
	if v == "" {
		v = p.Spec
	}
	return p.Name + "@" + v
}

// RecordsGraph reports whether files of kind k record which package
// depends on which, so that Parse fills Package.Requires: package-lock.json,
// pnpm-lock.yaml, yarn.lock, poetry.lock, uv.lock and Cargo.lock do;
// requirements files, pyproject.toml, Pipfile, Pipfile.lock,
// environment.yml, go.mod and go.sum do not.
func (k Kind) RecordsGraph() bool {
	switch k {
	case KindPackageLock, KindPnpmLock, KindYarnLock, KindPoetryLock, KindUVLock, KindCargoLock:
		return true
	}
	return false
}

// edge is one dependency between two packages of p.pkgs, by index.
type edge struct{ from, to int }

// require records that package from depends on package to (indices into
// p.pkgs; a negative index, for an entry that is no package, is ignored).
func (p *parser) require(from, to int) {
	if from < 0 || to < 0 || from >= len(p.pkgs) || to >= len(p.pkgs) || from == to {
		return
	}
	if len(p.edges) >= maxEdges {
		if !p.edgesFull {
			p.edgesFull = true
			p.report(ruleLimit, p.path, 0, "", fmt.Sprintf("more than %d dependency edges; the rest of the graph was not recorded", maxEdges))
		}
		return
	}
	p.edges = append(p.edges, edge{from, to})
}

// addIndex appends a package like add and returns its index in p.pkgs, or
// -1 when the entry was dropped; ok is false when the package limit is
// reached.
func (p *parser) addIndex(pkg Package) (idx int, ok bool) {
	n := len(p.pkgs)
	if !p.add(pkg) {
		return -1, false
	}
	if len(p.pkgs) == n {
		return -1, true
	}
	return n, true
}

// link turns the recorded edges into the Requires of each package: the
// Keys of the packages it depends on, sorted, without duplicates or itself,
// at most maxRequires. It runs once the packages are final (their Spec
// redacted), since Keys are made from them.
func (p *parser) link() {
	if len(p.edges) == 0 {
		return
	}
	keys := make([]string, len(p.pkgs))
	key := func(i int) string {
		if keys[i] == "" {
			keys[i] = p.pkgs[i].Key()
		}
		return keys[i]
	}
	slices.SortFunc(p.edges, func(a, b edge) int { return cmp.Compare(a.from, b.from) })
	var req []string
	for i := 0; i < len(p.edges); {
		from := p.edges[i].from
		self := key(from)
		req = req[:0]
		for ; i < len(p.edges) && p.edges[i].from == from; i++ {
			if k := key(p.edges[i].to); k != self {
				req = append(req, k)
			}
		}
		slices.Sort(req)
		req = slices.Compact(req)
		if len(req) > maxRequires {
			pkg := p.pkgs[from]
			p.report(ruleLimit, pkg.File, pkg.Line, pkg.Name, fmt.Sprintf("%s requires more than %d packages; the rest were not recorded", pkg.Name, maxRequires))
			req = req[:maxRequires]
		}
		if len(req) > 0 {
			p.pkgs[from].Requires = slices.Clone(req)
		}
	}
	p.edges = nil
}
