package lockfile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fuzzParse runs Parse on data under the file name name, seeded with the
// testdata files given, and checks what holds for any input: no panic, no
// error but the documented ones, packages with a name and ecosystem,
// lines inside the file, and a dependency graph whose every Requires entry
// names a package of the same result (checkGraph).
func fuzzParse(f *testing.F, name string, seeds ...string) {
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// One empty folder for all runs: Parse only reads next to the file.
	path := filepath.Join(f.TempDir(), name)
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, fs, err := Parse(path, data)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		// The YAML parser also breaks lines at a lone "\r", as YAML says.
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
		for _, p := range pkgs {
			if p.Name == "" || p.Ecosystem == "" || p.File == "" {
				t.Fatalf("incomplete package %+v", p)
			}
			if p.File == path && (p.Line < 0 || p.Line > lines) {
				t.Fatalf("package %s at line %d of a %d-line file", p.Name, p.Line, lines)
			}
			for _, u := range append([]string{p.Source, p.Spec}, p.Indexes...) {
				if redactUserinfo(u) != u {
					t.Fatalf("package %s: URL with credentials %q", p.Name, u)
				}
			}
			if p.Pinned && p.Version == "" && p.Spec == "" {
				t.Fatalf("pinned package %s without version or spec", p.Name)
			}
		}
		if err := checkGraph(pkgs); err != nil {
			t.Fatal(err)
		}
		if !KindOf(path).RecordsGraph() {
			for _, p := range pkgs {
				if len(p.Requires) > 0 {
					t.Fatalf("%s: %s requires %v", KindOf(path), p.Name, p.Requires)
				}
			}
		}
		for _, x := range fs {
			if x.Location.Path == "" && (x.Location.Line < 0 || x.Location.Line > lines+1) {
				t.Fatalf("finding %s at line %d of a %d-line file", x.RuleID, x.Location.Line, lines)
			}
		}
	})
}

func FuzzRequirements(f *testing.F) {
	f.Add([]byte("--extra-index-url https://u:t@h/simple\n-i https://x/simple\n--no-index\na==1\n"))
	f.Add([]byte("a==1 \\\n --hash=sha256:00\n-r\n-e git+https://x/y.git@v1#egg=y\nb[c] (>=1,<2) ; python_version < '3'\n--require-hashes\n"))
	fuzzParse(f, "requirements.txt", "testdata/training/requirements.txt", "testdata/hashes/requirements.txt", "testdata/hashes/strict/requirements.txt",
		"testdata/sources/req-extra/requirements.txt", "testdata/sources/req-index/requirements.txt")
}

func FuzzPyproject(f *testing.F) {
	f.Add([]byte("[tool.uv]\nindex-strategy = \"unsafe-best-match\"\nextra-index-url = [1, \"https://a:b@x/\"]\n[[tool.uv.index]]\nurl = 2\n[tool.uv.sources]\na = [{index = \"x\"}, 3]\n[[tool.poetry.source]]\nname = \"PyPI\"\npriority = \"explicit\"\n"))
	fuzzParse(f, "pyproject.toml", "testdata/inference/pyproject.toml", "testdata/uvsvc/pyproject.toml", "testdata/library/pyproject.toml",
		"testdata/sources/poetry-project/pyproject.toml", "testdata/sources/uv-project/pyproject.toml", "testdata/sources/uv-first/pyproject.toml")
}

func FuzzPipfile(f *testing.F) {
	f.Add([]byte("source = {url = \"https://a\"}\n[packages]\na = {index = 1}\nb = [\"x\"]\n"))
	fuzzParse(f, "Pipfile", "testdata/sources/pipfile/Pipfile")
}

func FuzzPoetryLock(f *testing.F) {
	fuzzParse(f, "poetry.lock", "testdata/inference/poetry.lock", "testdata/sources/poetry.lock", "testdata/graph/poetry/poetry.lock")
}

func FuzzUVLock(f *testing.F) {
	fuzzParse(f, "uv.lock", "testdata/uvsvc/uv.lock", "testdata/sources/uv.lock", "testdata/graph/uv/uv.lock")
}

func FuzzPipfileLock(f *testing.F) {
	f.Add([]byte(`{"_meta":{},"default":{"a":{"git":"https://x","ref":"0123456789abcdef0123456789abcdef01234567"}}}`))
	fuzzParse(f, "Pipfile.lock", "testdata/pipenv/Pipfile.lock", "testdata/sources/Pipfile.lock")
}

func FuzzCondaEnv(f *testing.F) {
	f.Add([]byte("dependencies:\n  - &a x=1\n  - *a\n  - pip: [\"y==2\"]\n"))
	fuzzParse(f, "environment.yml", "testdata/training/environment.yml", "testdata/sources/environment.yml")
}

func FuzzGoMod(f *testing.F) {
	fuzzParse(f, "go.mod", "testdata/gomod/go.mod")
}

func FuzzGoSum(f *testing.F) {
	fuzzParse(f, "go.sum", "testdata/gomod/go.sum")
}

func FuzzPackageLock(f *testing.F) {
	f.Add([]byte(`{"lockfileVersion":1,"dependencies":{"a":{"version":"npm:b@1.0.0","dependencies":{"c":{"version":"2.0.0"}}}}}`))
	fuzzParse(f, "package-lock.json", "testdata/npm/package-lock.json", "testdata/sources/package-lock.json", "testdata/sources/package-lock-v1.json",
		"testdata/graph/npm-v3/package-lock.json", "testdata/graph/npm-v1/package-lock.json")
}

func FuzzPnpmLock(f *testing.F) {
	f.Add([]byte("lockfileVersion: 5.4\npackages:\n  /@a/b/1.0.0_c@1:\n    resolution: {integrity: x}\n"))
	fuzzParse(f, "pnpm-lock.yaml", "testdata/pnpm/pnpm-lock.yaml", "testdata/pnpm/v6-pnpm-lock.yaml",
		"testdata/sources/pnpm-lock.yaml", "testdata/sources/old-pnpm-lock.yaml",
		"testdata/graph/pnpm-v9/pnpm-lock.yaml", "testdata/graph/pnpm-v6/pnpm-lock.yaml", "testdata/graph/pnpm-v5/pnpm-lock.yaml")
}

func FuzzYarnLock(f *testing.F) {
	fuzzParse(f, "yarn.lock", "testdata/yarn-berry/yarn.lock", "testdata/yarn-classic/yarn.lock", "testdata/sources/yarn.lock",
		"testdata/graph/yarn-classic/yarn.lock", "testdata/graph/yarn-berry/yarn.lock")
}

func FuzzCargoLock(f *testing.F) {
	fuzzParse(f, "Cargo.lock", "testdata/rust/Cargo.lock", "testdata/sources/Cargo.lock", "testdata/graph/cargo/Cargo.lock")
}

// FuzzJSONObjectKeys checks the key scanner the package-lock.json graph
// uses against encoding/json on any valid JSON object.
func FuzzJSONObjectKeys(f *testing.F) {
	f.Add([]byte(`{"a":"^1","b":{"c":[1,"}",{"d":2}]},"e\"f":null}`))
	f.Add([]byte(`{"\u00e9":1, "x\\y" : [] }`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]json.RawMessage
		if len(data) == 0 || data[0] != '{' || json.Unmarshal(data, &m) != nil {
			return
		}
		want := make([]string, 0, len(m))
		for k := range m {
			want = append(want, k)
		}
		slices.Sort(want)
		if got := jsonObjectKeys(data); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("keys %q, want %q", got, want)
		}
	})
}
