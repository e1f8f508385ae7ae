package lockfile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rampartsec/rampart/internal/yamltree"
)

// pnpmLock parses pnpm-lock.yaml, lockfile versions 5 to 9: the packages
// map names every installed package; importers (or, in single-project
// lockfiles before v9, the top-level dependency maps) mark the direct ones.
func (p *parser) pnpmLock(data []byte) {
	root, err := parseYAML(data)
	if err != nil {
		p.malformed(p.path, 0, "", err)
		return
	}
	if !root.IsMap {
		p.malformed(p.path, root.Line, "", errors.New("not a mapping: not a pnpm lockfile"))
		return
	}
	lv := root.Get("lockfileVersion").Str()
	if lv == "" {
		p.malformed(p.path, root.Line, "", errors.New("no lockfileVersion"))
	}
	v5 := strings.HasPrefix(lv, "5")
	direct, dev := map[string]bool{}, map[string]bool{}
	importer := func(n *yamltree.Node) {
		for _, sec := range []string{"dependencies", "devDependencies", "optionalDependencies"} {
			m := n.Get(sec)
			if m == nil || !m.IsMap {
				continue
			}
			for i, name := range m.Keys {
				v := m.Vals[i]
				ver := v.Str()
				if v.IsMap {
					ver = v.Get("version").Str()
				}
				ver = stripPeers(ver)
				direct[name+"@"+ver] = true
				if sec == "devDependencies" {
					dev[name+"@"+ver] = true
				}
			}
		}
	}
	importer(root)
	if imps := root.Get("importers"); imps != nil && imps.IsMap {
		for _, imp := range imps.Vals {
			importer(imp)
		}
	}
	pkgs := root.Get("packages")
	if pkgs == nil {
		return
	}
	if !pkgs.IsMap {
		p.malformed(p.path, pkgs.Line, "packages", errors.New("packages is not a mapping"))
		return
	}
	// Lockfiles of pnpm before v5 name the registry of every package.
	registry := root.Get("registry").Str()
	if !strings.HasPrefix(registry, "http://") && !strings.HasPrefix(registry, "https://") {
		registry = ""
	}
	registry = RedactURL(registry)
	// nv maps name@version to the package index (-1 for an entry that is
	// no package); raw maps the keys as written.
	nv, raw := map[string]int{}, map[string]int{}
	for i, key := range pkgs.Keys {
		e, line := pkgs.Vals[i], pkgs.KeyLines[i]
		name, version, err := pnpmKey(key, v5)
		if n := e.Get("name").Str(); n != "" {
			name = n
		}
		if v := e.Get("version").Str(); v != "" {
			version = v
		}
		if name == "" || version == "" {
			if err == nil {
				err = errors.New("no name or version")
			}
			p.malformed(p.path, line, key, fmt.Errorf("package %q: %w", key, err))
			continue
		}
		if idx, ok := nv[name+"@"+version]; ok {
			raw[key] = idx
			continue // the same package with other peer dependencies
		}
		nv[name+"@"+version] = -1
		raw[key] = -1
		pkg := Package{Ecosystem: NPM, Name: name, Version: version, Spec: version, Pinned: true, Line: line,
			Direct: direct[name+"@"+version], Dev: e.Get("dev").Str() == "true" || dev[name+"@"+version]}
		res := e.Get("resolution")
		if in := res.Get("integrity").Str(); in != "" {
			pkg.Hashes = []string{in}
		}
		if c := res.Get("commit").Str(); c != "" {
			pkg.Spec = res.Get("repo").Str() + "#" + c
			pkg.Version, pkg.Pinned = "", reCommit.MatchString(c)
		} else if t := res.Get("tarball").Str(); t != "" && strings.HasPrefix(t, "file:") {
			continue // a local tarball
		} else if t != "" {
			pkg.Source = npmRegistry(name, t)
		} else {
			pkg.Source = registry
		}
		idx, ok := p.addIndex(pkg)
		if !ok {
			return
		}
		nv[name+"@"+version], raw[key] = idx, idx
	}
	p.pnpmGraph(pkgs, nv, raw, v5)
	if snaps := root.Get("snapshots"); snaps != nil && snaps.IsMap {
		p.pnpmGraph(snaps, nv, raw, v5)
	}
}

