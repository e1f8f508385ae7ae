package deps

import (
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/scan/deps/lockfile"
)

func TestPathFinder(t *testing.T) {
	// yarn.lock marks nothing direct: chains start at what nothing
	// requires. c and d require each other (a cycle); e is reached from
	// nowhere else but the cycle.
	pkg := func(name string, requires ...string) lockfile.Package {
		return lockfile.Package{Ecosystem: lockfile.NPM, Name: name, Version: "1.0.0", File: "ui/yarn.lock", Requires: requires}
	}
	pkgs := []lockfile.Package{
		pkg("a", "b@1.0.0"),
		pkg("b", "c@1.0.0"),
		pkg("c", "d@1.0.0"),
		pkg("d", "c@1.0.0", "e@1.0.0"),
		pkg("e"),
		pkg("x", "e@1.0.0"),
		{Ecosystem: lockfile.PyPI, Name: "requests", Version: "2.0", File: "requirements.txt"},
	}
	pf := newPathFinder(pkgs)
	for _, tc := range []struct {
		p    lockfile.Package
		want []string
	}{
		{pkgs[2], []string{"a@1.0.0", "b@1.0.0", "c@1.0.0"}},
		{pkgs[4], []string{"x@1.0.0", "e@1.0.0"}}, // the shortest chain
		{pkgs[0], nil}, // a start
		{pkgs[6], nil}, // no graph
	} {
		if got := pf.path(tc.p); !slices.Equal(got, tc.want) {
			t.Errorf("path(%s) = %v, want %v", tc.p.Name, got, tc.want)
		}
	}

	long := make([]string, 20)
	for i := range long {
		long[i] = string(rune('a' + i))
	}
	if got := describePath(long); got != "a → b → c → d → … → q → r → s → t" {
		t.Errorf("describePath = %q", got)
	}
	if got := describePath(long[:3]); got != strings.Join(long[:3], " → ") {
		t.Errorf("describePath = %q", got)
	}
}
