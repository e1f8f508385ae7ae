package lockfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSources checks where each package is recorded as fetched from.
func TestSources(t *testing.T) {
	const (
		npmjs  = "https://registry.npmjs.org/"
		acmePy = "https://REDACTED@pypi.acme.internal/simple"
	)
	tests := []struct {
		file string
		// want maps a package name to "Source" or "|index|index…" for Indexes.
		want map[string]string
	}{
		{"package-lock.json", map[string]string{
			"acme-utils": npmjs,
			"@acme/core": "https://REDACTED@npm.acme.internal/artifactory/api/npm/npm-local/",
			"lodash":     npmjs,
			"gitdep":     "",
		}},
		{"package-lock-v1.json", map[string]string{"acme-utils": "https://npm.acme.internal/"}},
		{"pnpm-lock.yaml", map[string]string{"acme-utils": "https://npm.acme.internal/", "lodash": ""}},
		{"old-pnpm-lock.yaml", map[string]string{"acme-utils": npmjs}},
		{"yarn.lock", map[string]string{"acme-utils": "https://registry.yarnpkg.com/", "@acme/core": "https://npm.acme.internal/"}},
		{"poetry.lock", map[string]string{"acme-models": acmePy, "acme-tools": PyPIIndex, "requests": PyPIIndex}},
		{"uv.lock", map[string]string{"acme-models": PyPIIndex, "acme-tools": acmePy}},
		{"Pipfile.lock", map[string]string{
			"acme-models": acmePy,
			"acme-tools":  "|" + PyPIIndex + "|" + acmePy,
			"requests":    PyPIIndex,
		}},
		{"req-extra/requirements.txt", map[string]string{
			"acme-models": "|" + PyPIIndex + "|" + acmePy,
			"requests":    "|" + PyPIIndex + "|" + acmePy,
			"acme-tools":  "|" + PyPIIndex + "|" + acmePy, // index options reach included files
		}},
		{"req-index/requirements.txt", map[string]string{
			"acme-models": "https://pypi.acme.internal/simple",
			"wheel":       "", // a direct reference names its own artifact
			"private":     "",
		}},
		{"req-none/requirements.txt", map[string]string{"acme-models": ""}},
		{"poetry-project/pyproject.toml", map[string]string{
			"acme-models": "|" + PyPIIndex + "|" + acmePy, // implicit PyPI, then the supplemental source
			"acme-tools":  acmePy,
			"requests":    PyPIIndex,
			"tokenizers":  "",
		}},
		{"uv-project/pyproject.toml", map[string]string{
			"acme-models": "|" + acmePy + "|https://mirror.acme.internal/simple|" + PyPIIndex,
			"acme-tools":  "https://REDACTED@pypi.acme.internal/simple",
		}},
		{"uv-first/pyproject.toml", map[string]string{"acme-models": ""}}, // first-index: the first index that has it
		{"pipfile/Pipfile", map[string]string{
			"acme-models": "|" + PyPIIndex + "|" + acmePy,
			"acme-tools":  acmePy,
		}},
		{"Cargo.lock", map[string]string{
			"acme-core": "https://github.com/rust-lang/crates.io-index",
			"acme-net":  "https://REDACTED@cargo.acme.internal/index/",
			"serde":     "https://index.crates.io/",
		}},
		{"environment.yml", map[string]string{
			"python":      "|https://REDACTED@conda.acme.internal/acme|conda-forge",
			"acme-data":   "acme",
			"numpy":       "|https://REDACTED@conda.acme.internal/acme|conda-forge",
			"acme-models": "|" + PyPIIndex + "|https://pypi.acme.internal/simple",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "sources", tt.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			pkgs, _, err := Parse(path, data)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range pkgs {
				s := p.Source
				if len(p.Indexes) > 0 {
					if p.Source != "" {
						t.Errorf("%s has both Source %q and Indexes %q", p.Name, p.Source, p.Indexes)
					}
					s = "|" + strings.Join(p.Indexes, "|")
				}
				got[p.Name] = s
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("sources (-want +got):\n%s", d)
			}
		})
	}
}

// TestSourcesRedacted checks that no credential of an index URL, a
// tarball URL or a VCS requirement reaches the packages or findings.
func TestSourcesRedacted(t *testing.T) {
	secrets := []string{"s3cr3tT0ken", "hunter2", "pypi-AgEIcHlwaS5vcmc", "t0ken", "SECRETTOKEN", "glpat", "oauth2"}
	files, err := filepath.Glob(filepath.Join("testdata", "sources", "*"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("testdata", "sources", "*", "*"))
	files = append(files, more...)
	n := 0
	for _, path := range files {
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pkgs, fs, err := Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(struct {
			P any
			F any
		}{pkgs, fs})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(out), s) {
				t.Errorf("%s: %q reaches the JSON: %s", path, s, out)
			}
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d files read", n)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok@host/simple":                 "https://REDACTED@host/simple",
		"https://user:p@ss@host/simple":                "https://REDACTED@host/simple",
		"https://tok@host/simple?token=x#frag":         "https://REDACTED@host/simple",
		"https://host/simple?token=x":                  "https://host/simple",
		"git+ssh://git@github.com/a/b.git":             "git+ssh://git@github.com/a/b.git",
		"conda-forge":                                  "conda-forge",
		"a?b=1://h/x?token=y":                          "a?b=1://h/x",
		"https://host/path/with@at":                    "https://host/path/with@at",
		"registry+https://a:b@cargo.example/index.git": "registry+https://REDACTED@cargo.example/index.git",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redactUserinfo("pkg @ https://a:b@h/x.whl and git+https://t@h/r.git@v1 ; x"); got != "pkg @ https://REDACTED@h/x.whl and git+https://REDACTED@h/r.git@v1 ; x" {
		t.Errorf("redactUserinfo = %q", got)
	}
}
