package sbom

import (
	"slices"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/rampartsec/rampart/scan/deps/lockfile"
)

// pkgGraph gathers the dependency graph of the library components from
// the lockfiles that record one (lockfile.Kind.RecordsGraph), by package
// URL, the bom-ref of a library component.
type pkgGraph struct {
	// edges maps a package URL to the package URLs it depends on, over
	// every file that declares it with a graph.
	edges map[string]map[string]bool
	// roots are the packages of a file with a graph but no direct marks
	// that nothing else in that file requires: what the project itself
	// must depend on.
	roots map[string]bool
	// folded maps an unversioned package URL folded into pinned ones to
	// them.
	folded map[string][]string
}

func newPkgGraph() *pkgGraph {
	return &pkgGraph{edges: map[string]map[string]bool{}, roots: map[string]bool{}, folded: map[string][]string{}}
}

// addFile records the graph of the packages of one file that records one.
// Requires name packages of the same file by Key; each becomes the package
// URL of that package.
func (gr *pkgGraph) addFile(pkgs []lockfile.Package) {
	byKey := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		if p.PURL != "" {
			if _, ok := byKey[p.Key()]; !ok {
				byKey[p.Key()] = p.PURL
			}
		}
	}
	required := map[string]bool{}
	anyDirect := false
	for _, p := range pkgs {
		if p.PURL == "" {
			continue
		}
		anyDirect = anyDirect || p.Direct
		deps := gr.edges[p.PURL]
		if deps == nil {
			deps = map[string]bool{}
			gr.edges[p.PURL] = deps // known, even with no dependencies
		}
		for _, r := range p.Requires {
			if t, ok := byKey[r]; ok && t != p.PURL {
				deps[t] = true
				required[t] = true
			}
		}
	}
	if anyDirect {
		return
	}
	for _, p := range pkgs {
		if p.PURL != "" && !required[p.PURL] {
			gr.roots[p.PURL] = true
		}
	}
}

// fold records that the unversioned package URL from is folded into the
// component to.
func (gr *pkgGraph) fold(from, to string) {
	gr.folded[from] = append(gr.folded[from], to)
}

// resolve returns the components ref stands for: itself, or the pinned
// components it was folded into.
func (gr *pkgGraph) resolve(ref string) []string {
	if ts, ok := gr.folded[ref]; ok {
		return ts
	}
	return []string{ref}
}

// dependencies returns the BOM's dependency graph over comps: first the
// root, depending on the direct packages and on the roots of files with a
// graph but no direct marks (no entry when there are none); then, sorted by
// ref, one entry for each component declared in a file that records a
// graph, depending on the components its packages require there (an empty
// dependsOn for none: CycloneDX reads it as known to have none). A
// component only files without a graph declare gets no entry: its
// dependencies are unknown. Every ref names a component or the root.
func (gr *pkgGraph) dependencies(comps []cdx.Component, direct []string) []cdx.Dependency {
	exists := make(map[string]bool, len(comps))
	for _, c := range comps {
		exists[c.BOMRef] = true
	}
	// Edges of folded package URLs move to the components they became.
	edges := map[string]map[string]bool{}
	for from, tos := range gr.edges {
		for _, f := range gr.resolve(from) {
			if !exists[f] {
				continue
			}
			if edges[f] == nil {
				edges[f] = map[string]bool{}
			}
			for t := range tos {
				for _, rt := range gr.resolve(t) {
					if exists[rt] && rt != f {
						edges[f][rt] = true
					}
				}
			}
		}
	}

	var deps []cdx.Dependency
	rootSet := map[string]bool{}
	for _, d := range direct {
		rootSet[d] = true
	}
	for r := range gr.roots {
		for _, rr := range gr.resolve(r) {
			if exists[rr] {
				rootSet[rr] = true
			}
		}
	}
	if len(rootSet) > 0 {
		deps = append(deps, cdx.Dependency{Ref: rootRef, Dependencies: sortedSet(rootSet)})
	}
	for _, c := range comps {
		if set, ok := edges[c.BOMRef]; ok {
			deps = append(deps, cdx.Dependency{Ref: c.BOMRef, Dependencies: sortedSet(set)})
		}
	}
	return deps
}

// sortedSet returns the members of set, sorted; a pointer to an empty,
// not nil, slice for none.
func sortedSet(set map[string]bool) *[]string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return &out
}
