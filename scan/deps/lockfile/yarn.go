package lockfile

import (
	"errors"
	"fmt"
	"strings"
)

// yarnEntry is one block of yarn.lock being read.
type yarnEntry struct {
	header     string
	line       int
	version    string
	resolution string
	resolved   string // classic: the tarball URL
	hashes     []string
	linkType   string
	section    string      // the field whose nested lines are being read
	deps       [][2]string // dependencies and optionalDependencies: name, range
	idx        int         // the package index, -1 for none
	patchOf    string      // for a patch: entry, the name@version it patches
	workspace  bool        // berry: a workspace of the project (the root included)
}

// yarnLock parses yarn.lock, both the classic v1 format and the YAML of
// Yarn 2+ ("berry"), with one line-oriented reader: a block starts with an
// unindented "specs:" header and its fields are indented by two spaces.
// The dependencies of an entry, name and range, resolve through the
// descriptors ("name@range") the block headers list. In berry, the
// packages a workspace entry (the project, "name@workspace:.") depends on
// are marked Direct; classic yarn.lock records no workspace, and marks
// nothing.
func (p *parser) yarnLock(data []byte) {
	var cur *yarnEntry
	var entries []*yarnEntry
	flush := func() bool {
		if cur == nil {
			return true
		}
		e := cur
		cur = nil
		if e.header == "__metadata" {
			return true
		}
		entries = append(entries, e)
		return p.yarnEntry(e)
	}
	defer func() { p.yarnGraph(entries) }()
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		l := strings.TrimSuffix(raw, "\r")
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			if !flush() {
				return
			}
			if !strings.HasSuffix(t, ":") {
				p.malformed(p.path, line, t, errors.New("block header does not end with ':'"))
				continue
			}
			cur = &yarnEntry{header: strings.TrimSuffix(t, ":"), line: line, idx: -1}
			continue
		}
		if cur == nil {
			p.malformed(p.path, line, t, errors.New("indented line outside a block"))
			continue
		}
		if strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "\t\t") {
			// nested: dependencies, dependenciesMeta …
			if cur.section == "dependencies" || cur.section == "optionalDependencies" {
				if name, rng := yarnField(t); name != "" && rng != "" {
					cur.deps = append(cur.deps, [2]string{name, rng})
				}
			}
			continue
		}
		key, val := yarnField(t)
		cur.section = ""
		if val == "" {
			cur.section = key
		}
		switch key {
		case "version":
			cur.version = val
		case "resolution":
			cur.resolution = val
		case "resolved":
			cur.resolved = val
		case "integrity":
			cur.hashes = append(cur.hashes, val)
		case "checksum":
			cur.hashes = append(cur.hashes, val)
		case "linkType":
			cur.linkType = val
		}
	}
	flush()
}

// yarnField splits `key "value"` (v1) or `key: value` (berry).
func yarnField(t string) (key, val string) {
	i := strings.IndexAny(t, ": ")
	if i < 0 {
		return t, ""
	}
	key = strings.Trim(t[:i], `"`)
	val = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t[i:]), ":"))
	return key, strings.Trim(val, `"'`)
}

// yarnEntry turns one block into a package; it reports false when the
// package limit is reached.
func (p *parser) yarnEntry(e *yarnEntry) bool {
	first := strings.TrimSpace(strings.SplitN(e.header, ",", 2)[0])
	first = strings.Trim(first, `"`)
	name, rng, ok := splitNameAt(first)
	if !ok {
		p.malformed(p.path, e.line, e.header, errors.New("no name@range in block header"))
		return true
	}
	if alias, ok := strings.CutPrefix(rng, "npm:"); ok && e.resolution == "" {
		// classic: "alias@npm:real@range" installs real under alias.
		if real, _, ok := splitNameAt(alias); ok {
			name = real
		}
	}
	if e.version == "" {
		p.malformed(p.path, e.line, e.header, fmt.Errorf("%s: no version", name))
		return true
	}
	pkg := Package{Ecosystem: NPM, Name: name, Version: e.version, Spec: e.version, Pinned: true, Hashes: e.hashes, Line: e.line}
	if e.resolution != "" {
		rname, ref, ok := splitNameAt(e.resolution)
		if !ok {
			p.malformed(p.path, e.line, e.resolution, errors.New("bad resolution"))
			return true
		}
		pkg.Name = rname
		proto, rest, _ := strings.Cut(ref, ":")
		switch proto {
		case "npm":
			pkg.Version = rest
		case "patch":
			e.patchOf = rname + "@" + e.version
			return true // a patched duplicate of an npm entry
		case "workspace":
			e.workspace = true
			return true // the project itself: what it depends on is direct
		case "link", "portal", "file", "exec":
			return true // local code
		default:
			pkg.Spec, pkg.Version = ref, ""
			_, c, found := strings.Cut(ref, "#commit=")
			if !found {
				_, c, _ = strings.Cut(ref, "#")
			}
			pkg.Pinned = reCommit.MatchString(c)
		}
	}
	if e.linkType == "soft" {
		return true
	}
	pkg.Source = npmRegistry(pkg.Name, e.resolved)
	idx, ok := p.addIndex(pkg)
	e.idx = idx
	return ok
}

// yarnGraph records the dependencies of the entries: each name and range
// is the descriptor "name@range" a block header lists (in berry, with the
// "npm:" protocol its dependencies may leave out); a dependency on a
// patched package resolves to the npm entry of the version patched.
func (p *parser) yarnGraph(entries []*yarnEntry) {
	byDesc := map[string]*yarnEntry{}
	byKey := map[string]int{}
	for _, e := range entries {
		for _, d := range strings.Split(e.header, ",") {
			d = strings.Trim(strings.TrimSpace(d), `"'`)
			if _, ok := byDesc[d]; !ok && d != "" {
				byDesc[d] = e
			}
		}
		if e.idx >= 0 {
			if k := p.pkgs[e.idx].Key(); byKey[k] == 0 {
				byKey[k] = e.idx + 1 // 0 is "none"
			}
		}
	}
	target := func(name, rng string) int {
		e := byDesc[name+"@"+rng]
		if e == nil && !strings.Contains(rng, ":") {
			e = byDesc[name+"@npm:"+rng]
		}
		if e == nil {
			if r, ok := strings.CutPrefix(rng, "npm:"); ok {
				e = byDesc[name+"@"+r]
			}
		}
		switch {
		case e == nil:
			return -1
		case e.idx >= 0:
			return e.idx
		case e.patchOf != "":
			return byKey[e.patchOf] - 1
		}
		return -1
	}
	for _, e := range entries {
		for _, d := range e.deps {
			t := target(d[0], d[1])
			p.require(e.idx, t)
			if e.workspace && t >= 0 {
				// A workspace's dependencies (its dev dependencies
				// included: the lockfile does not tell them apart) are the
				// ones the project names itself.
				p.pkgs[t].Direct = true
			}
		}
	}
}

// splitNameAt splits "name@rest" or "@scope/name@rest" at the first "@"
// after the start.
func splitNameAt(s string) (name, rest string, ok bool) {
	if len(s) < 2 {
		return "", "", false
	}
	i := strings.IndexByte(s[1:], '@')
	if i < 0 {
		return "", "", false
	}
	return s[:i+1], s[i+2:], s[:i+1] != ""
}
