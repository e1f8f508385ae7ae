package lockfile

import (
	"errors"
	"strings"
)

// cargoLock parses Cargo.lock (format versions 1 to 4). Crates without a
// source are the workspace's own and are skipped, as are path sources.
func (p *parser) cargoLock(data []byte) {
	var f struct {
		Package []struct {
			Name     string `toml:"name"`
			Version  string `toml:"version"`
			Source   string `toml:"source"`
			Checksum string `toml:"checksum"`
		} `toml:"package"`
		Metadata map[string]string `toml:"metadata"` // v1: "checksum name version (source)" = hash
	}
	if !p.decodeTOML(data, &f) {
		return
	}
	headers := newTOMLLines(data).arrayLines("package")
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
		if !p.add(pkg) {
			return
		}
	}
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
