package osv

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

func TestCVSS3BaseScore(t *testing.T) {
	for vec, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H":          9.8,
		"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H":          7.5,
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H":          9.9,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H":          10,
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N":          3.3,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:L":          8.2,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H":          7.5,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N":          6.1,
		"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H":          7.8,
		"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N":          7.5,
		"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N":          0,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O": 9.8,
	} {
		got, err := CVSS3BaseScore(vec)
		if err != nil || got != want {
			t.Errorf("CVSS3BaseScore(%s) = %v, %v; want %v", vec, got, err, want)
		}
	}
	for _, bad := range []string{
		"", "CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
	} {
		if _, err := CVSS3BaseScore(bad); err == nil {
			t.Errorf("CVSS3BaseScore(%q) accepted", bad)
		}
	}
}

func TestFindings(t *testing.T) {
	db, _ := importExport(t, export)
	q := func(eco, name, ver string) []finding.Finding {
		vs, err := db.Query(eco, name, ver)
		if err != nil {
			t.Fatal(err)
		}
		return Findings(PackageVersion{Ecosystem: eco, Name: name, Version: ver}, "requirements.txt", 7, vs)
	}
	for _, c := range []struct {
		eco, name, ver string
		rule           string
		sev            finding.Severity
		msg            []string
	}{
		{"PyPI", "torch", "2.5.1", "deps.vulnerable", finding.Critical, []string{"TEST-PYPI-0001 (TEST-CVE-0001)", "CVSS 9.8", "fixed in 2.6.0"}},
		{"PyPI", "transformers", "4.35.0", "deps.vulnerable", finding.High, []string{"CVSS 7.5", "fixed in 4.36.0"}},
		{"PyPI", "pillow", "10.1.0", "deps.vulnerable", finding.Medium, []string{"TEST-PYPI-0003", "no fixed version known"}},
		{"PyPI", "example-pkg-name", "2.0", "deps.vulnerable", finding.Low, []string{"CVSS 3.3"}},
		{"Go", "golang.org/x/net", "v0.1.0", "deps.vulnerable", finding.High, []string{"fixed in 0.23.0"}},
		{"npm", "lodash", "4.17.20", "deps.vulnerable", finding.High, []string{"CVSS 8.2"}},
		{"PyPI", "pytorch-lightening", "0.0.2", "deps.malicious", finding.Critical, []string{"malicious", "MAL-0000-0001"}},
	} {
		fs := q(c.eco, c.name, c.ver)
		if len(fs) != 1 {
			t.Fatalf("%s@%s: %d findings, want 1", c.name, c.ver, len(fs))
		}
		f := fs[0]
		if f.RuleID != c.rule || f.Severity != c.sev || f.Layer != finding.LayerSupplyChain || f.Detector != Detector {
			t.Errorf("%s@%s: rule %s severity %v layer %v detector %q", c.name, c.ver, f.RuleID, f.Severity, f.Layer, f.Detector)
		}
		if f.Excerpt != c.name+"@"+c.ver || f.Location.Path != "requirements.txt" || f.Location.Line != 7 {
			t.Errorf("%s@%s: excerpt %q location %+v", c.name, c.ver, f.Excerpt, f.Location)
		}
		for _, m := range c.msg {
			if !strings.Contains(f.Message, m) {
				t.Errorf("%s@%s: message %q lacks %q", c.name, c.ver, f.Message, m)
			}
		}
	}
	if len(q("PyPI", "torch", "2.6.0")) != 0 {
		t.Error("findings for a fixed version")
	}
	ids := map[string]bool{}
	for _, r := range Rules() {
		ids[r.ID] = true
	}
	if !ids["deps.vulnerable"] || !ids["deps.malicious"] || len(ids) != 2 {
		t.Errorf("Rules() = %v", ids)
	}
}

func TestMaliciousByDatabaseSpecific(t *testing.T) {
	for _, c := range []struct {
		v    Vulnerability
		want bool
	}{
		{Vulnerability{ID: "MAL-2024-1"}, true},
		{Vulnerability{ID: "GHSA-x", DatabaseSpecific: json.RawMessage(`{"malicious-packages-origins":[]}`)}, true},
		{Vulnerability{ID: "X-1", Affected: []Affected{{DatabaseSpecific: json.RawMessage(`{"malicious":true}`)}}}, true},
		{Vulnerability{ID: "X-2", DatabaseSpecific: json.RawMessage(`{"malicious":false}`)}, false},
		{Vulnerability{ID: "X-3", DatabaseSpecific: json.RawMessage(`[1,2]`)}, false},
	} {
		if got := c.v.Malicious(); got != c.want {
			t.Errorf("%s Malicious() = %v, want %v", c.v.ID, got, c.want)
		}
	}
}