// pnpmGraph records the dependencies of the entries of m, the packages
// map (lockfile v5 and v6) or the snapshots map (v9): each entry's
// dependencies and optionalDependencies, name to resolved version, the
// version carrying its own peers ("1.2.3(react@18.2.0)", v5
// "1.2.3_react@18.2.0"), an alias ("real@1.2.3", v6 "/real@1.2.3", v5
// "/real/1.2.3") or a non-registry key.
func (p *parser) pnpmGraph(m *yamltree.Node, nv, raw map[string]int, v5 bool) {
	for i, key := range m.Keys {
		from, ok := raw[key]
		if !ok {
			name, version, err := pnpmKey(key, v5)
			if err != nil {
				continue
			}
			if from, ok = nv[name+"@"+version]; !ok {
				continue
			}
		}
		if from < 0 {
			continue
		}
		e := m.Vals[i]
		for _, sec := range []string{"dependencies", "optionalDependencies"} {
			deps := e.Get(sec)
			if deps == nil || !deps.IsMap {
				continue
			}
			for j, name := range deps.Keys {
				p.require(from, pnpmResolve(name, deps.Vals[j].Str(), nv, raw, v5))
			}
		}
	}
}

// pnpmResolve returns the package index a dependency name: version of a
// pnpm lockfile names, or -1.
func pnpmResolve(name, v string, nv, raw map[string]int, v5 bool) int {
	if v == "" || strings.HasPrefix(v, "link:") || strings.HasPrefix(v, "file:") || strings.HasPrefix(v, "workspace:") {
		return -1
	}
	if strings.HasPrefix(v, "/") {
		if idx, ok := raw[v]; ok {
			return idx
		}
		if n, ver, err := pnpmKey(v, v5); err == nil {
			if idx, ok := nv[n+"@"+ver]; ok {
				return idx
			}
		}
		return -1
	}
	bare := v
	if i := strings.IndexByte(bare, '('); i >= 0 {
		bare = bare[:i]
	}
	if v5 {
		bare = stripPeers(bare)
	}
	if idx, ok := nv[name+"@"+bare]; ok {
		return idx
	}
	if at := strings.LastIndexByte(bare, '@'); at > 0 {
		if idx, ok := nv[bare]; ok {
			return idx // an alias: real@1.2.3
		}
	}
	if idx, ok := raw[v]; ok {
		return idx // a non-registry key
	}
	if idx, ok := raw[name+"@"+v]; ok {
		return idx
	}
	return -1
}

// stripPeers removes the peer-dependency suffix of a pnpm version,
// "1.2.3(react@18.2.0)" (v6+) or "1.2.3_react@18.2.0" (v5).
func stripPeers(v string) string {
	if i := strings.IndexByte(v, '('); i >= 0 {
		v = v[:i]
	}
	if i := strings.IndexByte(v, '_'); i >= 0 {
		v = v[:i]
	}
	return v
}

// pnpmKey splits a packages key: "/name@1.2.3(peer@1)" (v6), "name@1.2.3"
// (v9), "/@scope/name/1.2.3_peer@1" (v5).
func pnpmKey(key string, v5 bool) (name, version string, err error) {
	k := strings.TrimPrefix(key, "/")
	if i := strings.IndexByte(k, '('); i >= 0 {
		k = k[:i]
	}
	if v5 {
		i := strings.LastIndexByte(k, '/')
		if i <= 0 {
			return "", "", errors.New("want /name/version")
		}
		return k[:i], stripPeers(k[i+1:]), nil
	}
	i := strings.LastIndexByte(k, '@')
	if i <= 0 {
		return "", "", errors.New("want name@version")
	}
	return k[:i], k[i+1:], nil
}
