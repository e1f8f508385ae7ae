package lockfile

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// reCondaSpec splits a conda match spec "channel::name[version[=build]]"
// written with "=", "==", comparison operators or spaces.
var reCondaSpec = regexp.MustCompile(`^(?:([A-Za-z0-9_./:-]+)::)?([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*(.*)$`)

// condaEnv parses a conda environment.yml: its conda dependencies and the
// PyPI requirements of its pip: section (whose -r includes are read
// relative to the environment file).
func (p *parser) condaEnv(data []byte) {
	root, err := parseYAML(data)
	if err != nil {
		p.malformed(p.path, 0, "", err)
		return
	}
	deps := root.Get("dependencies")
	if deps == nil {
		if !root.IsMap {
			p.malformed(p.path, root.Line, "", errors.New("not a mapping: not a conda environment"))
		}
		return
	}
	if !deps.IsSeq {
		p.malformed(p.path, deps.Line, "dependencies", errors.New("dependencies is not a list"))
		return
	}
	locked := hasSiblingLock(p.path, "conda-lock.yml", "conda-lock.yaml")
	var channels []string
	if ch := root.Get("channels"); ch != nil && ch.IsSeq {
		for _, c := range ch.Vals {
			channels = appendIndex(channels, c.Scalar)
		}
	}
	start := len(p.pkgs)
	st := &reqState{pinnedBy: map[string]bool{}}
	p.stack = []string{absPath(p.path)}
	p.includes = 1
	for _, d := range deps.Vals {
		if d.IsMap {
			pip := d.Get("pip")
			if pip == nil || !pip.IsSeq {
				continue
			}
			for _, r := range pip.Vals {
				if r.Scalar == "" {
					continue
				}
				p.reqLine(p.path, reqLine{text: stripComment(r.Scalar), line: r.Line}, false, st)
			}
			continue
		}
		s := strings.TrimSpace(d.Scalar)
		if s == "" {
			p.malformed(p.path, d.Line, "", errors.New("empty dependency"))
			continue
		}
		pkg, err := parseCondaSpec(s)
		if err != nil {
			p.malformed(p.path, d.Line, s, err)
			continue
		}
		pkg.Line, pkg.Direct = d.Line, true
		if pkg.Name == "pip" || pkg.Name == "python" {
			// The interpreter and installer: conda pins them through the
			// solver, and OSV tracks neither under "conda".
			if !p.add(pkg) {
				return
			}
			continue
		}
		if p.add(pkg) && !pkg.Pinned && !locked {
			p.reportUnpinned(pkg)
		}
	}
	for _, i := range st.reqs {
		if pkg := p.pkgs[i]; !pkg.Pinned && !locked {
			p.reportUnpinned(pkg)
		}
	}
	st.applyIndexes(p.pkgs[start:])
	for i := start; i < len(p.pkgs); i++ {
		if pkg := &p.pkgs[i]; pkg.Ecosystem == Conda && pkg.Source == "" {
			pkg.Indexes = channels
		}
	}
}

// parseCondaSpec reads one conda match spec. "name=1.2.3", "name==1.2.3"
// and "name=1.2.3=build" count as pinned ("=1.2.3" is strictly a prefix
// match, but it is the conventional way to pin in environment files);
// wildcards, ranges and bare names do not.
func parseCondaSpec(s string) (Package, error) {
	m := reCondaSpec.FindStringSubmatch(s)
	if m == nil {
		return Package{}, fmt.Errorf("bad conda spec %q", s)
	}
	pkg := Package{Ecosystem: Conda, Name: normalise(Conda, m[2]), Source: RedactURL(m[1])}
	rest := strings.TrimSpace(m[3])
	if i := strings.IndexByte(rest, '['); i >= 0 { // name[version=…,build=…] bracket form
		rest = strings.TrimSpace(rest[:i])
	}
	pkg.Spec = rest
	if rest == "" {
		return pkg, nil
	}
	var version string
	switch {
	case strings.HasPrefix(rest, "=="):
		version = strings.TrimSpace(rest[2:])
	case strings.HasPrefix(rest, "="):
		version = strings.TrimSpace(rest[1:])
		if i := strings.IndexByte(version, '='); i >= 0 {
			version = version[:i] // drop the build string
		}
	case rest[0] >= '0' && rest[0] <= '9':
		version = strings.Fields(rest)[0] // "name 1.2.3 build"
	default:
		return pkg, nil // a range such as ">=1.2"
	}
	if version == "" || strings.ContainsAny(version, "*<>|,! ") {
		return pkg, nil
	}
	pkg.Version, pkg.Pinned = version, true
	return pkg, nil
}
