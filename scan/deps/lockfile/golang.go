package lockfile

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	reGoVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$`)
	reGoLang    = regexp.MustCompile(`^(?:go)?([0-9]+(?:\.[0-9]+){0,2}(?:(?:rc|beta)[0-9]+)?)$`)
)

// goModFields splits a go.mod line into fields, dropping a trailing //
// comment and unquoting "quoted" paths; it reports whether the comment
// marks the requirement "// indirect".
func goModFields(s string) (fields []string, indirect bool, err error) {
	if i := strings.Index(s, "//"); i >= 0 {
		c := strings.TrimSpace(s[i+2:])
		indirect = c == "indirect" || strings.HasPrefix(c, "indirect;")
		s = s[:i]
	}
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, `"`) || strings.HasPrefix(f, "`") {
			u, err := strconv.Unquote(f)
			if err != nil {
				return nil, false, fmt.Errorf("bad quoted path %s", f)
			}
			f = u
		}
		fields = append(fields, f)
	}
	return fields, indirect, nil
}

// goMod parses go.mod: require, replace and exclude directives (others are
// read and ignored). Module replacements replace the package they name, as
// the go command would; replacements by a local folder drop it. The go (or
// toolchain) directive yields the "stdlib" package, as OSV names the
// standard library.
func (p *parser) goMod(data []byte) {
	type req struct {
		Package
		indirect bool
	}
	var reqs []req
	type repl struct {
		oldPath, oldVersion, newPath, newVersion string
	}
	var repls []repl
	excluded := map[string]bool{}
	goVersion, toolchain, stdlibLine := "", "", 0
	block := ""
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		s := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		fields, indirect, err := goModFields(s)
		if err != nil {
			p.malformed(p.path, line, s, err)
			continue
		}
		if len(fields) == 0 {
			continue
		}
		verb := block
		if block == "" {
			verb = fields[0]
			fields = fields[1:]
			if len(fields) == 1 && fields[0] == "(" {
				block = verb
				continue
			}
		} else if fields[0] == ")" {
			block = ""
			continue
		}
		switch verb {
		case "module", "retract", "godebug", "tool", "ignore":
		case "go":
			if len(fields) != 1 || !reGoLang.MatchString(fields[0]) {
				p.malformed(p.path, line, s, errors.New("bad go directive"))
				continue
			}
			goVersion, stdlibLine = reGoLang.FindStringSubmatch(fields[0])[1], line
		case "toolchain":
			if len(fields) == 1 {
				if m := reGoLang.FindStringSubmatch(fields[0]); m != nil && strings.HasPrefix(fields[0], "go") {
					toolchain = m[1]
				}
			}
		case "require":
			if len(fields) != 2 || !reGoVersion.MatchString(fields[1]) {
				p.malformed(p.path, line, s, errors.New("require wants a module path and a semantic version"))
				continue
			}
			reqs = append(reqs, req{Package: Package{Ecosystem: Go, Name: fields[0], Version: fields[1], Spec: fields[1], Pinned: true, Line: line, Direct: !indirect}, indirect: indirect})
		case "exclude":
			if len(fields) != 2 || !reGoVersion.MatchString(fields[1]) {
				p.malformed(p.path, line, s, errors.New("exclude wants a module path and a semantic version"))
				continue
			}
			excluded[fields[0]+"@"+fields[1]] = true
		case "replace":
			arrow := -1
			for j, f := range fields {
				if f == "=>" {
					arrow = j
				}
			}
			if arrow < 1 || arrow > 2 || len(fields)-arrow-1 < 1 || len(fields)-arrow-1 > 2 {
				p.malformed(p.path, line, s, errors.New("replace wants path [version] => path [version]"))
				continue
			}
			r := repl{oldPath: fields[0], newPath: fields[arrow+1]}
			if arrow == 2 {
				r.oldVersion = fields[1]
			}
			if len(fields) == arrow+3 {
				r.newVersion = fields[arrow+2]
			}
			repls = append(repls, r)
		default:
			p.malformed(p.path, line, s, fmt.Errorf("unknown directive %q", verb))
		}
	}
	if block != "" {
		p.malformed(p.path, 0, block+" (", errors.New("unterminated block"))
	}
	if goVersion != "" {
		v := goVersion
		if toolchain != "" {
			v = toolchain
		}
		if !p.add(Package{Ecosystem: Go, Name: "stdlib", Version: v, Spec: "go " + goVersion, Pinned: true, Line: stdlibLine}) {
			return
		}
	}
	for _, r := range reqs {
		pkg := r.Package
		if excluded[pkg.Name+"@"+pkg.Version] {
			continue
		}
		local := false
		for _, rp := range repls {
			if rp.oldPath != pkg.Name || (rp.oldVersion != "" && rp.oldVersion != pkg.Version) {
				continue
			}
			if rp.newVersion == "" { // a folder on disk
				local = true
				break
			}
			pkg.Name, pkg.Version = rp.newPath, rp.newVersion
			pkg.Spec = r.Name + " " + r.Version + " => " + rp.newPath + " " + rp.newVersion
		}
		if local {
			continue
		}
		if !p.add(pkg) {
			return
		}
	}
}

// goSum parses go.sum: "path version h1:hash" lines. Entries that record
// only a go.mod file (version "/go.mod") name modules whose code the build
// does not use, and are skipped.
func (p *parser) goSum(data []byte) {
	type key struct{ name, version string }
	seen := map[key]int{} // index into p.pkgs
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		s := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if s == "" {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 3 || !strings.Contains(f[2], ":") {
			p.malformed(p.path, line, s, errors.New("want: module version hash"))
			continue
		}
		version, goModOnly := strings.CutSuffix(f[1], "/go.mod")
		if !reGoVersion.MatchString(version) {
			p.malformed(p.path, line, s, fmt.Errorf("bad version %q", f[1]))
			continue
		}
		if goModOnly {
			continue
		}
		k := key{f[0], version}
		if j, ok := seen[k]; ok {
			p.pkgs[j].Hashes = append(p.pkgs[j].Hashes, f[2])
			continue
		}
		if !p.add(Package{Ecosystem: Go, Name: f[0], Version: version, Spec: version, Pinned: true, Hashes: []string{f[2]}, Line: line}) {
			return
		}
		seen[k] = len(p.pkgs) - 1
	}
}
