package lockfile

import (
	"strconv"
	"strings"

	"github.com/rampartsec/rampart/scan/deps/version"
)

// pyIndex maps the normalised names of the packages of a Python lockfile
// to their indices, to resolve dependencies by name, and name@version to
// the first package of that version.
type pyIndex struct {
	byName map[string][]int
	byKey  map[string]int
	checks int // constraint checks left
}

// maxChecks bounds the version-constraint checks of one poetry.lock.
const maxChecks = 1 << 20

func newPyIndex() *pyIndex {
	return &pyIndex{byName: map[string][]int{}, byKey: map[string]int{}, checks: maxChecks}
}

// add records package i, named name (normalised) at version v.
func (x *pyIndex) add(i int, name, v string) {
	x.byName[name] = append(x.byName[name], i)
	if _, ok := x.byKey[name+"@"+v]; !ok {
		x.byKey[name+"@"+v] = i
	}
}

// maxCandidates bounds the packages of one name a poetry.lock dependency
// is checked against: a lock holds a few versions of a name at most, and
// a hostile one must not make the check quadratic.
const maxCandidates = 64

// poetryDeps records the edges of the [package.dependencies] table deps of
// package from: each name, PEP 503-normalised, resolves to the packages of
// that name; when the lock holds several versions of it (for different
// environments), to those the constraints admit. Dependencies of extras
// (optional = true) are edges too when their package is in the lock.
func (p *parser) poetryDeps(from int, deps any, idx *pyIndex) {
	m, ok := deps.(map[string]any)
	if !ok || from < 0 {
		return
	}
	for _, name := range sortedKeys(m) {
		cands := idx.byName[normalise(PyPI, name)]
		if len(cands) == 1 {
			p.require(from, cands[0])
			continue
		}
		cons := poetryConstraints(m[name])
		if len(cons) > maxCandidates {
			cons = cons[:maxCandidates]
		}
		for _, c := range cands[:min(len(cands), maxCandidates)] {
			for _, con := range cons {
				if idx.checks--; idx.checks < 0 {
					return // a hostile file: leave the rest unresolved
				}
				if poetryAllows(con, p.pkgs[c].Version) {
					p.require(from, c)
					break
				}
			}
		}
	}
}

// poetryConstraints returns the version constraints of one dependency of
// a poetry.lock entry: a string, a table with "version", or an array of
// such tables (one per environment). A dependency without one (git, path)
// admits any version ("*").
func poetryConstraints(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case map[string]any:
		if s, ok := v["version"].(string); ok {
			return []string{s}
		}
		return []string{"*"}
	case []map[string]any:
		var out []string
		for _, t := range v {
			out = append(out, poetryConstraints(t)...)
		}
		return out
	case []any:
		var out []string
		for _, t := range v {
			out = append(out, poetryConstraints(t)...)
		}
		return out
	}
	return []string{"*"}
}

// poetryAllows reports whether version v satisfies a Poetry constraint:
// alternatives separated by "||", each a comma-separated list of clauses with the operators of PEP 440 and Poetry's "^" and "~". It
// errs on the side of yes: a clause it cannot read admits every version.
func poetryAllows(con, v string) bool {
	for _, alt := range strings.Split(con, "||") {
		ok := true
		for _, clause := range strings.Split(alt, ",") {
			if !clauseAllows(strings.TrimSpace(clause), v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// clauseAllows reports whether v satisfies one clause, e.g. ">=1.2",
// "==1.4.*", "^0.3", "~=2.1"; true for a clause it cannot read.
func clauseAllows(clause, v string) bool {
	op := ""
	for _, o := range []string{"===", "==", "!=", "~=", ">=", "<=", ">", "<", "^", "~", "="} {
		if strings.HasPrefix(clause, o) {
			op = o
			break
		}
	}
	base := strings.TrimSpace(clause[len(op):])
	if base == "" || base == "*" {
		return true
	}
	if op == "" || op == "=" || op == "===" {
		op = "=="
	}
	if prefix, ok := strings.CutSuffix(base, ".*"); ok {
		in := between(v, prefix, bumpRelease(prefix, len(releaseOf(prefix))-1))
		switch op {
		case "==":
			return in
		case "!=":
			return !in
		}
		return true
	}
	c, err := version.Compare(PyPI, v, base)
	if err != nil {
		return true
	}
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case "<":
		return c < 0
	case "~=": // >= base, == base without its last release number .*
		n := len(releaseOf(base))
		if n < 2 {
			return true
		}
		return c >= 0 && between(v, base, bumpRelease(base, n-2))
	case "~": // Poetry: ~1.2.3 is >=1.2.3,<1.3.0; ~1 is >=1,<2
		n := len(releaseOf(base))
		return c >= 0 && between(v, base, bumpRelease(base, min(1, n-1)))
	case "^": // Poetry: ^1.2.3 is >=1.2.3,<2.0.0; ^0.2.3 is >=0.2.3,<0.3.0
		rel := releaseOf(base)
		k := len(rel) - 1
		for i, x := range rel {
			if x != 0 {
				k = i
				break
			}
		}
		return c >= 0 && between(v, base, bumpRelease(base, k))
	}
	return true
}

// releaseOf returns the release numbers of a version ("1.2.3rc1" → 1 2 3),
// stopping at the first segment that is not a plain number.
func releaseOf(v string) []int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if _, rest, ok := strings.Cut(v, "!"); ok {
		v = rest
	}
	var out []int
	for _, s := range strings.Split(v, ".") {
		end := 0
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(s[:end])
		if err != nil || end == 0 || len(out) >= 16 {
			break
		}
		out = append(out, n)
		if end < len(s) {
			break
		}
	}
	return out
}

// bumpRelease returns the version just above every version starting with
// the first k+1 release numbers of v: 1.2.3 bumped at 1 is "1.3".
func bumpRelease(v string, k int) string {
	rel := releaseOf(v)
	if k < 0 || k >= len(rel) {
		return ""
	}
	parts := make([]string, k+1)
	for i := range parts {
		parts[i] = strconv.Itoa(rel[i])
	}
	parts[k] = strconv.Itoa(rel[k] + 1)
	return strings.Join(parts, ".")
}

// between reports whether lo <= v < hi; an empty hi has no upper bound.
func between(v, lo, hi string) bool {
	if c, err := version.Compare(PyPI, v, lo); err != nil || c < 0 {
		return err != nil
	}
	if hi == "" {
		return true
	}
	c, err := version.Compare(PyPI, v, hi)
	return err != nil || c < 0
}

// uvRef is a dependency of a uv.lock package: a name, and a version (and
// source) where the lock holds several packages of that name.
type uvRef struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
}

// uvTarget returns the package a uv.lock dependency names: the only
// package of that name, or the one of the version given; -1 when it is
// not in the result or the reference is ambiguous.
func uvTarget(r uvRef, idx *pyIndex) int {
	name := normalise(PyPI, r.Name)
	if r.Version != "" {
		if i, ok := idx.byKey[name+"@"+r.Version]; ok {
			return i
		}
		return -1
	}
	if cands := idx.byName[name]; len(cands) == 1 {
		return cands[0]
	}
	return -1
}
