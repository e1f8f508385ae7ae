package osv

import (
	"slices"
	"strings"
	"testing"
)

func rangeRec(eco, typ string, events ...Event) *Vulnerability {
	return &Vulnerability{ID: "R-1", Affected: []Affected{{
		Package: Package{Ecosystem: eco, Name: "p"},
		Ranges:  []Range{{Type: typ, Events: events}},
	}}}
}

func intro(v string) Event { return Event{Introduced: v} }
func fix(v string) Event   { return Event{Fixed: v} }
func last(v string) Event  { return Event{LastAffected: v} }
func limit(v string) Event { return Event{Limit: v} }

func TestMatchEvents(t *testing.T) {
	for _, c := range []struct {
		name   string
		eco    string
		typ    string
		events []Event
		ver    string
		want   bool
		fixed  []string
	}{
		{"unsorted events", "PyPI", RangeEcosystem, []Event{fix("2.0"), intro("1.0")}, "1.5", true, []string{"2.0"}},
		{"unsorted, below", "PyPI", RangeEcosystem, []Event{fix("2.0"), intro("1.0")}, "0.9", false, nil},
		{"introduced is inclusive", "PyPI", RangeEcosystem, []Event{intro("1.0"), fix("2.0")}, "1.0", true, []string{"2.0"}},
		{"fixed is exclusive", "PyPI", RangeEcosystem, []Event{intro("1.0"), fix("2.0")}, "2.0", false, nil},
		{"last_affected is inclusive", "PyPI", RangeEcosystem, []Event{intro("0"), last("2.0")}, "2.0", true, nil},
		{"after last_affected", "PyPI", RangeEcosystem, []Event{intro("0"), last("2.0")}, "2.0.post1", false, nil},
		{"open range", "PyPI", RangeEcosystem, []Event{intro("3.0")}, "99", true, nil},
		{"two intervals, gap", "PyPI", RangeEcosystem, []Event{intro("0"), fix("1.0"), intro("2.0"), fix("2.1")}, "1.5", false, nil},
		{"two intervals, second", "PyPI", RangeEcosystem, []Event{intro("0"), fix("1.0"), intro("2.0"), fix("2.1")}, "2.0.5", true, []string{"2.1"}},
		{"introduced and fixed at one version", "PyPI", RangeEcosystem, []Event{fix("1.0"), intro("1.0")}, "1.0", false, nil},
		{"limit caps the range", "npm", RangeSemver, []Event{intro("1.0.0"), limit("1.5.0")}, "1.5.0", false, nil},
		{"below limit", "npm", RangeSemver, []Event{intro("1.0.0"), limit("1.5.0")}, "1.4.9", true, nil},
		{"unparsable event dropped", "PyPI", RangeEcosystem, []Event{intro("0"), fix("not a version")}, "5.0", true, nil},
		{"SEMVER range in PyPI record", "PyPI", RangeSemver, []Event{intro("1.0.0"), fix("1.2.0")}, "1.1.0", true, []string{"1.2.0"}},
		{"SEMVER range, non-semver query", "PyPI", RangeSemver, []Event{intro("0")}, "1.0.post1", false, nil},
		{"GIT range ignored", "PyPI", RangeGit, []Event{intro("0")}, "1.0", false, nil},
		{"generic ecosystem", "Debian:12", RangeEcosystem, []Event{intro("0"), fix("2.36-9+deb12u4")}, "2.36-9+deb12u3", true, []string{"2.36-9+deb12u4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, fixed, _ := Match(rangeRec(c.eco, c.typ, c.events...), c.eco, "p", c.ver)
			if got != c.want || !slices.Equal(fixed, c.fixed) {
				t.Errorf("Match(%s) = %v %v, want %v %v", c.ver, got, fixed, c.want, c.fixed)
			}
		})
	}
}

func TestMatchVersionsList(t *testing.T) {
	v := &Vulnerability{ID: "V-1", Affected: []Affected{{
		Package:  Package{Ecosystem: "PyPI", Name: "p"},
		Versions: []string{"1.0", "weird-tag"},
		Ranges:   []Range{{Type: RangeGit, Repo: "https://example.invalid/p", Events: []Event{intro("0"), fix("abc123")}}},
	}}}
	for ver, want := range map[string]bool{"1.0": true, "1.0.0": true, "1.0.1": false, "weird-tag": true, "other": false} {
		if got, _, _ := Match(v, "PyPI", "p", ver); got != want {
			t.Errorf("Match(%q) = %v, want %v", ver, got, want)
		}
	}
	if got, _, _ := Match(v, "npm", "p", "1.0"); got {
		t.Error("matched another ecosystem")
	}
}

func TestNormalizeName(t *testing.T) {
	for _, c := range [][3]string{
		{"PyPI", "Friendly-Bard", "friendly-bard"},
		{"PyPI", "FRIENDLY__bard", "friendly-bard"},
		{"PyPI", "friendly.-_bard", "friendly-bard"},
		{"PyPI", "_private", "-private"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"npm", "@Scope/Pkg", "@Scope/Pkg"},
		{"Go", "github.com/Foo/Bar", "github.com/Foo/Bar"},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
	} {
		if got := NormalizeName(c[0], c[1]); got != c[2] {
			t.Errorf("NormalizeName(%s, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	for in, want := range map[string]string{"pypi": "PyPI", "Go": "Go", "Debian:12": "Debian", "CRATES.IO": "crates.io"} {
		if got := Ecosystem(in); got != want {
			t.Errorf("Ecosystem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchCommit(t *testing.T) {
	const (
		a = "1111111111111111111111111111111111111111"
		b = "2222222222222222222222222222222222222222"
		c = "3333333333333333333333333333333333333333"
	)
	v := &Vulnerability{ID: "T", Affected: []Affected{{
		Package: Package{Ecosystem: "PyPI", Name: "Deep_Speed"},
		Ranges: []Range{
			{Type: RangeGit, Repo: "https://github.com/microsoft/DeepSpeed.git", Events: []Event{{Introduced: a}, {Fixed: b}}},
			{Type: RangeGit, Repo: "https://github.com/microsoft/DeepSpeed", Events: []Event{{Introduced: "0"}, {LastAffected: c}}},
			{Type: RangeEcosystem, Events: []Event{{Introduced: "0"}, {Fixed: "0.14.0"}}},
		},
	}}}
	cases := []struct {
		name, pkg, repo, commit string
		want                    bool
		fixed                   []string
	}{
		{"introducing commit", "deep-speed", "github.com/microsoft/DeepSpeed", a, true, []string{b}},
		{"last affected commit", "deep-speed", "git@github.com:microsoft/DeepSpeed.git", strings.ToUpper(c), true, nil},
		{"fixing commit", "deep-speed", "github.com/microsoft/DeepSpeed", b, false, nil},
		{"commit between events: undecidable offline", "deep-speed", "github.com/microsoft/DeepSpeed", "4444444444444444444444444444444444444444", false, nil},
		{"another repository (a fork)", "deep-speed", "github.com/someone/DeepSpeed", a, false, nil},
		{"any repository", "deep-speed", "", a, true, []string{b}},
		{"another package", "torch", "github.com/microsoft/DeepSpeed", a, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, fixed := MatchCommit(v, "PyPI", tc.pkg, tc.repo, tc.commit)
			if got != tc.want || !slices.Equal(fixed, tc.fixed) {
				t.Errorf("MatchCommit = %v, %v; want %v, %v", got, fixed, tc.want, tc.fixed)
			}
		})
	}
}
