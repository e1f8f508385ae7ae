package version

import (
	"errors"
	"testing"
)

// checkOrdered asserts that vs is strictly increasing under eco, pair by pair.
func checkOrdered(t *testing.T, eco string, vs []string) {
	t.Helper()
	for i := range vs {
		for j := range vs {
			c, err := Compare(eco, vs[i], vs[j])
			if err != nil {
				t.Fatalf("Compare(%q, %q, %q): %v", eco, vs[i], vs[j], err)
			}
			want := cmpInt(i, j)
			if c != want {
				t.Errorf("Compare(%q, %q, %q) = %d, want %d", eco, vs[i], vs[j], c, want)
			}
		}
	}
}

func TestPEP440Order(t *testing.T) {
	// The ordering of PEP 440's "Summary of permitted suffixes and relative
	// ordering" example, extended with epochs, locals and long numbers.
	checkOrdered(t, PyPI, []string{
		"0.9",
		"1.0.dev456",
		"1.0a1",
		"1.0a2.dev456",
		"1.0a12.dev456",
		"1.0a12",
		"1.0b1.dev456",
		"1.0b2",
		"1.0b2.post345.dev456",
		"1.0b2.post345",
		"1.0rc1.dev456",
		"1.0rc1",
		"1.0",
		"1.0+abc.5",
		"1.0+abc.7",
		"1.0+5",
		"1.0.post456.dev34",
		"1.0.post456",
		"1.0.15",
		"1.1.dev1",
		"1.9",
		"1.10",
		"2.0",
		"18446744073709551616.0",
		"18446744073709551617.0",
		"1!0.1",
		"1!2.0",
		"2!0.0.dev1",
	})
}

func TestPEP440Local(t *testing.T) {
	checkOrdered(t, PyPI, []string{
		"2.1.0",
		"2.1.0+cpu",
		"2.1.0+cu118",
		"2.1.0+cu121",
		"2.1.0+cu121.post",
		"2.1.0+1",
		"2.1.0+1.a",
		"2.1.0+2",
		"2.1.0.post1",
	})
}

func TestPEP440Equal(t *testing.T) {
	// Pairs that PEP 440 normalisation makes the same version.
	for _, p := range [][2]string{
		{"1.0", "1.0.0"},
		{"1.0", "1"},
		{"1.0", "v1.0"},
		{"1.0", " 1.0\n"},
		{"1.0rc1", "1.0-RC1"},
		{"1.0rc1", "1.0c1"},
		{"1.0rc1", "1.0.pre1"},
		{"1.0rc1", "1.0preview1"},
		{"1.0a1", "1.0.alpha.1"},
		{"1.0a1", "1.0_ALPHA_1"},
		{"1.0b0", "1.0beta"},
		{"1.0.post1", "1.0-1"},
		{"1.0.post1", "1.0post1"},
		{"1.0.post1", "1.0-r1"},
		{"1.0.post1", "1.0.rev1"},
		{"1.0.post0", "1.0.post"},
		{"1.0.dev0", "1.0-dev"},
		{"1.0.dev1", "1.0dev1"},
		{"0!1.0", "1.0"},
		{"1.01", "1.1"},
		{"1.0+ubuntu-1", "1.0+ubuntu.1"},
		{"1.0+ubuntu_01", "1.0+UBUNTU.1"},
	} {
		c, err := Compare(PyPI, p[0], p[1])
		if err != nil || c != 0 {
			t.Errorf("Compare(PyPI, %q, %q) = %d, %v; want 0", p[0], p[1], c, err)
		}
	}
}

func TestPEP440Normalized(t *testing.T) {
	for in, want := range map[string]string{
		"1.0RC1":             "1.0rc1",
		"v1.0-post1":         "1.0.post1",
		"1!2.0":              "1!2.0",
		"1.0+LOCAL.01":       "1.0+local.1",
		"1.0-1":              "1.0.post1",
		"1.0.alpha-2.dev":    "1.0a2.dev0",
		"01.02.00":           "1.2.0",
		"0":                  "0",
		"2.0.0b1.post2.dev3": "2.0.0b1.post2.dev3",
	} {
		v, err := ParsePEP440(in)
		if err != nil {
			t.Fatalf("ParsePEP440(%q): %v", in, err)
		}
		if got := v.Normalized(); got != want {
			t.Errorf("ParsePEP440(%q).Normalized() = %q, want %q", in, got, want)
		}
	}
}

func TestPEP440Invalid(t *testing.T) {
	for _, s := range []string{"", "abc", "1.0.", ".1", "1..0", "1.0+", "1.0+a..b", "1.0-", "1.0a1a2", "1!", "1.0 beta 2", "1.0+é", "1.0.post1.post2", "1.0.dev1.a1"} {
		if _, err := Compare(PyPI, s, "1.0"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Compare(PyPI, %q) err = %v, want ErrInvalid", s, err)
		}
	}
}

func TestSemverOrder(t *testing.T) {
	// semver.org section 11's examples plus numeric edge cases.
	checkOrdered(t, NPM, []string{
		"0.0.0",
		"0.9.9",
		"1.0.0-0",
		"1.0.0-0.3.7",
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-alpha.beta",
		"1.0.0-beta",
		"1.0.0-beta.2",
		"1.0.0-beta.11",
		"1.0.0-rc.1",
		"1.0.0-x-y-z.--",
		"1.0.0",
		"1.0.1",
		"1.1.0",
		"1.2.0",
		"1.10.0",
		"2.0.0",
		"2.1.0",
		"2.1.1",
		"99999999999999999999.0.0",
	})
}

