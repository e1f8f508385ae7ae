package osv

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadRecord feeds arbitrary bytes to ParseRecords as JSON and as
// YAML, and runs every accepted record through matching and findings.
func FuzzLoadRecord(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(export, "*", "*"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Ext(p) == ".yaml", data)
	}
	f.Add(true, []byte("id: X\na: &a [1]\nb: *a\n"))
	f.Add(false, []byte(`[{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"x"},"versions":["1"]}]}]`))
	f.Fuzz(func(t *testing.T, yaml bool, data []byte) {
		name := "r.json"
		if yaml {
			name = "r.yaml"
		}
		recs, err := ParseRecords(name, data)
		if err != nil {
			return
		}
		for _, v := range recs {
			if v.Validate() != nil {
				t.Fatalf("ParseRecords returned an invalid record %q", v.ID)
			}
			v.Malicious()
			v.SeverityLevel()
			for _, a := range v.Affected {
				for _, ver := range append([]string{"0", "1.0", "1.0.0-rc.1", "v0.0.0-20240101000000-abcdefabcdef"}, a.Versions...) {
					hit, fixed, _ := Match(v, a.Package.Ecosystem, a.Package.Name, ver)
					if hit {
						Findings(PackageVersion{Ecosystem: a.Package.Ecosystem, Name: a.Package.Name, Version: ver}, "", 0, []Vuln{{Vulnerability: v, Fixed: fixed}})
					}
				}
				// Every commit a GIT range names, as a pinned commit.
				for _, r := range a.Ranges {
					for _, e := range r.Events {
						_, c := e.kind()
						if hit, fixed := MatchCommit(v, a.Package.Ecosystem, a.Package.Name, r.Repo, c); hit {
							Findings(PackageVersion{Ecosystem: a.Package.Ecosystem, Name: a.Package.Name, Repo: r.Repo, Commit: c}, "", 0, []Vuln{{Vulnerability: v, Fixed: fixed}})
						}
					}
				}
			}
		}
	})
}
