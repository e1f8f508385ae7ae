package confusion

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/deps/lockfile"
)

// patterns are the private names of the test organisation.
var patterns = []string{"acme-*", "@acme/*", "acme.internal/ml/*"}

// scanDir parses every manifest and lockfile under dir and runs Check.
func scanDir(t *testing.T, dir string, private []string) []finding.Finding {
	t.Helper()
	files, err := lockfile.Find(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no lockfile under %s", dir)
	}
	var pkgs []lockfile.Package
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ps, _, err := lockfile.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, ps...)
	}
	return Check(pkgs, private)
}

// brief renders a finding as "rule file:line excerpt".
func brief(f finding.Finding) string {
	return fmt.Sprintf("%s %s:%d %s", strings.TrimPrefix(f.RuleID, "deps.confusion."), filepath.Base(f.Location.Path), f.Location.Line, f.Excerpt)
}

func TestCheckPositive(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
		// in holds text every message must contain: the index or registry.
		in string
	}{
		{"npm-public", []string{"public-source package-lock.json:6 acme-utils@9.9.9"}, "https://registry.npmjs.org/"},
		{"npm-unscoped", []string{"unscoped pnpm-lock.yaml:12 acme-utils@1.0.0"}, "no scope"},
		{"npm-rc-public", []string{"public-source pnpm-lock.yaml:5 @acme/core@2.0.0"}, ".npmrc:2"},
		{"yarn-classic", []string{"public-source yarn.lock:5 acme-utils@1.0.0"}, "https://registry.yarnpkg.com/"},
		{"yarn-berry", []string{"unscoped yarn.lock:8 acme-utils@1.0.0"}, "no scope"},
		{"poetry", []string{"public-source poetry.lock:3 acme-models@1.2.0"}, lockfile.PyPIIndex},
		{"uv", []string{"public-source uv.lock:4 acme-models@1.2.0"}, lockfile.PyPIIndex},
		{"pipenv", []string{"extra-index Pipfile.lock:12 acme-tools@0.3.0"}, "https://REDACTED@pypi.acme.internal/simple"},
		{"pip-extra", []string{"extra-index requirements.txt:3 acme-models@1.2.0"}, "public index " + lockfile.PyPIIndex},
		{"pip-public", []string{"public-source requirements.txt:2 acme-models@1.2.0"}, lockfile.PyPIIndex},
		{"conda-pip", []string{"extra-index environment.yml:8 acme-models@1.2.0"}, "https://pypi.acme.internal/simple"},
		{"cargo", []string{"public-source Cargo.lock:5 acme-core@0.1.0"}, "https://github.com/rust-lang/crates.io-index"},
		{"poetry-supplemental", []string{"extra-index pyproject.toml:7 acme-models@1.2.0"}, "Poetry merges"},
		{"uv-best-match", []string{"extra-index pyproject.toml:4 acme-models@1.2.0"}, "https://pypi.acme.internal/simple"},
		{"pipfile", []string{"extra-index Pipfile:12 acme-tools@0.3.0"}, "Pipenv"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			fs := scanDir(t, filepath.Join("testdata", "positive", tt.dir), patterns)
			var got []string
			for _, f := range fs {
				got = append(got, brief(f))
				if !strings.Contains(f.Message, tt.in) || !strings.Contains(f.Message, f.Location.Path) ||
					!strings.Contains(f.Message, strings.SplitN(f.Excerpt, "@", 2)[0]) && !strings.HasPrefix(f.Excerpt, "@") {
					t.Errorf("message %q does not name %q, the file or the package", f.Message, tt.in)
				}
				if f.Detector != detector || f.Remediation == "" || f.Layer != finding.LayerSupplyChain {
					t.Errorf("finding lacks detector, remediation or layer: %+v", f)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			// Without private patterns there is nothing to report.
			if fs := scanDir(t, filepath.Join("testdata", "positive", tt.dir), nil); len(fs) != 0 {
				t.Errorf("findings without private patterns: %v", fs)
			}
		})
	}
}

