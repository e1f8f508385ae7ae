package version

import (
	"fmt"
	"strings"
)

// Semver is a Semantic Versioning 2.0.0 version, as npm and crates.io use.
type Semver struct {
	raw                 string
	major, minor, patch string // digits
	pre                 []string
}

// ParseSemver parses a SemVer 2.0.0 version. It accepts a leading "v" or
// "=" and surrounding spaces (as npm does), and a version with the minor
// or patch number missing ("1", "1.2", which OSV data occasionally holds),
// taken as zero. Build metadata after '+' is parsed and ignored.
func ParseSemver(s string) (Semver, error) {
	if len(s) > MaxLen {
		return Semver{}, fmt.Errorf("%w: semver longer than %d bytes", ErrInvalid, MaxLen)
	}
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "=")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "v"), "V")
	v := Semver{raw: s}
	core, build, hasBuild := strings.Cut(t, "+")
	if hasBuild && !validIdents(build) {
		return Semver{}, fmt.Errorf("%w: %q has bad build metadata", ErrInvalid, s)
	}
	core, pre, hasPre := strings.Cut(core, "-")
	if hasPre {
		if !validIdents(pre) {
			return Semver{}, fmt.Errorf("%w: %q has a bad pre-release", ErrInvalid, s)
		}
		v.pre = strings.Split(pre, ".")
	}
	nums := strings.Split(core, ".")
	if len(nums) > 3 {
		return Semver{}, fmt.Errorf("%w: %q has more than three numbers", ErrInvalid, s)
	}
	for _, n := range nums {
		if !isDigits(n) {
			return Semver{}, fmt.Errorf("%w: %q is not a semantic version", ErrInvalid, s)
		}
	}
	nums = append(nums, "0", "0")
	v.major, v.minor, v.patch = nums[0], nums[1], nums[2]
	return v, nil
}

// validIdents checks dot-separated identifiers of [0-9A-Za-z-]; numeric
// pre-release identifiers with leading zeros are tolerated (and compared
// numerically) because real registries hold a few.
func validIdents(s string) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

// String returns the version as given.
func (v Semver) String() string { return v.raw }

// IsPrerelease reports whether v carries a pre-release part.
func (v Semver) IsPrerelease() bool { return len(v.pre) > 0 }

// Compare orders v and other per SemVer 2.0.0 section 11: major, minor and
// patch numerically; a pre-release sorts before its release; pre-release
// identifiers compare numerically when numeric, in ASCII order otherwise,
// numeric before alphanumeric, a longer list after its prefix. Build
// metadata does not count.
func (v Semver) Compare(other Version) int {
	o, ok := other.(Semver)
	if !ok {
		return crossCompare(v, other)
	}
	return cmpSemver(v, o)
}

func cmpSemver(v, o Semver) int {
	if c := cmpNum(v.major, o.major); c != 0 {
		return c
	}
	if c := cmpNum(v.minor, o.minor); c != 0 {
		return c
	}
	if c := cmpNum(v.patch, o.patch); c != 0 {
		return c
	}
	switch {
	case len(v.pre) == 0 && len(o.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1
	case len(o.pre) == 0:
		return -1
	}
	// SemVer 2.0 §11: numeric identifiers sort before alphanumeric ones.
	return cmpIdents(v.pre, o.pre, -1)
}

// GoVersion is a Go module version: "v" followed by a semantic version,
// including pseudo-versions (v0.0.0-20191109021931-daa7c04131f5, which
// order by their timestamp as semver pre-releases) and the +incompatible
// suffix (build metadata, ignored in ordering).
type GoVersion struct {
	Semver
}

// ParseGo parses a Go module version. The leading "v" is optional because
// OSV data for Go omits it; the standard library's "go1.21.3" spelling is
// accepted too.
func ParseGo(s string) (GoVersion, error) {
	t := strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(t, "go"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		t = goToolchain(rest)
	}
	sv, err := ParseSemver(t)
	if err != nil {
		return GoVersion{}, fmt.Errorf("go module version: %w", err)
	}
	sv.raw = s
	return GoVersion{sv}, nil
}

// goToolchain turns a toolchain version ("1.21rc2", "1.21.3") into semver.
func goToolchain(s string) string {
	for _, p := range []string{"rc", "beta"} {
		if i := strings.Index(s, p); i > 0 {
			return s[:i] + "-" + p + "." + s[i+len(p):]
		}
	}
	return s
}

// Compare orders Go module versions as semantic versions.
func (v GoVersion) Compare(other Version) int {
	o, ok := other.(GoVersion)
	if !ok {
		return crossCompare(v, other)
	}
	return cmpSemver(v.Semver, o.Semver)
}
