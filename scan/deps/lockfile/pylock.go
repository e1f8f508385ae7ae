package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// poetryLockFile is the part of poetry.lock Parse reads.
type poetryLockFile struct {
	Package []struct {
		Name     string   `toml:"name"`
		Version  string   `toml:"version"`
		Category string   `toml:"category"` // Poetry < 1.5: "main" or "dev"
		Groups   []string `toml:"groups"`   // Poetry ≥ 2
		Optional bool     `toml:"optional"`
		// Dependencies is [package.dependencies]: name = constraint, or a
		// table, or an array of tables. Typed loosely: a value of another
		// shape is no reason to reject the file.
		Dependencies any `toml:"dependencies"`
		Files        []struct {
			File string `toml:"file"`
			Hash string `toml:"hash"`
		} `toml:"files"`
		Source struct {
			Type              string `toml:"type"`
			URL               string `toml:"url"`
			ResolvedReference string `toml:"resolved_reference"`
		} `toml:"source"`
	} `toml:"package"`
	Metadata struct {
		Files map[string][]struct {
			Hash string `toml:"hash"`
		} `toml:"files"` // Poetry < 1.2 kept hashes here
	} `toml:"metadata"`
}

// poetryLock parses poetry.lock, with the dependencies of each package.
func (p *parser) poetryLock(data []byte) {
	var f poetryLockFile
	if !p.decodeTOML(data, &f) {
		return
	}
	headers := newTOMLLines(data).arrayLines("package")
	direct := siblingPyprojectNames(p.path)
	idx := make([]int, len(f.Package))
	byName := newPyIndex()
	defer func() {
		for i, e := range f.Package {
			if idx[i] >= 0 {
				p.poetryDeps(idx[i], e.Dependencies, byName)
			}
		}
	}()
	for i := range idx {
		idx[i] = -1
	}
	for i, e := range f.Package {
		line := lineOfArray(headers, i)
		if e.Name == "" || e.Version == "" {
			p.malformed(p.path, line, e.Name, errors.New("[[package]] without name or version"))
			continue
		}
		if e.Source.Type == "directory" || e.Source.Type == "file" {
			continue // a local project
		}
		name := normalise(PyPI, e.Name)
		dev, isDirect := direct[name]
		pkg := Package{Ecosystem: PyPI, Name: name, Version: e.Version, Spec: "==" + e.Version, Pinned: true, Line: line, Direct: isDirect}
		pkg.Dev = e.Category == "dev" || (len(e.Groups) > 0 && !contains(e.Groups, "main")) || (isDirect && dev && e.Category == "" && len(e.Groups) == 0)
		for _, fl := range e.Files {
			if fl.Hash != "" {
				pkg.Hashes = append(pkg.Hashes, fl.Hash)
			}
		}
		for _, fl := range f.Metadata.Files[e.Name] {
			pkg.Hashes = append(pkg.Hashes, fl.Hash)
		}
		switch e.Source.Type {
		case "git":
			pkg.Spec = e.Source.URL + "@" + e.Source.ResolvedReference
		case "":
			pkg.Source = PyPIIndex // Poetry records every other source
		default: // "legacy" (a package index) or "url" (an archive)
			pkg.Source = RedactURL(e.Source.URL)
		}
		n, ok := p.addIndex(pkg)
		if !ok {
			return
		}
		if idx[i] = n; n >= 0 {
			byName.add(n, name, e.Version)
		}
	}
}

// siblingPyprojectNames returns the normalised names of the dependencies
// the pyproject.toml next to a lockfile declares, to mark direct ones, each
// mapped to whether it is declared for development only.
func siblingPyprojectNames(path string) map[string]bool {
	names := map[string]bool{}
	sib := strings.TrimSuffix(path, baseName(path)) + "pyproject.toml"
	data, err := readCapped(sib)
	if err != nil {
		return names
	}
	q := &parser{path: sib}
	q.pyproject(data)
	for _, pkg := range q.pkgs {
		if dev, ok := names[pkg.Name]; ok {
			names[pkg.Name] = dev && pkg.Dev
		} else {
			names[pkg.Name] = pkg.Dev
		}
	}
	return names
}

