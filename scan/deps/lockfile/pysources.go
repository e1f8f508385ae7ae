package lockfile

import "strings"

// This file binds the dependencies of pyproject.toml (Poetry and uv) and
// Pipfile to the package indexes the files configure, for Package.Source
// and Package.Indexes. Configuration of another shape than the tools
// document is ignored rather than reported: it names no index.

// tables returns the tables of an array of tables decoded into v.
func tables(v any) []map[string]any {
	switch t := v.(type) {
	case []map[string]any:
		return t
	case []any:
		var out []map[string]any
		for _, x := range t {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	case map[string]any:
		return []map[string]any{t}
	}
	return nil
}

// str returns the string at key of m, or "".
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// flag returns the boolean at key of m.
func flag(m map[string]any, key string) bool {
	b, _ := m[key].(bool)
	return b
}

// bindIndex sets the Source of pkg to the index named by binding, or, for
// a package the manifest does not bind, to the only candidate or Indexes
// to the candidates. Direct references (URLs, VCS) keep their own source.
func bindIndex(pkg *Package, binding string, byName map[string]string, candidates []string) {
	if isURLOrPath(pkg.Spec) {
		return
	}
	switch {
	case binding != "":
		pkg.Source = byName[strings.ToLower(binding)] // "" when the index is not declared
	case len(candidates) == 1:
		pkg.Source = candidates[0]
	case len(candidates) > 1:
		pkg.Indexes = candidates
	}
}

// poetryIndexes returns the [[tool.poetry.source]] entries by lower-case
// name, and the indexes Poetry merges for a dependency without a source:
// the default and primary sources in order (with PyPI among them unless a
// primary source disables it, or it is configured with another priority),
// then, when PyPI is among those, the supplemental ones it consults only
// for what they lack (Poetry 1.8 and later).
// Explicit sources serve only the dependencies bound to them. Without any
// source configured it returns no candidates: Poetry uses PyPI, and
// poetry.lock says so.
func poetryIndexes(sources any) (map[string]string, []string) {
	byName := map[string]string{"pypi": PyPIIndex}
	var first, primary, supplemental []string
	pypiPriority := ""
	anyPrimary := false
	ts := tables(sources)
	for _, s := range ts {
		name, u := strings.ToLower(str(s, "name")), str(s, "url")
		prio := strings.ToLower(str(s, "priority"))
		switch {
		case prio != "":
		case flag(s, "default"):
			prio = "default"
		case flag(s, "secondary"):
			prio = "secondary"
		default:
			prio = "primary"
		}
		if name == "pypi" {
			pypiPriority = prio
			u = PyPIIndex
		}
		if u == "" || !strings.Contains(u, "://") {
			continue
		}
		u = RedactURL(u)
		if _, ok := byName[name]; !ok || name == "pypi" {
			byName[name] = u
		}
		switch prio {
		case "default":
			first = appendIndex(first, u)
			anyPrimary = anyPrimary || name != "pypi"
		case "primary":
			primary = appendIndex(primary, u)
			anyPrimary = anyPrimary || name != "pypi"
		case "supplemental", "secondary":
			supplemental = appendIndex(supplemental, u)
		}
	}
	if len(ts) == 0 {
		return byName, nil
	}
	if pypiPriority == "" && !anyPrimary {
		primary = appendIndex(primary, PyPIIndex) // the implicit PyPI source
	}
	out := first
	for _, u := range primary {
		out = appendIndex(out, u)
	}
	// Supplemental sources matter when PyPI answers first: a private
	// package there is found on PyPI before Poetry looks further.
	for _, u := range out {
		if strings.Contains(u, "://pypi.org/") {
			for _, u := range supplemental {
				out = appendIndex(out, u)
			}
			break
		}
	}
	return byName, out
}

// uvIndexes returns the [[tool.uv.index]] entries by lower-case name and,
// when [tool.uv] sets index-strategy = "unsafe-best-match", the indexes uv
// merges for a dependency without a source: every non-explicit index, the
// extra-index-url ones and the default index (PyPI unless replaced). With
// the default strategy, "first-index", uv takes a package from the first
// index that has it, so a private index listed before PyPI serves the
// private names: no candidates are returned.
func uvIndexes(uv any) (map[string]string, []string) {
	byName := map[string]string{}
	cfg, _ := uv.(map[string]any)
	if cfg == nil {
		return byName, nil
	}
	var out []string
	def := ""
	for _, ix := range tables(cfg["index"]) {
		u := str(ix, "url")
		if !strings.Contains(u, "://") {
			continue
		}
		u = RedactURL(u)
		if name := strings.ToLower(str(ix, "name")); name != "" {
			if _, ok := byName[name]; !ok {
				byName[name] = u
			}
		}
		switch {
		case flag(ix, "explicit"):
		case flag(ix, "default"):
			if def == "" {
				def = u
			}
		default:
			out = appendIndex(out, u)
		}
	}
	if !strings.EqualFold(str(cfg, "index-strategy"), "unsafe-best-match") {
		return byName, nil
	}
	if extras, ok := cfg["extra-index-url"].([]any); ok {
		for _, x := range extras {
			if s, ok := x.(string); ok && strings.Contains(s, "://") {
				out = appendIndex(out, s)
			}
		}
	}
	if u := str(cfg, "index-url"); def == "" && strings.Contains(u, "://") {
		def = RedactURL(u)
	}
	if def == "" {
		def = PyPIIndex
	}
	return byName, appendIndex(out, def)
}

// uvBinding returns the index a [tool.uv.sources] entry binds name to.
func uvBinding(uv any, name string) string {
	cfg, _ := uv.(map[string]any)
	srcs, _ := cfg["sources"].(map[string]any)
	for k, v := range srcs {
		if normalise(PyPI, k) != name {
			continue
		}
		for _, t := range tables(v) {
			if ix := str(t, "index"); ix != "" {
				return ix
			}
		}
	}
	return ""
}

// depBinding returns the value of key ("source" for Poetry, "index" for
// Pipfile) in the dependency tables of deps that declare name.
func depBinding(name, key string, deps ...map[string]any) string {
	for _, d := range deps {
		for k, v := range d {
			if normalise(PyPI, k) != name {
				continue
			}
			for _, t := range tables(v) {
				if s := str(t, key); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// pipfileIndexes returns the [[source]] entries of a Pipfile by lower-case
// name and all their URLs in order.
func pipfileIndexes(sources any) (map[string]string, []string) {
	byName := map[string]string{}
	var all []string
	for _, s := range tables(sources) {
		u := str(s, "url")
		if !strings.Contains(u, "://") {
			continue
		}
		u = RedactURL(u)
		if name := strings.ToLower(str(s, "name")); name != "" {
			if _, ok := byName[name]; !ok {
				byName[name] = u
			}
		}
		all = appendIndex(all, u)
	}
	return byName, all
}