func TestSemverEqual(t *testing.T) {
	for _, p := range [][2]string{
		{"1.0.0", "1.0.0+build.5"},
		{"1.0.0-rc.1+a", "1.0.0-rc.1+b"},
		{"1.0.0", "v1.0.0"},
		{"1.0.0", "=1.0.0"},
		{"1.0.0", "1"},
		{"1.2.0", "1.2"},
		{"1.0.0-alpha.01", "1.0.0-alpha.1"},
	} {
		for _, eco := range []string{NPM, CratesIO} {
			c, err := Compare(eco, p[0], p[1])
			if err != nil || c != 0 {
				t.Errorf("Compare(%s, %q, %q) = %d, %v; want 0", eco, p[0], p[1], c, err)
			}
		}
	}
}

func TestSemverInvalid(t *testing.T) {
	for _, s := range []string{"", "1.0.0.0", "a.b.c", "1.0.0-", "1.0.0+", "1.0.0-a..b", "1.0.0-é", "1.0.x", "^1.0.0", ">=1.0.0", "1.-1.0"} {
		if _, err := Compare(NPM, s, "1.0.0"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Compare(npm, %q) err = %v, want ErrInvalid", s, err)
		}
	}
}

func TestGoOrder(t *testing.T) {
	checkOrdered(t, Go, []string{
		"v0.0.0-20190101000000-aaaaaaaaaaaa",
		"v0.0.0-20191109021931-daa7c04131f5",
		"v0.1.0",
		"v1.2.3-pre",
		"v1.2.3-pre.0.20200101000000-bbbbbbbbbbbb",
		"v1.2.3",
		"v1.2.4-0.20200101000000-cccccccccccc",
		"v1.2.4",
		"v2.0.0+incompatible",
		"v2.1.0",
	})
	for _, p := range [][2]string{
		{"v2.0.0+incompatible", "2.0.0"},
		{"v1.2.3", "1.2.3"},
		{"go1.21.3", "1.21.3"},
	} {
		if c, err := Compare(Go, p[0], p[1]); err != nil || c != 0 {
			t.Errorf("Compare(Go, %q, %q) = %d, %v; want 0", p[0], p[1], c, err)
		}
	}
	checkOrdered(t, Go, []string{"go1.21rc2", "go1.21.0", "go1.21.3", "go1.22.0"})
}

func TestGenericOrder(t *testing.T) {
	checkOrdered(t, "Maven", []string{"1", "1.0", "1.0.1", "1.0a", "1.2", "1.10", "2.0-beta", "2.0.0"})
	checkOrdered(t, "Debian:12", []string{"1.2.3-1", "1.2.3-2", "1.2.10-1"})
	if _, err := Compare("Maven", "", "1"); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty generic version: err = %v", err)
	}
}

func TestEcosystemCase(t *testing.T) {
	// PyPI rules whatever the case of the name: "1.0.dev1" < "1.0a1" holds
	// only under PEP 440.
	for _, eco := range []string{"PyPI", "pypi", "PYPI"} {
		if c, err := Compare(eco, "1.0.dev1", "1.0a1"); err != nil || c != -1 {
			t.Errorf("Compare(%q, 1.0.dev1, 1.0a1) = %d, %v", eco, c, err)
		}
	}
}

func TestTooLong(t *testing.T) {
	long := "1." + string(make([]byte, MaxLen))
	for _, eco := range []string{PyPI, NPM, Go, "Maven"} {
		if _, err := Compare(eco, long, "1"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: over-long version accepted: %v", eco, err)
		}
	}
}

// checkTotal asserts reflexivity, antisymmetry and transitivity on a, b, c
// for those that parse.
func checkTotal(t *testing.T, eco, a, b, c string) {
	pa, errA := Parse(eco, a)
	pb, errB := Parse(eco, b)
	pc, errC := Parse(eco, c)
	if errA != nil || errB != nil || errC != nil {
		return
	}
	if pa.Compare(pa) != 0 {
		t.Fatalf("%q not equal to itself", a)
	}
	ab, ba := pa.Compare(pb), pb.Compare(pa)
	if ab != -ba {
		t.Fatalf("not antisymmetric: cmp(%q,%q)=%d, cmp(%q,%q)=%d", a, b, ab, b, a, ba)
	}
	bc, ac := pb.Compare(pc), pa.Compare(pc)
	if ab <= 0 && bc <= 0 && ac > 0 {
		t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
	}
	if ab >= 0 && bc >= 0 && ac < 0 {
		t.Fatalf("not transitive: %q >= %q >= %q but %q < %q", a, b, c, a, c)
	}
}

func FuzzPEP440(f *testing.F) {
	for _, s := range [][3]string{
		{"1.0", "1.0.0", "1.0+local"},
		{"1.0.dev1", "1.0a1", "1.0.post1.dev1"},
		{"1!1.0", "2.0rc1", "2.0-1"},
		{"1.0+abc.5", "1.0+5", "1.0+abc"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		checkTotal(t, PyPI, a, b, c)
		if v, err := ParsePEP440(a); err == nil {
			// The normal form is a version equal to the input.
			n, err := ParsePEP440(v.Normalized())
			if err != nil || n.Compare(v) != 0 {
				t.Fatalf("normal form %q of %q: %v, cmp %d", v.Normalized(), a, err, n.Compare(v))
			}
		}
	})
}

func FuzzSemver(f *testing.F) {
	for _, s := range [][3]string{
		{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0+b"},
		{"1.0.0-0", "1.0.0-x-y", "v1"},
		{"v0.0.0-20191109021931-daa7c04131f5", "v2.0.0+incompatible", "1.2"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		checkTotal(t, NPM, a, b, c)
		checkTotal(t, Go, a, b, c)
		checkTotal(t, "Maven", a, b, c)
	})
}
