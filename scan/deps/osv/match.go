package osv

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/rampartsec/rampart/scan/deps/vcs"
	"github.com/rampartsec/rampart/scan/deps/version"
)

// canonicalEcosystems maps lower-case names to the OSV spelling, for the
// ecosystems whose names users and lockfile parsers spell loosely.
var canonicalEcosystems = map[string]string{
	"pypi":      "PyPI",
	"npm":       "npm",
	"crates.io": "crates.io",
	"go":        "Go",
	"maven":     "Maven",
	"rubygems":  "RubyGems",
	"nuget":     "NuGet",
	"packagist": "Packagist",
}

// Ecosystem returns the OSV base ecosystem of eco: the part before any ':'
// (as in "Debian:12"), spelled canonically when known.
func Ecosystem(eco string) string {
	base, _, _ := strings.Cut(strings.TrimSpace(eco), ":")
	if c, ok := canonicalEcosystems[strings.ToLower(base)]; ok {
		return c
	}
	return base
}

// NormalizeName returns the name under which ecosystem eco compares
// package names: PEP 503 for PyPI (lower case, each run of '-', '_' and
// '.' becomes one '-'), lower case for the case-insensitive NuGet and
// Packagist; npm, Go, crates.io and the rest compare names as given.
func NormalizeName(eco, name string) string {
	name = strings.TrimSpace(name)
	switch Ecosystem(eco) {
	case "PyPI":
		var b strings.Builder
		sep := false
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c == '-' || c == '_' || c == '.' {
				if !sep {
					b.WriteByte('-')
				}
				sep = true
				continue
			}
			sep = false
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
		return b.String()
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

// Match reports whether record v affects name@ver in ecosystem eco, and
// returns the fixed versions of the ranges that matched (sorted, without
// duplicates). See Affects for the rules. A version that does not parse
// under the ecosystem matches only explicit versions lists; err then
// wraps version.ErrInvalid while affected is still meaningful.
func Match(v *Vulnerability, eco, name, ver string) (affected bool, fixed []string, err error) {
	return match(v, eco, name, ver, nil)
}

// prepCache holds prepared entries of immutable records, filled lazily.
type prepCache struct{ m sync.Map }

func (c *prepCache) get(a *Affected, eco string) *prepared {
	if c == nil {
		return prepare(a, eco)
	}
	if p, ok := c.m.Load(a); ok {
		return p.(*prepared)
	}
	p, _ := c.m.LoadOrStore(a, prepare(a, eco))
	return p.(*prepared)
}

// prepared holds an affected entry's versions and range events parsed
// once, for the records of an opened database.
type prepared struct {
	versions []version.Version // nil entries did not parse
	events   [][]event         // per range; nil for GIT ranges
}

func prepare(a *Affected, eco string) *prepared {
	p := &prepared{versions: make([]version.Version, len(a.Versions)), events: make([][]event, len(a.Ranges))}
	for i, s := range a.Versions {
		if q, err := version.Parse(eco, s); err == nil {
			p.versions[i] = q
		}
	}
	for i, r := range a.Ranges {
		if r.Type == RangeEcosystem || r.Type == RangeSemver {
			p.events[i] = sortedEvents(r, eco)
		}
	}
	return p
}

// match is Match with an optional cache of prepared entries.
func match(v *Vulnerability, eco, name, ver string, cache *prepCache) (affected bool, fixed []string, err error) {
	eco = Ecosystem(eco)
	want := NormalizeName(eco, name)
	pv, perr := version.Parse(eco, ver)
	for i := range v.Affected {
		a := &v.Affected[i]
		if Ecosystem(a.Package.Ecosystem) != eco || NormalizeName(eco, a.Package.Name) != want {
			continue
		}
		p := cache.get(a, eco)
		hit, fx := affects(a, p, ver, pv)
		if hit {
			affected = true
			fixed = append(fixed, fx...)
		}
	}
	slices.SortFunc(fixed, func(x, y string) int {
		c, err := version.Compare(eco, x, y)
		if err != nil {
			return strings.Compare(x, y)
		}
		return c
	})
	fixed = slices.Compact(fixed)
	if perr != nil {
		return affected, fixed, fmt.Errorf("%s %s@%s: %w", eco, name, ver, perr)
	}
	return affected, fixed, nil
}

// affects applies one affected entry to a version:
//
//   - the version is affected if it is listed in versions (by string, or
//     by equality under the ecosystem's ordering: PyPI "1.0" equals "1.0.0");
//   - or if any ECOSYSTEM or SEMVER range contains it (see inRange);
//   - GIT ranges are not evaluated: they order commits, which a package
//     version does not name. osv.dev enumerates the tags a GIT range
//     covers into versions, which is how such records still match.
//
// pv is nil when ver does not parse; then only versions can match.
func affects(a *Affected, p *prepared, ver string, pv version.Version) (bool, []string) {
	for i, s := range a.Versions {
		if s == ver || pv != nil && p.versions[i] != nil && pv.Compare(p.versions[i]) == 0 {
			return true, fixedOf(a, p, pv)
		}
	}
	if pv == nil {
		return false, nil
	}
	var hit bool
	var fixed []string
	for i, r := range a.Ranges {
		if p.events[i] == nil {
			continue
		}
		if in, fx := inRange(r, p.events[i], pv); in {
			hit = true
			if fx != "" {
				fixed = append(fixed, fx)
			}
		}
	}
	return hit, fixed
}

// fixedOf returns the first fixed version above pv in any range of a, for
// a version matched by the versions list.
func fixedOf(a *Affected, p *prepared, pv version.Version) []string {
	if pv == nil {
		return nil
	}
	var out []string
	for i, r := range a.Ranges {
		if p.events[i] == nil {
			continue
		}
		pv := rangeVersion(r, pv)
		if pv == nil {
			continue
		}
		for _, e := range p.events[i] {
			if e.kind == "fixed" && pv.Compare(e.v) < 0 {
				out = append(out, e.raw)
				break
			}
		}
	}
	return out
}

type event struct {
	kind string
	raw  string
	zero bool // introduced "0": below every version
	v    version.Version
}

// rank orders events at the same version: introduced first, so that an
// introduced and a fixed at one version leave it unaffected.
func (e event) rank() int {
	switch e.kind {
	case "introduced":
		return 0
	case "last_affected":
		return 1
	case "fixed":
		return 2
	}
	return 3
}

// sortedEvents parses and sorts the events of r. Events whose version
// does not parse under the ecosystem are dropped; for a SEMVER range the
// semver ordering is used whatever the ecosystem.
func sortedEvents(r Range, eco string) []event {
	if r.Type == RangeSemver {
		eco = version.NPM
	}
	evs := make([]event, 0, len(r.Events))
	for _, e := range r.Events {
		k, s := e.kind()
		if k == "" {
			continue
		}
		ev := event{kind: k, raw: s}
		if k == "introduced" && s == "0" {
			ev.zero = true
		} else {
			pv, err := version.Parse(eco, s)
			if err != nil {
				continue
			}
			ev.v = pv
		}
		evs = append(evs, ev)
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		if c := a.v.Compare(b.v); c != 0 {
			return c
		}
		return a.rank() - b.rank()
	})
	return evs
}

// inRange evaluates one ECOSYSTEM or SEMVER range per the OSV schema:
// events sorted by version (introduced "0" first); walking them in order,
// an introduced at or below the version makes it affected, a fixed at or
// below it makes it unaffected, a last_affected strictly below it makes it
// unaffected. limit events cap the range: if any are present the version
// must be below at least one of them. It also returns the fixed version
// that ends the interval containing the version, if any.
func inRange(r Range, evs []event, pv version.Version) (bool, string) {
	if pv = rangeVersion(r, pv); pv == nil {
		return false, ""
	}
	affected := false
	var limits []event
	for _, e := range evs {
		switch e.kind {
		case "introduced":
			if e.zero || pv.Compare(e.v) >= 0 {
				affected = true
			}
		case "fixed":
			if pv.Compare(e.v) >= 0 {
				affected = false
			}
		case "last_affected":
			if pv.Compare(e.v) > 0 {
				affected = false
			}
		case "limit":
			limits = append(limits, e)
		}
	}
	if affected && len(limits) > 0 {
		below := false
		for _, l := range limits {
			if pv.Compare(l.v) < 0 {
				below = true
			}
		}
		affected = below
	}
	if !affected {
		return false, ""
	}
	for _, e := range evs {
		if e.kind == "fixed" && pv.Compare(e.v) < 0 {
			return true, e.raw
		}
	}
	return true, ""
}

// rangeVersion returns pv as the range orders it: re-parsed as a semantic
// version for a SEMVER range (nil if it is not one), as is otherwise.
func rangeVersion(r Range, pv version.Version) version.Version {
	if r.Type != RangeSemver {
		return pv
	}
	switch v := pv.(type) {
	case version.Semver:
		return v
	case version.GoVersion:
		return v.Semver
	}
	sv, err := version.Parse(version.NPM, pv.String())
	if err != nil {
		return nil
	}
	return sv
}

// errInvalidVersion is version.ErrInvalid, named here for errors.Is.
var errInvalidVersion = version.ErrInvalid

// MatchCommit reports whether record v affects package name of ecosystem
// eco pinned to commit of repository repo through a GIT range, and returns
// the fixing commits of the ranges that matched. GIT ranges order commits
// by the repository's history, which a lockfile does not carry: offline,
// a commit is known to be affected only when it is itself an "introduced"
// or "last_affected" event of a range on the same repository, and known
// not to be when it is a "fixed" or "limit" event. Commits between the
// events are decided by the OSV API (Client), which holds the history.
// Repositories compare as vcs.NormalizeRepo writes them; an empty repo matches
// the ranges of any repository.
func MatchCommit(v *Vulnerability, eco, name, repo, commit string) (affected bool, fixed []string) {
	eco = Ecosystem(eco)
	want := NormalizeName(eco, name)
	commit = strings.ToLower(commit)
	for i := range v.Affected {
		a := &v.Affected[i]
		if Ecosystem(a.Package.Ecosystem) != eco || NormalizeName(eco, a.Package.Name) != want {
			continue
		}
		for _, r := range a.Ranges {
			if r.Type != RangeGit || repo != "" && vcs.NormalizeRepo(r.Repo) != vcs.NormalizeRepo(repo) {
				continue
			}
			hit, ended := false, false
			var fx []string
			for _, e := range r.Events {
				k, ev := e.kind()
				ev = strings.ToLower(ev)
				switch {
				case (k == "introduced" || k == "last_affected") && ev == commit:
					hit = true
				case (k == "fixed" || k == "limit") && ev == commit:
					ended = true
				case k == "fixed":
					fx = append(fx, ev)
				}
			}
			if hit && !ended {
				affected = true
				fixed = append(fixed, fx...)
			}
		}
	}
	slices.Sort(fixed)
	return affected, slices.Compact(fixed)
}
