package lockfile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// pyprojectFile holds the parts of pyproject.toml that name dependencies.
type pyprojectFile struct {
	Project struct {
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
	DependencyGroups map[string][]any `toml:"dependency-groups"`
	Tool             struct {
		Poetry struct {
			Dependencies    map[string]any `toml:"dependencies"`
			DevDependencies map[string]any `toml:"dev-dependencies"`
			Group           map[string]struct {
				Dependencies map[string]any `toml:"dependencies"`
			} `toml:"group"`
			Source any `toml:"source"` // [[tool.poetry.source]]
		} `toml:"poetry"`
		UV any `toml:"uv"` // [tool.uv]: index, sources, index-strategy …
	} `toml:"tool"`
}

// bindIndexes sets the Source or Indexes of the dependencies of a
// pyproject.toml from its Poetry sources or uv indexes.
func (f *pyprojectFile) bindIndexes(pkgs []Package) {
	poetryDeps := []map[string]any{f.Tool.Poetry.Dependencies, f.Tool.Poetry.DevDependencies}
	for _, g := range sortedKeys(f.Tool.Poetry.Group) {
		poetryDeps = append(poetryDeps, f.Tool.Poetry.Group[g].Dependencies)
	}
	poetryByName, poetryCands := poetryIndexes(f.Tool.Poetry.Source)
	uvByName, uvCands := uvIndexes(f.Tool.UV)
	for i := range pkgs {
		pkg := &pkgs[i]
		if b := uvBinding(f.Tool.UV, pkg.Name); b != "" {
			bindIndex(pkg, b, uvByName, nil)
		} else if b := depBinding(pkg.Name, "source", poetryDeps...); b != "" {
			bindIndex(pkg, b, poetryByName, nil)
		} else if len(poetryCands) > 0 {
			bindIndex(pkg, "", nil, poetryCands)
		} else {
			bindIndex(pkg, "", nil, uvCands)
		}
	}
}

// hasSiblingLock reports whether one of the named lockfiles sits next to path.
func hasSiblingLock(path string, names ...string) bool {
	dir := filepath.Dir(path)
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// pyproject parses PEP 621 [project] dependencies and optional
// dependencies, PEP 735 dependency groups and Poetry's dependency tables.
func (p *parser) pyproject(data []byte) {
	var f pyprojectFile
	if !p.decodeTOML(data, &f) {
		return
	}
	lines := newTOMLLines(data)
	var direct []Package
	pep508 := func(header string, s string, dev bool) {
		line := lines.keyLine(header, s, true)
		r, err := parsePEP508(s)
		if err != nil {
			p.malformed(p.path, line, s, err)
			return
		}
		pkg := Package{Ecosystem: PyPI, Name: normalise(PyPI, r.name), Spec: r.spec, Direct: true, Dev: dev, Line: line}
		if r.url {
			pkg.Pinned = urlPinned(r.spec)
		} else if v, ok := exactVersion(r.spec); ok {
			pkg.Version, pkg.Pinned = v, true
		}
		direct = append(direct, pkg)
	}
	for _, s := range f.Project.Dependencies {
		pep508("[project]", s, false)
	}
	for _, extra := range sortedKeys(f.Project.OptionalDependencies) {
		for _, s := range f.Project.OptionalDependencies[extra] {
			pep508("[project.optional-dependencies]", s, false)
		}
	}
	for _, g := range sortedKeys(f.DependencyGroups) {
		for _, v := range f.DependencyGroups[g] {
			if s, ok := v.(string); ok { // tables are {include-group = "…"}
				pep508("[dependency-groups]", s, true)
			}
		}
	}
	poetry := func(header string, deps map[string]any, dev bool) {
		for _, name := range sortedKeys(deps) {
			if strings.EqualFold(name, "python") {
				continue
			}
			line := lines.keyLine(header, name, false)
			pkg, ok := p.poetryDep(name, deps[name], line)
			if ok {
				pkg.Dev = dev
				direct = append(direct, pkg)
			}
		}
	}
	poetry("[tool.poetry.dependencies]", f.Tool.Poetry.Dependencies, false)
	poetry("[tool.poetry.dev-dependencies]", f.Tool.Poetry.DevDependencies, true)
	for _, g := range sortedKeys(f.Tool.Poetry.Group) {
		poetry("[tool.poetry.group."+g+".dependencies]", f.Tool.Poetry.Group[g].Dependencies, g != "main")
	}
	f.bindIndexes(direct)
	locked := hasSiblingLock(p.path, "poetry.lock", "uv.lock", "pdm.lock", "pylock.toml", "Pipfile.lock")
	for _, pkg := range direct {
		if p.add(pkg) && !pkg.Pinned && !locked {
			p.reportUnpinned(pkg)
		}
	}
}

var (
	rePoetryExact = regexp.MustCompile(`^\s*(?:==?\s*)?([0-9][A-Za-z0-9.+!-]*)\s*$`)
	reCommit      = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// poetryDep reads one Poetry (or Pipfile) dependency: a version constraint
// string, a table with version/git/path/url, or an array of such tables.
// Poetry reads a bare version ("1.2.3") as exactly that version.
func (p *parser) poetryDep(name string, v any, line int) (Package, bool) {
	pkg := Package{Ecosystem: PyPI, Name: normalise(PyPI, name), Direct: true, Line: line}
	switch t := v.(type) {
	case string:
		pkg.Spec = strings.TrimSpace(t)
	case map[string]any:
		if _, ok := t["path"]; ok {
			return pkg, false // a local project
		}
		if _, ok := t["file"]; ok {
			return pkg, false
		}
		if g, ok := t["git"].(string); ok {
			pkg.Spec = g
			for _, k := range []string{"rev", "ref", "tag", "branch"} {
				if r, ok := t[k].(string); ok {
					pkg.Spec += "@" + r
					pkg.Pinned = k != "branch" && reCommit.MatchString(r)
					break
				}
			}
			return pkg, true
		}
		if u, ok := t["url"].(string); ok {
			pkg.Spec, pkg.Pinned = u, urlPinned(u)
			return pkg, true
		}
		s, _ := t["version"].(string)
		pkg.Spec = strings.TrimSpace(s)
	case []map[string]any:
		// Several constraints for different markers: listed, not pinned.
		pkg.Spec = joinVersions(t)
		return pkg, true
	case []any:
		var tables []map[string]any
		for _, c := range t {
			if m, ok := c.(map[string]any); ok {
				tables = append(tables, m)
			}
		}
		pkg.Spec = joinVersions(tables)
		return pkg, true
	default:
		p.malformed(p.path, line, name, fmt.Errorf("dependency %s: unexpected value %T", name, v))
		return pkg, false
	}
	if pkg.Spec == "*" || pkg.Spec == "" {
		pkg.Spec = "*"
		return pkg, true
	}
	if m := rePoetryExact.FindStringSubmatch(pkg.Spec); m != nil && !strings.Contains(m[1], "*") {
		if strings.HasPrefix(strings.TrimSpace(pkg.Spec), "=") || p.poetryBareIsExact() {
			pkg.Version, pkg.Pinned = m[1], true
		}
	} else if v, ok := exactVersion(pkg.Spec); ok {
		pkg.Version, pkg.Pinned = v, true
	}
	return pkg, true
}

// poetryBareIsExact reports whether a bare version means exactly that
// version: so in Poetry, while Pipfile requires "==".
func (p *parser) poetryBareIsExact() bool {
	return KindOf(p.path) != KindPipfile
}

// pipfileFile holds the dependency tables of a Pipfile.
type pipfileFile struct {
	Packages    map[string]any `toml:"packages"`
	DevPackages map[string]any `toml:"dev-packages"`
	Source      any            `toml:"source"` // [[source]]
}

// pipfile parses a Pipfile's [packages] and [dev-packages].
func (p *parser) pipfile(data []byte) {
	var f pipfileFile
	if !p.decodeTOML(data, &f) {
		return
	}
	lines := newTOMLLines(data)
	locked := hasSiblingLock(p.path, "Pipfile.lock")
	byName, indexes := pipfileIndexes(f.Source)
	for _, sec := range []struct {
		header string
		deps   map[string]any
		dev    bool
	}{{"[packages]", f.Packages, false}, {"[dev-packages]", f.DevPackages, true}} {
		for _, name := range sortedKeys(sec.deps) {
			pkg, ok := p.poetryDep(name, sec.deps[name], lines.keyLine(sec.header, name, false))
			if !ok {
				continue
			}
			pkg.Dev = sec.dev
			bindIndex(&pkg, depBinding(pkg.Name, "index", sec.deps), byName, indexes)
			if p.add(pkg) && !pkg.Pinned && !locked {
				p.reportUnpinned(pkg)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joinVersions joins the version constraints of a Poetry multiple-constraint
// dependency.
func joinVersions(tables []map[string]any) string {
	var specs []string
	for _, c := range tables {
		if s, ok := c["version"].(string); ok {
			specs = append(specs, s)
		}
	}
	return strings.Join(specs, " || ")
}
