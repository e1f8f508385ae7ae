package lockfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// npmPackages reads the "packages" map of lockfile v2 and v3.
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
	for _, key := range sortedKeys(m) {
		i := strings.LastIndex(key, "node_modules/")
		if key == "" || i < 0 {
			continue // the root project or a workspace folder
		}
		line := keyLines[key]
		var e struct {
			Name        string `json:"name"`
			Version     string `json:"version"`
			Resolved    string `json:"resolved"`
			Integrity   string `json:"integrity"`
			Dev         bool   `json:"dev"`
			DevOptional bool   `json:"devOptional"`
			Link        bool   `json:"link"`
		}
		if err := json.Unmarshal(m[key], &e); err != nil {
			p.malformed(p.path, line, key, fmt.Errorf("package %s: %w", key, err))
			continue
		}
		if e.Link {
			continue // a symlink to a workspace package
		}
		name := key[i+len("node_modules/"):]
		if e.Name != "" {
			name = e.Name // an alias: "node_modules/x" installs package e.Name
		}
		if name == "" || e.Version == "" {
			p.malformed(p.path, line, key, errors.New("entry without a name or version"))
			continue
		}
		pkg := npmPackage(name, e.Version, e.Resolved, e.Integrity, e.Dev || e.DevOptional, line)
		pkg.Direct = i == 0 && direct[key[len("node_modules/"):]]
		if pkg.Name == "" {
			continue
		}
		if !p.add(pkg) {
			return
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

// npmV1 reads the nested "dependencies" map of lockfile v1.
// Nested entries repeat names; each gets the line of the name's first use.
func (p *parser) npmV1(keyLines map[string]int, m map[string]json.RawMessage, depth int) {
	if depth > maxNesting {
		p.report(ruleLimit, p.path, 0, "", fmt.Sprintf("dependencies nested deeper than %d", maxNesting))
		return
	}
	for _, name := range sortedKeys(m) {
		line := keyLines[name]
		var e struct {
			Version      string                     `json:"version"`
			Resolved     string                     `json:"resolved"`
			Integrity    string                     `json:"integrity"`
			Dev          bool                       `json:"dev"`
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
		if pkg := npmPackage(real, version, e.Resolved, e.Integrity, e.Dev, line); pkg.Name != "" {
			if !p.add(pkg) {
				return
			}
		}
		if len(e.Dependencies) > 0 {
			p.npmV1(keyLines, e.Dependencies, depth+1)
		}
	}
}
