package finding

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestFingerprint(t *testing.T) {
	const rule = "secrets.aws-access-key"
	const secret = "AKIAIOSFODNN7EXAMPLE"
	loc := Location{Path: "config/prod.env", Line: 3, Column: 9}
	fp := Fingerprint(rule, loc, secret)

	// A known value: changing it breaks every stored baseline.
	if want := "7b2a3fffb29d8cba6bca4ccd97e725f1"; fp != want {
		t.Errorf("Fingerprint = %q, want %q (the fingerprint changed: baselines would break)", fp, want)
	}
	if _, err := hex.DecodeString(fp); err != nil || len(fp) != 32 {
		t.Errorf("Fingerprint = %q, want 32 hex digits", fp)
	}
	if strings.Contains(fp, secret) || strings.Contains(fp, strings.ToLower(secret[:8])) {
		t.Error("fingerprint contains the secret")
	}

	same := func(name string, a, b string) {
		t.Helper()
		if a != b {
			t.Errorf("%s: fingerprints differ", name)
		}
	}
	differ := func(name string, a, b string) {
		t.Helper()
		if a == b {
			t.Errorf("%s: fingerprints are equal", name)
		}
	}
	moved := loc
	moved.Line, moved.Column, moved.Span = 40, 1, &Span{Start: 3, End: 23}
	same("secret moved within its file", fp, Fingerprint(rule, moved, secret))
	differ("other secret", fp, Fingerprint(rule, loc, secret+"X"))
	differ("other rule", fp, Fingerprint("secrets.generic", loc, secret))
	differ("other file", fp, Fingerprint(rule, Location{Path: "config/dev.env", Line: 3, Column: 9}, secret))
	differ("other commit", fp, Fingerprint(rule, Location{Path: "config/prod.env", Commit: "abc"}, secret))
	differ("other row", Fingerprint(rule, Location{Path: "d.csv", Row: 1}, secret), Fingerprint(rule, Location{Path: "d.csv", Row: 2}, secret))
	differ("other request", Fingerprint(rule, Location{RequestID: "a"}, secret), Fingerprint(rule, Location{RequestID: "b"}, secret))

	// Without material the position is the identity.
	differ("no material, other line", Fingerprint(rule, loc, ""), Fingerprint(rule, moved, ""))
	same("no material, same place", Fingerprint(rule, loc, ""), Fingerprint(rule, loc, ""))
	differ("span or none", Fingerprint(rule, Location{Path: "a"}, ""), Fingerprint(rule, Location{Path: "a", Span: &Span{}}, ""))

	// Fields are length-prefixed, so moving bytes between them changes
	// the hash.
	differ("field boundaries", Fingerprint("ab", Location{Path: "c"}, "x"), Fingerprint("a", Location{Path: "bc"}, "x"))
	differ("path or request", Fingerprint(rule, Location{Path: "x"}, ""), Fingerprint(rule, Location{RequestID: "x"}, ""))
}

func TestDerivedFingerprint(t *testing.T) {
	f := Finding{RuleID: "r", Location: Location{Path: "a", Line: 2}, Excerpt: "x***"}
	a := fingerprintOf(&f)
	if len(a) != 32 {
		t.Fatalf("derived fingerprint %q", a)
	}
	g := f
	g.Location.Line = 3
	if fingerprintOf(&g) == a {
		t.Error("derived fingerprint ignores the line")
	}
	g = f
	g.Excerpt = "y***"
	if fingerprintOf(&g) == a {
		t.Error("derived fingerprint ignores the excerpt")
	}
	g = f
	g.Confidence = 0.1
	if fingerprintOf(&g) != a {
		t.Error("derived fingerprint depends on the confidence")
	}
	g.Fingerprint = "given"
	if fingerprintOf(&g) != "given" {
		t.Error("a producer's fingerprint is not used")
	}
}

func BenchmarkFingerprint(b *testing.B) {
	loc := Location{Path: "services/payments/config/production.env", Line: 120, Column: 17}
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint("secrets.aws-access-key", loc, "AKIAIOSFODNN7EXAMPLE")
	}
}
