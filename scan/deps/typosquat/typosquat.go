// Package typosquat tells package names that imitate popular ML and LLM
// packages: one edit away (insertion, deletion, substitution or swap of
// neighbours), the same name with other separators, look-alike characters
// (0 for o, 1 for l, rn for m) or a decorating prefix or suffix
// ("python-", "-py", "2"). It also reports configured private names that
// a dependency file resolves from a public registry (dependency
// confusion).
//
// The curated list (popular.go) holds widely used packages of the field;
// a name on the list is never a typosquat of another name on it.
package typosquat

import (
	"path"
	"strings"
)

// Match is a name that imitates a popular package.
type Match struct {
	// Popular is the package imitated.
	Popular string
	// Kind says how: "edit", "separator", "homoglyph" or "affix".
	Kind string
}

// normalise lowers a name and, for PyPI, folds runs of -, _ and . to one
// '-' (PEP 503); npm names keep their scope.
func normalise(ecosystem, name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if ecosystem != "PyPI" {
		return n
	}
	var b strings.Builder
	sep := false
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

// stripSeparators drops every separator.
func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// homoglyphs folds characters that look alike in package names.
var homoglyphs = strings.NewReplacer("rn", "m", "vv", "w", "0", "o", "1", "l", "|", "l", "5", "s", "3", "e", "4", "a", "7", "t", "$", "s")

// affixes are decorations squatters add to a popular name.
var affixes = []string{"python-", "py-", "py", "-python", "-py", "python", "2", "3", "-dev", "-lib", "lib", "-sdk", "sdk", "-api", "-client", "-official", "official-", "-core", "-tools", "-utils", "node-", "-js", "js"}

// Check reports whether name (of ecosystem "PyPI" or "npm") imitates a
// popular package. A popular name itself is never a match.
func Check(ecosystem, name string) (Match, bool) {
	list := popular[ecosystem]
	if list == nil {
		return Match{}, false
	}
	n := normalise(ecosystem, name)
	if _, ok := list[n]; ok {
		return Match{}, false
	}
	ns := stripSeparators(n)
	nh := homoglyphs.Replace(ns)
	for p := range list {
		if ps := stripSeparators(p); ps == ns {
			return Match{Popular: p, Kind: "separator"}, true
		}
	}
	for p := range list {
		if ps := homoglyphs.Replace(stripSeparators(p)); ps == nh && nh != ns {
			return Match{Popular: p, Kind: "homoglyph"}, true
		}
	}
	for p := range list {
		for _, a := range affixes {
			if n == p+a || n == a+p {
				return Match{Popular: p, Kind: "affix"}, true
			}
		}
	}
	best, found := "", false
	for p := range list {
		// Short names are one edit from many real packages: judge only
		// names of five bytes or more, and only against popular names of
		// similar length.
		if len(p) < 5 || abs(len(p)-len(n)) > 1 {
			continue
		}
		if oneEdit(n, p) && (!found || p < best) {
			best, found = p, true
		}
	}
	if found {
		return Match{Popular: best, Kind: "edit"}, true
	}
	return Match{}, false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// oneEdit reports whether a and b differ by exactly one insertion,
// deletion, substitution or swap of neighbouring bytes.
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	if len(a) == len(b) {
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] // swap
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a) != len(b)+1 {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	return a[i+1:] == b[i:]
}

// Private reports whether name matches one of the configured private
// package patterns (path.Match syntax, e.g. "acme-*", "@acme/*").
func Private(ecosystem, name string, patterns []string) bool {
	n := normalise(ecosystem, name)
	for _, p := range patterns {
		if ok, _ := path.Match(normalise(ecosystem, p), n); ok {
			return true
		}
	}
	return false
}

// PublicRegistry reports whether a resolved download URL (a lockfile's
// resolved/url field, or a requirements file's index) is a public registry
// where anyone can publish a private package's name.
func PublicRegistry(url string) bool {
	u := strings.ToLower(url)
	for _, host := range []string{"://pypi.org/", "://files.pythonhosted.org/", "://registry.npmjs.org/", "://registry.yarnpkg.com/", "://crates.io/", "://static.crates.io/", "://proxy.golang.org/"} {
		if strings.Contains(u, host) {
			return true
		}
	}
	return false
}
