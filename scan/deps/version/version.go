// Package version orders package versions the way each package ecosystem
// does: PEP 440 for PyPI, Semantic Versioning 2.0.0 for npm and crates.io,
// Go module versions for Go, and a generic digit-aware ordering for every
// other ecosystem.
//
// Compare is a total preorder for every ecosystem: two different spellings
// of the same version (PEP 440 "1.0" and "1.0.0", or semver build metadata)
// compare equal, and for all parsable a, b, c the results are antisymmetric
// and transitive.
package version

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen bounds the length of a version string; longer input is rejected.
const MaxLen = 256

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid version")

// The ecosystem names Compare knows by their own ordering rules, spelled as
// in the OSV schema.
const (
	PyPI     = "PyPI"
	NPM      = "npm"
	CratesIO = "crates.io"
	Go       = "Go"
)

// Compare orders a and b under the rules of ecosystem (an OSV ecosystem
// name, compared case-insensitively; a suffix after ':' such as
// "Debian:12" is ignored). It returns -1, 0 or +1, or an error naming the
// version that does not parse.
func Compare(ecosystem, a, b string) (int, error) {
	k, err := Parse(ecosystem, a)
	if err != nil {
		return 0, err
	}
	l, err := Parse(ecosystem, b)
	if err != nil {
		return 0, err
	}
	return k.Compare(l), nil
}

// Version is a parsed version of one ecosystem.
type Version interface {
	// Compare returns -1, 0 or +1. Comparing versions parsed for
	// different ecosystems falls back to comparing their strings.
	Compare(other Version) int
	// String returns the version as given.
	String() string
}

// Parse parses v under the rules of ecosystem.
func Parse(ecosystem, v string) (Version, error) {
	if len(v) > MaxLen {
		return nil, fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalid, len(v), MaxLen)
	}
	base, _, _ := strings.Cut(ecosystem, ":")
	switch {
	case strings.EqualFold(base, PyPI):
		p, err := ParsePEP440(v)
		if err != nil {
			return nil, err
		}
		return p, nil
	case strings.EqualFold(base, NPM), strings.EqualFold(base, CratesIO):
		s, err := ParseSemver(v)
		if err != nil {
			return nil, err
		}
		return s, nil
	case strings.EqualFold(base, Go):
		g, err := ParseGo(v)
		if err != nil {
			return nil, err
		}
		return g, nil
	default:
		return ParseGeneric(v)
	}
}

// cmpNum compares two strings of ASCII digits numerically, without
// converting them, so that arbitrarily long numbers order correctly.
func cmpNum(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// crossCompare orders versions of different kinds deterministically.
func crossCompare(a, b Version) int {
	return strings.Compare(fmt.Sprintf("%T", a)+a.String(), fmt.Sprintf("%T", b)+b.String())
}

// cmpIdents orders two lists of dot-separated identifiers (SemVer
// pre-releases, PEP 440 local labels, generic versions) identifier by
// identifier: two numeric ones numerically, two others lexically, and a
// numeric one against another with the sign numeric (+1: numeric sorts
// after, -1: before); when one list is a prefix of the other, the longer
// sorts after.
func cmpIdents(a, b []string, numeric int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		an, bn := isDigits(a[i]), isDigits(b[i])
		switch {
		case an && bn:
			if c := cmpNum(a[i], b[i]); c != 0 {
				return c
			}
		case an:
			return numeric
		case bn:
			return -numeric
		default:
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a), len(b))
}