func baseName(path string) string {
	i := strings.LastIndexAny(path, `/\`)
	return path[i+1:]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// uvLockFile is the part of uv.lock Parse reads.
type uvLockFile struct {
	Package []struct {
		Name    string         `toml:"name"`
		Version string         `toml:"version"`
		Source  map[string]any `toml:"source"`
		Sdist   struct {
			Hash string `toml:"hash"`
		} `toml:"sdist"`
		Wheels []struct {
			Hash string `toml:"hash"`
		} `toml:"wheels"`
		Dependencies         []uvRef            `toml:"dependencies"`
		OptionalDependencies map[string][]uvRef `toml:"optional-dependencies"`
		DevDependencies      map[string][]uvRef `toml:"dev-dependencies"`
	} `toml:"package"`
}

// uvLock parses uv.lock. The project's own entries (source editable or
// virtual) are not packages; their dependency lists mark the direct ones.
// The dependencies, optional-dependencies and dev-dependencies of the
// other packages are their edges.
func (p *parser) uvLock(data []byte) {
	var f uvLockFile
	if !p.decodeTOML(data, &f) {
		return
	}
	headers := newTOMLLines(data).arrayLines("package")
	direct, dev := map[string]bool{}, map[string]bool{}
	for _, e := range f.Package {
		if !isUVRoot(e.Source) {
			continue
		}
		for _, d := range e.Dependencies {
			direct[normalise(PyPI, d.Name)] = true
		}
		for _, ds := range e.OptionalDependencies {
			for _, d := range ds {
				direct[normalise(PyPI, d.Name)] = true
			}
		}
		for _, ds := range e.DevDependencies {
			for _, d := range ds {
				n := normalise(PyPI, d.Name)
				if !direct[n] {
					dev[n] = true
				}
			}
		}
	}
	idx := make([]int, len(f.Package))
	byName := newPyIndex()
	for i := range idx {
		idx[i] = -1
	}
	defer func() {
		for i, e := range f.Package {
			if idx[i] < 0 {
				continue
			}
			refs := slices.Clone(e.Dependencies)
			for _, k := range sortedKeys(e.OptionalDependencies) {
				refs = append(refs, e.OptionalDependencies[k]...)
			}
			for _, k := range sortedKeys(e.DevDependencies) {
				refs = append(refs, e.DevDependencies[k]...)
			}
			for _, r := range refs {
				p.require(idx[i], uvTarget(r, byName))
			}
		}
	}()
	for i, e := range f.Package {
		line := lineOfArray(headers, i)
		if isUVRoot(e.Source) || e.Source["path"] != nil || e.Source["directory"] != nil {
			continue
		}
		if e.Name == "" || e.Version == "" {
			if e.Name == "" || e.Source["git"] == nil {
				p.malformed(p.path, line, e.Name, errors.New("[[package]] without name or version"))
				continue
			}
		}
		name := normalise(PyPI, e.Name)
		pkg := Package{Ecosystem: PyPI, Name: name, Version: e.Version, Spec: "==" + e.Version, Pinned: true, Line: line,
			Direct: direct[name] || dev[name], Dev: dev[name]}
		if g, ok := e.Source["git"].(string); ok {
			pkg.Spec = g
		}
		for _, k := range []string{"registry", "url"} {
			if u, ok := e.Source[k].(string); ok && strings.Contains(u, "://") {
				pkg.Source = RedactURL(u)
				break
			}
		}
		if e.Sdist.Hash != "" {
			pkg.Hashes = append(pkg.Hashes, e.Sdist.Hash)
		}
		for _, w := range e.Wheels {
			if w.Hash != "" {
				pkg.Hashes = append(pkg.Hashes, w.Hash)
			}
		}
		n, ok := p.addIndex(pkg)
		if !ok {
			return
		}
		if idx[i] = n; n >= 0 {
			byName.add(n, name, e.Version)
		}
	}
}

func isUVRoot(src map[string]any) bool {
	return src["editable"] != nil || src["virtual"] != nil
}

// pipfileLockEntry is one package of Pipfile.lock.
type pipfileLockEntry struct {
	Version string   `json:"version"`
	Hashes  []string `json:"hashes"`
	Git     string   `json:"git"`
	Ref     string   `json:"ref"`
	File    string   `json:"file"`
	Path    string   `json:"path"`
	Index   string   `json:"index"` // the name of a _meta.sources entry
}

// pipfileMeta is the _meta section of Pipfile.lock.
type pipfileMeta struct {
	Sources []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"sources"`
}

// pipfileLock parses Pipfile.lock (JSON).
func (p *parser) pipfileLock(data []byte) {
	var f struct {
		Meta    json.RawMessage            `json:"_meta"`
		Default map[string]json.RawMessage `json:"default"`
		Develop map[string]json.RawMessage `json:"develop"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		p.jsonMalformed(data, err)
		return
	}
	if f.Meta == nil {
		p.malformed(p.path, 0, "", errors.New("no _meta section: not a Pipfile.lock"))
	}
	// The sources: a package names one with "index"; one without is looked
	// up in the first (Pipenv since 2022.3.23) or in all of them (older
	// Pipenv, or install_search_all_sources).
	var meta pipfileMeta
	_ = json.Unmarshal(f.Meta, &meta) // a _meta of another shape names no sources
	sources := map[string]string{}
	var indexes []string
	for _, src := range meta.Sources {
		if src.URL == "" {
			continue
		}
		if _, ok := sources[src.Name]; !ok {
			sources[src.Name] = RedactURL(src.URL)
		}
		indexes = appendIndex(indexes, src.URL)
	}
	keyLines := jsonKeyLines(data)
	for _, sec := range []struct {
		m   map[string]json.RawMessage
		dev bool
	}{{f.Default, false}, {f.Develop, true}} {
		for _, name := range sortedKeys(sec.m) {
			line := keyLines[name]
			var e pipfileLockEntry
			if err := json.Unmarshal(sec.m[name], &e); err != nil {
				p.malformed(p.path, line, name, fmt.Errorf("package %s: %w", name, err))
				continue
			}
			if e.Path != "" || (e.File != "" && !strings.Contains(e.File, "://")) {
				continue
			}
			pkg := Package{Ecosystem: PyPI, Name: normalise(PyPI, name), Spec: e.Version, Hashes: e.Hashes, Dev: sec.dev, Line: line}
			switch {
			case e.Git != "":
				pkg.Spec, pkg.Pinned = e.Git+"@"+e.Ref, reCommit.MatchString(e.Ref)
			case e.File != "":
				pkg.Spec, pkg.Pinned = e.File, urlPinned(e.File)
			default:
				v, ok := exactVersion(e.Version)
				if !ok {
					p.malformed(p.path, line, name, fmt.Errorf("package %s: version %q is not ==", name, e.Version))
					continue
				}
				pkg.Version, pkg.Pinned = v, true
				switch {
				case e.Index != "":
					pkg.Source = sources[e.Index] // "" for an index the lock does not list
				case len(indexes) == 1:
					pkg.Source = indexes[0]
				default:
					pkg.Indexes = indexes
				}
			}
			if !p.add(pkg) {
				return
			}
		}
	}
}

// jsonMalformed reports a JSON syntax error at its line.
func (p *parser) jsonMalformed(data []byte, err error) {
	var se *json.SyntaxError
	line := 0
	if errors.As(err, &se) {
		line = lineAt(data, int(se.Offset))
	}
	p.malformed(p.path, line, "", fmt.Errorf("JSON: %w", err))
}

// jsonKeyLines returns, for each string used as an object key anywhere in
// data, the line of its first use, in one pass over the token stream.
// Invalid JSON ends the pass early; the caller has already decoded data.
func jsonKeyLines(data []byte) map[string]int {
	idx := newLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct{ obj, wantKey bool }
	var stack []frame
	out := map[string]int{}
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{obj: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				stack[n-1].wantKey = false
				if _, ok := out[v]; !ok {
					out[v] = idx.line(int(dec.InputOffset()) - 1)
				}
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
