package lockfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// packageLock parses package-lock.json and npm-shrinkwrap.json, versions
// 1 to 3.
func (p *parser) packageLock(data []byte) {
	var f struct {
		LockfileVersion int                        `json:"lockfileVersion"`
		Packages        map[string]json.RawMessage `json:"packages"`
		Dependencies    map[string]json.RawMessage `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		p.jsonMalformed(data, err)
		return
	}
	keyLines := jsonKeyLines(data)
	if f.Packages != nil {
		p.npmPackages(keyLines, f.Packages)
		return
	}
	if f.LockfileVersion > 1 {
		p.malformed(p.path, 0, "", fmt.Errorf("lockfileVersion %d without packages", f.LockfileVersion))
	}
	p.npmV1(keyLines, f.Dependencies, 0)
}

// npmPackages reads the "packages" map of lockfile v2 and v3, and the
// dependencies of each entry, resolved as Node resolves them: the nearest
// node_modules/<name> walking up from the entry's own folder.
func (p *parser) npmPackages(keyLines map[string]int, m map[string]json.RawMessage) {
	direct := map[string]bool{}
	if raw, ok := m[""]; ok {
		var root struct {
			Dependencies map[string]any `json:"dependencies"`
			DevDeps      map[string]any `json:"devDependencies"`
			OptDeps      map[string]any `json:"optionalDependencies"`
			PeerDeps     map[string]any `json:"peerDependencies"`
		}
		if json.Unmarshal(raw, &root) == nil {
			for _, d := range []map[string]any{root.Dependencies, root.DevDeps, root.OptDeps, root.PeerDeps} {
				for n := range d {
					direct[n] = true
				}
			}
		}
	}
	type install struct {
		path string
		idx  int
	}
	var installs []install // every install path, for Node's lookup
	type pending struct {
		idx  int
		path string
		deps []json.RawMessage
	}
	var todo []pending
	// Workspace folders ("packages/ui": npm workspaces): what each depends
	// on is a direct dependency of the project, found by Node's lookup from
	// the folder (its own node_modules, then the root's).
	var workspaces []pending
	for _, key := range sortedKeys(m) {
		i := strings.LastIndex(key, "node_modules/")
		if key == "" {
			continue // the root project
		}
		if i < 0 {
			var ws struct {
				Deps     json.RawMessage `json:"dependencies"`
				DevDeps  json.RawMessage `json:"devDependencies"`
				OptDeps  json.RawMessage `json:"optionalDependencies"`
				PeerDeps json.RawMessage `json:"peerDependencies"`
			}
			if json.Unmarshal(m[key], &ws) == nil {
				workspaces = append(workspaces, pending{-1, key, []json.RawMessage{ws.Deps, ws.DevDeps, ws.OptDeps, ws.PeerDeps}})
			}
			continue
		}
		line := keyLines[key]
		var e struct {
			Name        string          `json:"name"`
			Version     string          `json:"version"`
			Resolved    string          `json:"resolved"`
			Integrity   string          `json:"integrity"`
			Dev         bool            `json:"dev"`
			DevOptional bool            `json:"devOptional"`
			Link        bool            `json:"link"`
			Deps        json.RawMessage `json:"dependencies"`
			OptDeps     json.RawMessage `json:"optionalDependencies"`
			PeerDeps    json.RawMessage `json:"peerDependencies"`
		}
		if err := json.Unmarshal(m[key], &e); err != nil {
			p.malformed(p.path, line, key, fmt.Errorf("package %s: %w", key, err))
			installs = append(installs, install{key, -1}) // Node still finds the folder
			continue
		}
		if e.Link {
			installs = append(installs, install{key, -1}) // a symlink to a workspace package
			continue
		}
		name := key[i+len("node_modules/"):]
		if e.Name != "" {
			name = e.Name // an alias: "node_modules/x" installs package e.Name
		}
		if name == "" || e.Version == "" {
			p.malformed(p.path, line, key, errors.New("entry without a name or version"))
			installs = append(installs, install{key, -1})
			continue
		}
		pkg := npmPackage(name, e.Version, e.Resolved, e.Integrity, e.Dev || e.DevOptional, line)
		pkg.Direct = i == 0 && direct[key[len("node_modules/"):]]
		if pkg.Name == "" {
			installs = append(installs, install{key, -1})
			continue
		}
		idx, ok := p.addIndex(pkg)
		if !ok {
			return
		}
		installs = append(installs, install{key, idx})
		if idx >= 0 && (e.Deps != nil || e.OptDeps != nil || e.PeerDeps != nil) {
			todo = append(todo, pending{idx, key, []json.RawMessage{e.Deps, e.OptDeps, e.PeerDeps}})
		}
	}
	if len(todo) == 0 && len(workspaces) == 0 {
		return
	}
	tree := newNPMTree()
	for _, in := range installs {
		tree.install(in.path, in.idx)
	}
	for _, ws := range workspaces {
		dir := tree.dir(strings.Trim(ws.path, "/"))
		if dir < 0 {
			continue
		}
		for _, raw := range ws.deps {
			for _, name := range jsonObjectKeys(raw) {
				if idx := tree.resolve(dir, name); idx >= 0 {
					p.pkgs[idx].Direct = true
				}
			}
		}
	}
	for _, t := range todo {
		dir := tree.dir(t.path)
		for _, raw := range t.deps {
			for _, name := range jsonObjectKeys(raw) {
				p.require(t.idx, tree.resolve(dir, name))
			}
		}
	}
}

// npmPackage makes the package of a lockfile entry, with the registry of its
// resolved tarball URL as Source. Versions that are URLs
// or paths ("file:…", "git+…") keep the resolution in Spec; local ones are
// dropped (an empty Name).
func npmPackage(name, version, resolved, integrity string, dev bool, line int) Package {
	pkg := Package{Ecosystem: NPM, Name: name, Version: version, Spec: version, Pinned: true, Dev: dev, Line: line,
		Source: npmRegistry(name, resolved)}
	if integrity != "" {
		pkg.Hashes = []string{integrity}
	}
	switch {
	case version == "":
		// No version at all (an alias "npm:name@" with nothing after the
		// '@'): nothing pins it.
		pkg.Pinned = false
	case strings.HasPrefix(version, "file:") || strings.HasPrefix(version, "link:") || strings.HasPrefix(version, "workspace:"):
		pkg.Name = ""
	case strings.Contains(version, ":"):
		// git+ssh://…#sha or a tarball URL
		pkg.Version = ""
		if i := strings.LastIndexByte(version, '#'); i >= 0 {
			pkg.Pinned = reCommit.MatchString(version[i+1:])
		}
	}
	return pkg
}

// npmTree answers Node's module lookup over the install paths of a
// package-lock.json: which package require(name) finds from a folder.
type npmTree struct {
	dirs   map[string]int32 // folder path → id; "" (the project) is 0
	parent []int32          // the id of the next folder up the lookup, -1 above the project
	depth  []int32          // folders from the project
	at     map[npmSlot]int  // package index, -1 for a folder that is no package
}

// npmSlot is node_modules/<name> inside the folder of id dir.
type npmSlot struct {
	dir  int32
	name string
}

func newNPMTree() *npmTree {
	return &npmTree{dirs: map[string]int32{"": 0}, parent: []int32{-1}, depth: []int32{0}, at: map[npmSlot]int{}}
}

// install records the entry at path ("node_modules/a/node_modules/b"),
// package idx (or -1).
func (t *npmTree) install(path string, idx int) {
	i := strings.LastIndex(path, "node_modules/")
	if i < 0 || (i > 0 && path[i-1] != '/') {
		return // not an install path Node would look at
	}
	d := t.dir(strings.TrimSuffix(path[:i], "/"))
	if d < 0 {
		return
	}
	t.at[npmSlot{d, path[i+len("node_modules/"):]}] = idx
}

// dir returns the id of the folder path, registering it and the folders
// above it; -1 for a path deeper than maxPathSegments.
func (t *npmTree) dir(path string) int32 {
	if id, ok := t.dirs[path]; ok {
		return id
	}
	// Walk up to a known folder, then register the chain top down.
	var chain []string
	cur := path
	id := int32(0)
	for {
		if len(chain) > maxPathSegments {
			return -1
		}
		chain = append(chain, cur)
		up := npmParent(cur)
		if known, ok := t.dirs[up]; ok {
			id = known
			break
		}
		cur = up
	}
	if t.depth[id]+int32(len(chain)) > maxPathSegments {
		return -1
	}
	for j := len(chain) - 1; j >= 0; j-- {
		n := int32(len(t.parent))
		t.dirs[chain[j]] = n
		t.parent = append(t.parent, id)
		t.depth = append(t.depth, t.depth[id]+1)
		id = n
	}
	return id
}

// npmParent returns the folder above path where Node looks next: the
// parent folder, skipping folders named node_modules (Node never looks in
// node_modules/node_modules).
func npmParent(path string) string {
	for path != "" {
		j := strings.LastIndexByte(path, '/')
		if j < 0 {
			return ""
		}
		path = path[:j]
		if path != "node_modules" && !strings.HasSuffix(path, "/node_modules") {
			return path
		}
	}
	return ""
}

// resolve returns the package require(name) finds from folder dir: the
// first node_modules/name walking up; -1 when none, or when what it finds
// is no package of the result.
func (t *npmTree) resolve(dir int32, name string) int {
	for d := dir; d >= 0; d = t.parent[d] {
		if idx, ok := t.at[npmSlot{d, name}]; ok {
			return idx
		}
	}
	return -1
}

// jsonObjectKeys returns the keys of a JSON object, sorted; nothing for
// anything else. raw is valid JSON (it was decoded already), so the keys
// are read off without building a map.
func jsonObjectKeys(raw json.RawMessage) []string {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var keys []string
	depth, wantKey := 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{', '[':
			depth++
			wantKey = c == '{' && depth == 1
		case '}', ']':
			depth--
		case ',':
			wantKey = depth == 1
		case '"':
			start, escaped := i, false
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				switch {
				case raw[i] == '\\':
					escaped = true
					i++
				case raw[i] >= utf8.RuneSelf:
					escaped = true // decoded as encoding/json does, invalid UTF-8 replaced
				}
			}
			if !wantKey || i >= len(raw) {
				continue
			}
			wantKey = false
			k := string(raw[start+1 : i])
			if escaped {
				if json.Unmarshal(raw[start:i+1], &k) != nil {
					continue
				}
			}
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // the edges recorded before a limit do not depend on map order
	return slices.Compact(keys)
}

// npmV1 reads the nested "dependencies" map of lockfile v1.
// Nested entries repeat names; each gets the line of the name's first use.
// The "requires" of an entry resolve, as in Node, to the nearest entry of
// that name: among its own nested dependencies, then its siblings', and so
// on up to the top level.
func (p *parser) npmV1(keyLines map[string]int, m map[string]json.RawMessage, depth int) {
	root := &npmV1Scope{}
	var todo []*npmV1Scope
	p.npmV1Level(keyLines, m, depth, root, &todo)
	for _, s := range todo {
		for _, name := range s.requires {
			for up := s; up != nil; up = up.parent {
				if idx, ok := up.children[name]; ok {
					p.require(s.idx, idx)
					break
				}
			}
		}
	}
}

// npmV1Scope is one entry of a v1 lockfile: the package it is and the
// entries nested in it.
type npmV1Scope struct {
	idx      int // package index, -1 for none
	parent   *npmV1Scope
	children map[string]int // nested entry name → package index or -1
	requires []string
}

// npmV1Level reads one level of nested dependencies into scope.
func (p *parser) npmV1Level(keyLines map[string]int, m map[string]json.RawMessage, depth int, scope *npmV1Scope, todo *[]*npmV1Scope) bool {
	if depth > maxNesting {
		p.report(ruleLimit, p.path, 0, "", fmt.Sprintf("dependencies nested deeper than %d", maxNesting))
		return true
	}
	if len(m) > 0 {
		scope.children = make(map[string]int, len(m))
	}
	for _, name := range sortedKeys(m) {
		line := keyLines[name]
		scope.children[name] = -1
		var e struct {
			Version      string                     `json:"version"`
			Resolved     string                     `json:"resolved"`
			Integrity    string                     `json:"integrity"`
			Dev          bool                       `json:"dev"`
			Requires     json.RawMessage            `json:"requires"`
			Dependencies map[string]json.RawMessage `json:"dependencies"`
		}
		if err := json.Unmarshal(m[name], &e); err != nil {
			p.malformed(p.path, line, name, fmt.Errorf("package %s: %w", name, err))
			continue
		}
		if e.Version == "" {
			p.malformed(p.path, line, name, errors.New("entry without a version"))
			continue
		}
		version := e.Version
		real := name
		if alias, ok := strings.CutPrefix(version, "npm:"); ok {
			// An alias: "npm:real@1.2.3" installs real under name.
			if at := strings.LastIndexByte(alias, '@'); at > 0 {
				real, version = alias[:at], alias[at+1:]
			}
		}
		child := &npmV1Scope{idx: -1, parent: scope}
		if pkg := npmPackage(real, version, e.Resolved, e.Integrity, e.Dev, line); pkg.Name != "" {
			idx, ok := p.addIndex(pkg)
			if !ok {
				return false
			}
			child.idx = idx
			scope.children[name] = idx
		}
		if child.idx >= 0 {
			if child.requires = jsonObjectKeys(e.Requires); len(child.requires) > 0 {
				*todo = append(*todo, child)
			}
		}
		if len(e.Dependencies) > 0 {
			if !p.npmV1Level(keyLines, e.Dependencies, depth+1, child, todo) {
				return false
			}
		}
	}
	return true
}
