package deps

import (
	"strings"

	"github.com/rampartsec/rampart/scan/deps/lockfile"
)

// maxPathShown bounds the packages named in one dependency path.
const maxPathShown = 8

// pathFinder answers, for a transitive package of a lockfile that records
// a dependency graph, the shortest chain of requirements from a direct
// package of the same file to it. Each file's graph is walked once, on
// first use: a breadth-first search from all its direct packages at once
// (or, in a file that marks none, from the packages nothing requires).
type pathFinder struct {
	byFile map[string][]lockfile.Package
	parent map[string]map[string]string // file → Key → the Key it was reached from ("" for a start)
}

func newPathFinder(pkgs []lockfile.Package) *pathFinder {
	pf := &pathFinder{byFile: map[string][]lockfile.Package{}, parent: map[string]map[string]string{}}
	for _, p := range pkgs {
		if lockfile.KindOf(p.File).RecordsGraph() {
			pf.byFile[p.File] = append(pf.byFile[p.File], p)
		}
	}
	return pf
}

// path returns the chain of Keys from a direct package to p, p last, or
// nil when p is direct, its file records no graph, or nothing leads to it.
func (pf *pathFinder) path(p lockfile.Package) []string {
	if p.Direct {
		return nil
	}
	pkgs, ok := pf.byFile[p.File]
	if !ok {
		return nil
	}
	parent, ok := pf.parent[p.File]
	if !ok {
		parent = walkFrom(pkgs)
		pf.parent[p.File] = parent
	}
	from, ok := parent[p.Key()]
	if !ok || from == "" {
		return nil // unreachable, or a start itself
	}
	var out []string
	for k := p.Key(); k != ""; k = parent[k] {
		out = append(out, k)
		if len(out) > len(parent) {
			return nil // a cycle: cannot happen with parents set once, but never loop
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// walkFrom runs the breadth-first search over one file's packages and
// returns, for each Key reached, the Key it was first reached from.
func walkFrom(pkgs []lockfile.Package) map[string]string {
	requires := map[string][]string{}
	required := map[string]bool{}
	var starts []string
	anyDirect := false
	for _, p := range pkgs {
		k := p.Key()
		requires[k] = append(requires[k], p.Requires...)
		for _, r := range p.Requires {
			required[r] = true
		}
		if p.Direct {
			anyDirect = true
		}
	}
	for _, p := range pkgs {
		if (anyDirect && p.Direct) || (!anyDirect && !required[p.Key()]) {
			starts = append(starts, p.Key())
		}
	}
	parent := map[string]string{}
	queue := make([]string, 0, len(requires))
	for _, s := range starts {
		if _, ok := parent[s]; !ok {
			parent[s] = ""
			queue = append(queue, s)
		}
	}
	for i := 0; i < len(queue); i++ {
		for _, r := range requires[queue[i]] {
			if _, ok := parent[r]; !ok {
				parent[r] = queue[i]
				queue = append(queue, r)
			}
		}
	}
	return parent
}

// describePath renders a dependency path for a finding's message,
// "openai@4.52.0 → node-fetch@2.7.0 → whatwg-url@5.0.0", with the middle
// elided past maxPathShown packages.
func describePath(path []string) string {
	if len(path) > maxPathShown {
		head, tail := path[:maxPathShown/2], path[len(path)-maxPathShown/2:]
		return strings.Join(head, " → ") + " → … → " + strings.Join(tail, " → ")
	}
	return strings.Join(path, " → ")
}
