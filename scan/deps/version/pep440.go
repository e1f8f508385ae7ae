package version

import (
	"fmt"
	"regexp"
	"strings"
)

// PEP440 is a PyPI version parsed per PEP 440 (the "Version specifiers"
// specification of the Python Packaging Authority).
type PEP440 struct {
	raw     string
	epoch   string   // digits; "" means 0
	release []string // digits, trailing zeros removed (for ordering)
	written []string // digits as written (for the normal form)
	// pre: phase is 0 for none, 1 "a", 2 "b", 3 "rc".
	prePhase int
	preNum   string
	hasPost  bool
	postNum  string
	hasDev   bool
	devNum   string
	local    []string // lower-case segments
}

// pep440RE accepts the permissive spellings PEP 440 normalises: any case,
// an optional leading "v", optional separators, alpha/beta/c/pre/preview,
// implicit post releases ("1.0-1") and r/rev, and omitted numbers.
var pep440RE = regexp.MustCompile(`^v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)` +
	`(?:[-_.]?(alpha|beta|preview|pre|rc|a|b|c)[-_.]?([0-9]+)?)?` +
	`(?:-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?)?` +
	`(?:[-_.]?(dev)[-_.]?([0-9]+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)

// ParsePEP440 parses a version per PEP 440, normalising the alternative
// spellings the specification allows ("1.0RC1", "1.0-post1", "v1.0").
func ParsePEP440(s string) (PEP440, error) {
	if len(s) > MaxLen {
		return PEP440{}, fmt.Errorf("%w: PEP 440 version longer than %d bytes", ErrInvalid, MaxLen)
	}
	m := pep440RE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return PEP440{}, fmt.Errorf("%w: %q is not a PEP 440 version", ErrInvalid, s)
	}
	v := PEP440{raw: s, epoch: strings.TrimLeft(m[1], "0")}
	rel := strings.Split(m[2], ".")
	v.written = rel
	for len(rel) > 1 && strings.TrimLeft(rel[len(rel)-1], "0") == "" {
		rel = rel[:len(rel)-1]
	}
	if len(rel) == 1 && strings.TrimLeft(rel[0], "0") == "" {
		rel = nil
	}
	v.release = rel
	switch m[3] {
	case "":
	case "a", "alpha":
		v.prePhase = 1
	case "b", "beta":
		v.prePhase = 2
	default: // rc, c, pre, preview
		v.prePhase = 3
	}
	v.preNum = m[4]
	switch {
	case m[5] != "":
		v.hasPost, v.postNum = true, m[5]
	case m[6] != "":
		v.hasPost, v.postNum = true, m[7]
	}
	if m[8] != "" {
		v.hasDev, v.devNum = true, m[9]
	}
	if m[10] != "" {
		v.local = strings.FieldsFunc(m[10], func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	}
	return v, nil
}

// String returns the version as given.
func (v PEP440) String() string { return v.raw }

// Normalized returns the canonical PEP 440 spelling of v, e.g. "1!2.0rc1.post3.dev4+ubuntu.1".
func (v PEP440) Normalized() string {
	var b strings.Builder
	if v.epoch != "" {
		b.WriteString(v.epoch)
		b.WriteByte('!')
	}
	for i, r := range v.written {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(trimNum(r))
	}
	if v.prePhase > 0 {
		b.WriteString([]string{"", "a", "b", "rc"}[v.prePhase])
		b.WriteString(trimNum(v.preNum))
	}
	if v.hasPost {
		b.WriteString(".post")
		b.WriteString(trimNum(v.postNum))
	}
	if v.hasDev {
		b.WriteString(".dev")
		b.WriteString(trimNum(v.devNum))
	}
	if len(v.local) > 0 {
		b.WriteByte('+')
		for i, l := range v.local {
			if i > 0 {
				b.WriteByte('.')
			}
			if isDigits(l) {
				l = trimNum(l)
			}
			b.WriteString(l)
		}
	}
	return b.String()
}

func trimNum(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

// IsPrerelease reports whether v is a pre-release or a development release.
func (v PEP440) IsPrerelease() bool { return v.prePhase > 0 || v.hasDev }

// Compare orders v and other per PEP 440: epoch, release (numerically,
// trailing zeros ignored), then .devN < aN < bN < rcN < final < .postN,
// and a local version sorts after the same public version.
func (v PEP440) Compare(other Version) int {
	o, ok := other.(PEP440)
	if !ok {
		return crossCompare(v, other)
	}
	if c := cmpNum(v.epoch, o.epoch); c != 0 {
		return c
	}
	if c := cmpRelease(v.release, o.release); c != 0 {
		return c
	}
	if c := cmpInt(v.preRank(), o.preRank()); c != 0 {
		return c
	}
	if v.prePhase > 0 {
		if c := cmpNum(v.preNum, o.preNum); c != 0 {
			return c
		}
	}
	if v.hasPost != o.hasPost {
		if v.hasPost {
			return 1
		}
		return -1
	}
	if c := cmpNum(v.postNum, o.postNum); c != 0 {
		return c
	}
	if v.hasDev != o.hasDev {
		// A development release sorts before the release it leads to.
		if v.hasDev {
			return -1
		}
		return 1
	}
	if c := cmpNum(v.devNum, o.devNum); c != 0 {
		return c
	}
	return cmpLocal(v.local, o.local)
}

// preRank orders the pre-release part: a bare development release of a
// final version (1.0.dev1) sorts before all its pre-releases, and a final
// release (or a post release) after them.
func (v PEP440) preRank() int {
	switch {
	case v.prePhase > 0:
		return v.prePhase
	case v.hasDev && !v.hasPost:
		return 0
	default:
		return 4
	}
}

func cmpRelease(a, b []string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := "0", "0"
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmpNum(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// cmpLocal orders local version labels: none < any; segment by segment,
// a numeric segment sorts after an alphanumeric one, numbers numerically,
// strings lexically; a longer label wins when one is a prefix of the other.
func cmpLocal(a, b []string) int { return cmpIdents(a, b, 1) }
