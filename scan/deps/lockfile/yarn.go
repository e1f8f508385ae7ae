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
}

// yarnLock parses yarn.lock, both the classic v1 format and the YAML of
// Yarn 2+ ("berry"), with one line-oriented reader: a block starts with an
// unindented "specs:" header and its fields are indented by two spaces.
func (p *parser) yarnLock(data []byte) {
	var cur *yarnEntry
	flush := func() bool {
		if cur == nil {
			return true
		}
		e := cur
		cur = nil
		if e.header == "__metadata" {
			return true
		}
		return p.yarnEntry(e)
	}
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
			cur = &yarnEntry{header: strings.TrimSuffix(t, ":"), line: line}
			continue
		}
		if cur == nil {
			p.malformed(p.path, line, t, errors.New("indented line outside a block"))
			continue
		}
		if strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "\t\t") {
			continue // nested: dependencies, dependenciesMeta …
		}
		key, val := yarnField(t)
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
	name, _, ok := splitNameAt(first)
	if !ok {
		p.malformed(p.path, e.line, e.header, errors.New("no name@range in block header"))
		return true
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
		case "workspace", "patch", "link", "portal", "file", "exec":
			return true // the project itself, a patched duplicate, or local code
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
	return p.add(pkg)
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
