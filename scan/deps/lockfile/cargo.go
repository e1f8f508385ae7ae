package lockfile

import (
	"errors"
	"strings"
)

// cargoLock parses Cargo.lock (format versions 1 to 4). Crates without a
// source are the workspace's own and are skipped, as are path sources; the
// crates they depend on are the direct ones. The dependencies of each
// crate, "name", "name version" or "name version (source)" (the shorter
// forms where they are unambiguous), are its edges.
func (p *parser) cargoLock(data []byte) {
	var f struct {
		Package []struct {
			Name         string `toml:"name"`
			Version      string `toml:"version"`
			Source       string `toml:"source"`
			Checksum     string `toml:"checksum"`
			Dependencies any    `toml:"dependencies"` // strings; typed loosely, not a reason to reject the file
		} `toml:"package"`
		Metadata map[string]string `toml:"metadata"` // v1: "checksum name version (source)" = hash
	}
	if !p.decodeTOML(data, &f) {
		return
	}
	headers := newTOMLLines(data).arrayLines("package")
	idx := make([]int, len(f.Package))
	crates := map[string][]int{} // name, "name version", "name version source" → package indices
	defer func() {
		for i, e := range f.Package {
			root := e.Source == "" && e.Name != "" && e.Version != ""
			if idx[i] < 0 && !root {
				continue
			}
			list, _ := e.Dependencies.([]any)
			for _, v := range list {
				d, _ := v.(string)
				t := cargoTarget(d, crates)
				if root && t >= 0 {
					p.pkgs[t].Direct = true
				}
				p.require(idx[i], t)
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
		if e.Source == "" || strings.HasPrefix(e.Source, "path+") {
			continue
		}
		pkg := Package{Ecosystem: Crates, Name: e.Name, Version: e.Version, Spec: e.Version, Pinned: true, Line: line}
		sum := e.Checksum
		if sum == "" {
			sum = f.Metadata["checksum "+e.Name+" "+e.Version+" ("+e.Source+")"]
		}
		if sum != "" {
			pkg.Hashes = []string{"sha256:" + sum}
		}
		if strings.HasPrefix(e.Source, "git+") {
			pkg.Spec = e.Source
		}
		pkg.Source = cargoRegistry(e.Source)
		n, ok := p.addIndex(pkg)
		if !ok {
			return
		}
		if idx[i] = n; n >= 0 {
			for _, k := range []string{e.Name, e.Name + " " + e.Version, e.Name + " " + e.Version + " " + e.Source} {
				if len(crates[k]) < 2 {
					crates[k] = append(crates[k], n)
				}
			}
		}
	}
}

// cargoTarget returns the crate a dependency of Cargo.lock names, "name",
// "name version" or "name version (source)": the one crate of the result
// it matches, or -1 when none does or the reference is ambiguous.
func cargoTarget(dep string, crates map[string][]int) int {
	f := strings.Fields(dep)
	if len(f) == 3 {
		f[2] = strings.TrimSuffix(strings.TrimPrefix(f[2], "("), ")")
	}
	if len(f) == 0 || len(f) > 3 {
		return -1
	}
	if c := crates[strings.Join(f, " ")]; len(c) == 1 {
		return c[0]
	}
	return -1
}

// cargoRegistry returns the index URL of a registry source,
// "registry+https://github.com/rust-lang/crates.io-index" or
// "sparse+https://index.crates.io/", credentials removed; "" for git and
// other sources.
func cargoRegistry(source string) string {
	if u, ok := strings.CutPrefix(source, "registry+"); ok {
		return RedactURL(u)
	}
	if u, ok := strings.CutPrefix(source, "sparse+"); ok {
		return RedactURL(u)
	}
	return ""
}