func TestCheckNegative(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "negative"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 12 {
		t.Fatalf("only %d negative cases", len(dirs))
	}
	for _, d := range dirs {
		t.Run(d.Name(), func(t *testing.T) {
			for _, f := range scanDir(t, filepath.Join("testdata", "negative", d.Name()), patterns) {
				t.Errorf("unexpected finding %s: %s", brief(f), f.Message)
			}
		})
	}
}

// TestNoSecrets checks that credentials in index URLs and registry
// settings never reach a finding.
func TestNoSecrets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("requirements.txt", "--index-url https://__token__:pypi-SECRET1@pypi.acme.internal/simple\n--extra-index-url https://mirror:SECRET2@pypi.org/simple\nacme-models==1.2.0\n")
	write("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  '@acme/core@2.0.0':\n    resolution: {integrity: sha512-BBBB}\n")
	write(".npmrc", "@acme:registry=https://bot:SECRET3@registry.npmjs.org/\n")
	write("Cargo.lock", "version = 3\n[[package]]\nname = \"acme-core\"\nversion = \"0.1.0\"\nsource = \"sparse+https://u:SECRET4@index.crates.io/\"\n")
	fs := scanDir(t, dir, patterns)
	if len(fs) != 3 {
		t.Fatalf("want 3 findings, got %d: %v", len(fs), fs)
	}
	out, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "SECRET") {
		t.Fatalf("a credential reaches the findings: %s", out)
	}
	if !strings.Contains(string(out), "REDACTED@") {
		t.Fatalf("the redacted index is not named: %s", out)
	}
}

func TestPublic(t *testing.T) {
	for u, want := range map[string]bool{
		"https://registry.npmjs.org/":                   true,
		"https://REDACTED@Registry.NPMJS.org:443/x":     true,
		"https://pypi.org/simple":                       true,
		"https://files.pythonhosted.org/packages/a.whl": true,
		"https://github.com/rust-lang/crates.io-index":  true,
		"https://index.crates.io/":                      true,
		"https://proxy.golang.org/":                     true,
		"https://github.com/acme/crates-index":          false,
		"https://pypi.org.acme.internal/simple":         false,
		"https://npm.acme.internal/registry.npmjs.org/": false,
		"https://registry.npmjs.org@evil.example/":      false,
		"conda-forge": false,
		"":            false,
	} {
		if got := Public(u); got != want {
			t.Errorf("Public(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestNPMConfig(t *testing.T) {
	c := &npmConfig{Scopes: map[string]string{}, Where: map[string]string{}}
	parseNpmrc(c, ".npmrc", []byte("# comment\n; comment\nregistry=https://a.example/\n@Acme:registry = \"https://t:SECRET@b.example/\"\n//b.example/:_authToken=SECRET\nstrict-ssl=false\n"))
	parseYarnrc(c, ".yarnrc", []byte("\"@other:registry\" \"https://c.example/\"\n"))
	parseYarnrcYML(c, ".yarnrc.yml", []byte("npmScopes:\n  third:\n    npmAlwaysAuth: true\n    npmRegistryServer: 'https://d.example'\nnpmRegistryServer: https://e.example\nunrelated:\n  npmRegistryServer: https://f.example\n"))
	want := &npmConfig{
		Registry: "https://e.example",
		Scopes:   map[string]string{"@acme": "https://REDACTED@b.example/", "@other": "https://c.example/", "@third": "https://d.example"},
		Where:    map[string]string{"": ".yarnrc.yml:5", "@acme": ".npmrc:4", "@other": ".yarnrc:1", "@third": ".yarnrc.yml:4"},
	}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	if r, w := c.registryFor("@ACME/core"); r != "https://REDACTED@b.example/" || w != ".npmrc:4" {
		t.Errorf("registryFor(@ACME/core) = %q, %q", r, w)
	}
	if r, _ := c.registryFor("acme-utils"); r != "https://e.example" {
		t.Errorf("registryFor(acme-utils) = %q", r)
	}
}

func TestRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "deps.confusion.") || r.Title == "" || r.Remediation == "" || seen[r.ID] {
			t.Errorf("bad or repeated rule %+v", r)
		}
		seen[r.ID] = true
	}
	if len(seen) != 3 {
		t.Errorf("%d rules", len(seen))
	}
}
