package lockfile

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkGraph reports what must hold for the Requires of any result: every
// entry is the Key of a package of the same result, the list is sorted,
// without duplicates or the package itself, and within maxRequires.
func checkGraph(pkgs []Package) error {
	keys := make(map[string]bool, len(pkgs))
	for _, p := range pkgs {
		keys[p.Key()] = true
	}
	for _, p := range pkgs {
		if len(p.Requires) > maxRequires {
			return fmt.Errorf("%s: %d requires", p.Key(), len(p.Requires))
		}
		for i, r := range p.Requires {
			if !keys[r] {
				return fmt.Errorf("%s requires %q, which is no package of the result", p.Key(), r)
			}
			if r == p.Key() {
				return fmt.Errorf("%s requires itself", r)
			}
			if i > 0 && p.Requires[i-1] >= r {
				return fmt.Errorf("%s: requires not sorted and unique: %q", p.Key(), p.Requires)
			}
		}
	}
	return nil
}

// graphOf returns the edges of a result, "key -> key key …" for each
// package with requirements, the requirements of duplicate entries merged.
func graphOf(t *testing.T, pkgs []Package) []string {
	t.Helper()
	if err := checkGraph(pkgs); err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, p := range pkgs {
		if len(p.Requires) > 0 {
			m[p.Key()] = append(m[p.Key()], p.Requires...)
		}
	}
	var out []string
	for k, rs := range m {
		slices.Sort(rs)
		out = append(out, k+" -> "+strings.Join(slices.Compact(rs), " "))
	}
	slices.Sort(out)
	return out
}

// directOf returns the Keys of the direct packages, sorted and unique.
func directOf(pkgs []Package) []string {
	var out []string
	for _, p := range pkgs {
		if p.Direct {
			out = append(out, p.Key())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestRequires(t *testing.T) {
	tests := []struct {
		path   string
		edges  []string
		direct []string // nil: not checked
	}{
		{
			// Node's lookup: node-fetch's whatwg-url is its nested copy
			// (5.0.0), whose tr46 and webidl-conversions are the copies
			// nested beside it, not the hoisted 5.0.0 and 7.0.0. An alias
			// (string-width-cjs) resolves to the package it installs; an
			// optional dependency not installed (fsevents) and an optional
			// peer (canvas) are no edges.
			path: "testdata/graph/npm-v3/package-lock.json",
			edges: []string{
				"@isaacs/cliui@8.0.2 -> string-width@4.2.3",
				"@langchain/core@0.2.9 -> decamelize@1.2.0",
				"@langchain/openai@0.1.3 -> @langchain/core@0.2.9 openai@4.52.0",
				"abort-controller@3.0.0 -> event-target-shim@5.0.1",
				"chokidar@3.6.0 -> readdirp@3.6.0",
				"data-urls@5.0.0 -> whatwg-mimetype@4.0.0 whatwg-url@14.0.0",
				"jsdom@24.1.0 -> data-urls@5.0.0 webidl-conversions@7.0.0 whatwg-url@14.0.0",
				"node-fetch@2.7.0 -> whatwg-url@5.0.0",
				"openai@4.52.0 -> abort-controller@3.0.0 node-fetch@2.7.0",
				"tr46@5.0.0 -> punycode@2.3.1",
				"whatwg-url@14.0.0 -> tr46@5.0.0 webidl-conversions@7.0.0",
				"whatwg-url@5.0.0 -> tr46@0.0.3 webidl-conversions@3.0.1",
			},
			direct: []string{"@isaacs/cliui@8.0.2", "@langchain/core@0.2.9", "@langchain/openai@0.1.3", "chokidar@3.6.0", "jsdom@24.1.0", "openai@4.52.0"},
		},
		{
			// v1: requires resolve to the nested entry first, then up.
			path: "testdata/graph/npm-v1/package-lock.json",
			edges: []string{
				"@isaacs/cliui@8.0.2 -> string-width@4.2.3",
				"node-fetch@2.7.0 -> whatwg-url@5.0.0",
				"tr46@5.0.0 -> punycode@2.3.1",
				"whatwg-url@14.0.0 -> tr46@5.0.0 webidl-conversions@7.0.0",
				"whatwg-url@5.0.0 -> tr46@0.0.3 webidl-conversions@3.0.1",
			},
			direct: []string{},
		},
		{
			// v9 snapshots: peer-suffixed versions and keys, an alias.
			path: "testdata/graph/pnpm-v9/pnpm-lock.yaml",
			edges: []string{
				"@isaacs/cliui@8.0.2 -> string-width@4.2.3",
				"@langchain/core@0.2.9 -> decamelize@1.2.0",
				"@langchain/openai@0.1.3 -> @langchain/core@0.2.9 openai@4.52.0",
				"encoding@0.1.13 -> iconv-lite@0.6.3",
				"iconv-lite@0.6.3 -> safer-buffer@2.1.2",
				"node-fetch@2.7.0 -> encoding@0.1.13 whatwg-url@5.0.0",
				"openai@4.52.0 -> node-fetch@2.7.0",
				"whatwg-url@5.0.0 -> tr46@0.0.3 webidl-conversions@3.0.1",
			},
			direct: []string{"@isaacs/cliui@8.0.2", "@langchain/core@0.2.9", "@langchain/openai@0.1.3", "decamelize@1.2.0", "encoding@0.1.13"},
		},
		{
			path: "testdata/graph/pnpm-v6/pnpm-lock.yaml",
			edges: []string{
				"@langchain/core@0.2.9 -> decamelize@1.2.0",
				"@langchain/openai@0.1.3 -> @langchain/core@0.2.9 zod@3.23.8",
				"loose-envify@1.4.0 -> js-tokens@4.0.0",
				"react-dom@18.3.1 -> loose-envify@1.4.0 react@18.3.1 scheduler@0.23.2",
				"react@18.3.1 -> loose-envify@1.4.0",
				"scheduler@0.23.2 -> loose-envify@1.4.0",
			},
			direct: []string{"@langchain/openai@0.1.3", "react-dom@18.3.1"},
		},
		{
			// v5: "/name/version" keys, "_peer" suffixes, "/real/1.2.3" aliases.
			path: "testdata/graph/pnpm-v5/pnpm-lock.yaml",
			edges: []string{
				"loose-envify@1.4.0 -> js-tokens@4.0.0",
				"react-dom@18.2.0 -> loose-envify@1.4.0 react@18.2.0 scheduler@0.23.0",
				"react@18.2.0 -> loose-envify@1.4.0",
				"scheduler@0.23.0 -> loose-envify@1.4.0",
				"wrap-ansi@7.0.0 -> string-width@4.2.3",
			},
		},
		{
			// One entry serves two ranges (@babel/highlight ^7.10.4 and
			// ^7.12.13); two versions of lodash are told apart by range.
			path: "testdata/graph/yarn-classic/yarn.lock",
			edges: []string{
				"@babel/code-frame@7.12.13 -> @babel/highlight@7.13.10",
				"@babel/highlight@7.13.10 -> @babel/helper-validator-identifier@7.12.11 chalk@2.4.2 js-tokens@4.0.0",
				"@babel/template@7.10.4 -> @babel/code-frame@7.12.13 @babel/highlight@7.13.10",
				"chalk@2.4.2 -> escape-string-regexp@1.0.5",
				"rollup@2.79.1 -> fsevents@2.3.2",
				"table@6.8.2 -> lodash@4.17.21 string-width@4.2.3",
				"webpack-cli@1.5.3 -> lodash@3.10.1",
			},
		},
		{
			// Berry: npm: descriptors (one written without the protocol),
			// an alias, a dependency on the patched resolve (the npm entry
			// it patches), a git package, workspaces (no packages).
			path: "testdata/graph/yarn-berry/yarn.lock",
			edges: []string{
				"@huggingface/inference@2.7.0 -> @huggingface/tasks@0.10.6",
				"@isaacs/cliui@8.0.2 -> string-width@4.2.3 string-width@5.1.2",
				"is-core-module@2.13.1 -> hasown@2.0.2",
				"resolve@1.22.8 -> is-core-module@2.13.1",
				"tasks-client@1.0.4 -> @huggingface/tasks@0.10.6 resolve@1.22.8",
				"tokenizer@https://github.com/example/tokenizer.git#commit=0123456789abcdef0123456789abcdef01234567 -> @huggingface/tasks@0.10.6",
			},
			// What the root workspace depends on (the other workspace is
			// local code, no package).
			direct: []string{"@huggingface/inference@2.7.0", "@isaacs/cliui@8.0.2", "resolve@1.22.8",
				"tokenizer@https://github.com/example/tokenizer.git#commit=0123456789abcdef0123456789abcdef01234567"},
		},
		{
			// Names normalised (typing_extensions, Typing.Extensions); of two
			// numpy versions, those the constraint admits; dependencies of
			// extras when present; absent ones dropped.
			path: "testdata/graph/poetry/poetry.lock",
			edges: []string{
				"pandas@2.0.3 -> numpy@1.24.4 numpy@1.26.4",
				"pydantic-core@2.18.4 -> typing-extensions@4.12.2",
				"pydantic@2.7.4 -> annotated-types@0.7.0 pydantic-core@2.18.4 typing-extensions@4.12.2",
				"scipy@1.10.1 -> numpy@1.24.4 numpy@1.26.4",
				"transformers-legacy@0.1.0 -> numpy@1.24.4 typing-extensions@4.12.2",
			},
		},
		{
			// The editable project is no package; its dependencies are the
			// direct ones. Versions pick one of two numpy packages.
			path: "testdata/graph/uv/uv.lock",
			edges: []string{
				"onnxruntime-gpu@1.18.0 -> numpy@1.26.4 numpy@2.0.0",
				"pytest@8.2.2 -> iniconfig@2.0.0 tomli@2.0.1",
				"sentence-transformers@3.0.1 -> numpy@1.26.4 numpy@2.0.0 onnxruntime-gpu@1.18.0 tokenizers@0.19.1",
			},
			direct: []string{"numpy@1.26.4", "numpy@2.0.0", "onnxruntime-gpu@1.18.0", "pytest@8.2.2", "sentence-transformers@3.0.1"},
		},
		{
			// "syn 2.0.66" and "syn 1.0.109 (source)" pick one of two syn
			// versions; the workspace crates (no source) are no packages,
			// and what they depend on is direct.
			path: "testdata/graph/cargo/Cargo.lock",
			edges: []string{
				"derive_builder@0.20.0 -> derive_builder_macro@0.20.0",
				"derive_builder_macro@0.20.0 -> syn@1.0.109",
				"proc-macro2@1.0.85 -> unicode-ident@1.0.12",
				"quote@1.0.36 -> proc-macro2@1.0.85",
				"serde@1.0.203 -> serde_derive@1.0.203",
				"serde_derive@1.0.203 -> proc-macro2@1.0.85 quote@1.0.36 syn@2.0.66",
				"syn@1.0.109 -> proc-macro2@1.0.85 quote@1.0.36 unicode-ident@1.0.12",
				"syn@2.0.66 -> proc-macro2@1.0.85 quote@1.0.36 unicode-ident@1.0.12",
				"tokenizers@0.19.1 -> derive_builder@0.20.0 serde@1.0.203",
			},
			direct: []string{"proc-macro2@1.0.85", "quote@1.0.36", "serde@1.0.203", "syn@2.0.66", "tokenizers@0.19.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, fs, pkgs := parseFile(t, tt.path)
			if len(fs) != 0 {
				t.Errorf("findings: %v", fs)
			}
			if diff := cmp.Diff(tt.edges, graphOf(t, pkgs)); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
			if tt.direct != nil {
				if diff := cmp.Diff(tt.direct, directOf(pkgs), cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
					t.Errorf("direct (-want +got):\n%s", diff)
				}
			}
			if !KindOf(tt.path).RecordsGraph() {
				t.Errorf("%s: RecordsGraph false", KindOf(tt.path))
			}
		})
	}
}

func TestRequiresEdgeCases(t *testing.T) {
	tests := []struct {
		name, file, data string
		edges            []string
	}{
		{
			// A workspace link shadows the hoisted copy; a package inside a
			// workspace folder looks in the workspace's node_modules, then
			// the root's; a malformed entry still shadows.
			name: "npm links and workspaces",
			file: "package-lock.json",
			data: `{"lockfileVersion":3,"packages":{
"":{"workspaces":["packages/*"]},
"packages/ui":{"name":"ui","version":"1.0.0","dependencies":{"react":"^18"}},
"packages/ui/node_modules/react":{"version":"17.0.2","dependencies":{"loose-envify":"^1"}},
"packages/ui/node_modules/bad":{"version":7},
"node_modules/ui":{"resolved":"packages/ui","link":true},
"node_modules/react":{"version":"18.3.1","dependencies":{"loose-envify":"^1","ui":"*"}},
"node_modules/loose-envify":{"version":"1.4.0","dependencies":{"loose-envify":"*","bad":"*","local":"*"}},
"node_modules/local":{"version":"file:../local"}}}`,
			edges: []string{"react@17.0.2 -> loose-envify@1.4.0", "react@18.3.1 -> loose-envify@1.4.0"},
		},
		{
			name:  "npm dependencies of the wrong type",
			file:  "package-lock.json",
			data:  `{"lockfileVersion":2,"packages":{"node_modules/a":{"version":"1.0.0","dependencies":["b"],"peerDependencies":"b","optionalDependencies":{"b":1}},"node_modules/b":{"version":"2.0.0"}}}`,
			edges: []string{"a@1.0.0 -> b@2.0.0"},
		},
		{
			name:  "npm v1 requires true and unresolved",
			file:  "package-lock.json",
			data:  `{"lockfileVersion":1,"requires":true,"dependencies":{"a":{"version":"1.0.0","requires":{"b":"^1","missing":"^1"}},"b":{"version":"1.0.0","requires":true},"c":{"version":"file:../c","requires":{"a":"*"}}}}`,
			edges: []string{"a@1.0.0 -> b@1.0.0"},
		},
		{
			name:  "pnpm link and missing",
			file:  "pnpm-lock.yaml",
			data:  "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: x}\n  b@2.0.0:\n    resolution: {integrity: y}\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: 2.0.0\n      c: link:../c\n      d: 1.0.0\n  zz@9.9.9:\n    dependencies:\n      a: 1.0.0\n",
			edges: []string{"a@1.0.0 -> b@2.0.0"},
		},
		{
			name:  "yarn unknown descriptor and workspace",
			file:  "yarn.lock",
			data:  "a@^1:\n  version \"1.0.0\"\n  dependencies:\n    b \"^2\"\n    c \"^3\"\n\nb@^2:\n  version \"2.0.0\"\n  dependencies:\n    a \"^1\"\n",
			edges: []string{"a@1.0.0 -> b@2.0.0", "b@2.0.0 -> a@1.0.0"},
		},
		{
			// Ambiguous references (two crates of the name, two uv
			// packages without a version) are dropped, not guessed.
			name:  "cargo ambiguous",
			file:  "Cargo.lock",
			data:  "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://x\"\ndependencies = [\"b\", \"b 2.0.0\", \"c 1.0.0 (registry+https://other)\", \"\", \"a\"]\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://x\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+https://x\"\n\n[[package]]\nname = \"c\"\nversion = \"1.0.0\"\nsource = \"registry+https://x\"\n",
			edges: []string{"a@1.0.0 -> b@2.0.0"},
		},
		{
			name:  "uv ambiguous",
			file:  "uv.lock",
			data:  "version = 1\n\n[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\ndependencies = [{ name = \"B\" }, { name = \"b\", version = \"3.0\" }, { name = \"c\" }]\n\n[[package]]\nname = \"b\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"b\"\nversion = \"2.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"C\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
			edges: []string{"a@1.0 -> c@1.0"},
		},
		{
			name:  "poetry dependencies of the wrong type",
			file:  "poetry.lock",
			data:  "[[package]]\nname = \"a\"\nversion = \"1.0\"\ndependencies = 5\n\n[[package]]\nname = \"b\"\nversion = \"1.0\"\n\n[package.dependencies]\na = 7\nc = \"*\"\n",
			edges: []string{"b@1.0 -> a@1.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, _, err := Parse(filepath.Join(t.TempDir(), tt.file), []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.edges, graphOf(t, pkgs)); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoetryAllows(t *testing.T) {
	tests := []struct {
		con, v string
		want   bool
	}{
		{">=1.20.3", "1.24.4", true},
		{">=1.19.5,<1.27.0", "1.26.4", true},
		{">=1.19.5,<1.27.0", "2.0.0", false},
		{">=1.6.0,<1.7.0 || >1.7.0", "1.7.0", false},
		{">=1.6.0,<1.7.0 || >1.7.0", "1.7.1", true},
		{"^1.24", "1.26.0", true},
		{"^1.24,<1.25", "1.26.0", false},
		{"^0.2.3", "0.3.0", false},
		{"^0.2.3", "0.2.9", true},
		{"~1.2.3", "1.3.0", false},
		{"~1.2.3", "1.2.7", true},
		{"~=2.2", "2.9", true},
		{"~=2.2", "3.0", false},
		{"~=1.4.5", "1.5.0", false},
		{"==1.4.*", "1.4.9", true},
		{"==1.4.*", "1.5.0", false},
		{"!=1.4.*", "1.5.0", true},
		{"1.2.3", "1.2.3", true},
		{"1.2.3", "1.2.4", false},
		{"*", "0.0.1", true},
		{"", "0.0.1", true},
		{">=not a version", "1.0", true}, // unreadable: admit
	}
	for _, tt := range tests {
		if got := poetryAllows(tt.con, tt.v); got != tt.want {
			t.Errorf("poetryAllows(%q, %q) = %v, want %v", tt.con, tt.v, got, tt.want)
		}
	}
}

func TestKeyAndRecordsGraph(t *testing.T) {
	if k := (Package{Name: "a", Version: "1.0"}).Key(); k != "a@1.0" {
		t.Errorf("Key = %q", k)
	}
	if k := (Package{Name: "a", Spec: "git+https://x#0123"}).Key(); k != "a@git+https://x#0123" {
		t.Errorf("Key without version = %q", k)
	}
	for _, k := range []Kind{KindRequirements, KindConstraints, KindPyproject, KindPipfile, KindPipfileLock, KindCondaEnv, KindGoMod, KindGoSum, KindUnknown} {
		if k.RecordsGraph() {
			t.Errorf("%q records a graph", k)
		}
	}
	// Files without a graph leave Requires empty.
	for _, path := range []string{"testdata/pipenv/Pipfile.lock", "testdata/gomod/go.mod", "testdata/training/requirements.txt"} {
		_, _, pkgs := parseFile(t, path)
		for _, p := range pkgs {
			if p.Requires != nil {
				t.Errorf("%s: %s requires %v", path, p.Name, p.Requires)
			}
		}
	}
}

// TestGraphLimits checks the bounds on hostile input: requirements per
// package and edges per file are capped with a deps.limit finding, and a
// node_modules path nested deeper than Node would ever install resolves
// nothing instead of walking up through every folder.
func TestGraphLimits(t *testing.T) {
	oldReq, oldEdges := maxRequires, maxEdges
	t.Cleanup(func() { maxRequires, maxEdges = oldReq, oldEdges })
	maxRequires, maxEdges = 5, 12

	var b strings.Builder
	b.WriteString(`{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.0","dependencies":{`)
	for i := range 10 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"p%d":"*"`, i)
	}
	b.WriteString(`}},"node_modules/b":{"version":"1.0.0","dependencies":{`)
	for i := range 10 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"p%d":"*"`, i)
	}
	b.WriteString(`}}`)
	for i := range 10 {
		fmt.Fprintf(&b, `,"node_modules/p%d":{"version":"1.0.0"}`, i)
	}
	b.WriteString("}}")
	pkgs, fs, err := Parse("package-lock.json", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkGraph(pkgs); err != nil {
		t.Fatal(err)
	}
	// a's 10 edges are recorded and cut to 5 when linked; b gets the 2
	// edges left under the file's 12.
	got := graphOf(t, pkgs)
	want := []string{"a@1.0.0 -> p0@1.0.0 p1@1.0.0 p2@1.0.0 p3@1.0.0 p4@1.0.0", "b@1.0.0 -> p0@1.0.0 p1@1.0.0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	var limits int
	for _, f := range fs {
		if f.RuleID == ruleLimit.ID {
			limits++
		}
	}
	if limits != 2 { // a's requirements, the file's edges
		t.Errorf("%d limit findings, want 2: %v", limits, fs)
	}

	maxRequires, maxEdges = oldReq, oldEdges
	deep := strings.Repeat("node_modules/x/", maxPathSegments) + "node_modules/y"
	data := fmt.Sprintf(`{"lockfileVersion":3,"packages":{%q:{"version":"1.0.0","dependencies":{"z":"*"}},"node_modules/z":{"version":"1.0.0"},"node_modules/w":{"version":"1.0.0","dependencies":{"z":"*"}}}}`, deep)
	pkgs, _, err = Parse("package-lock.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := graphOf(t, pkgs); !slices.Equal(got, []string{"w@1.0.0 -> z@1.0.0"}) {
		t.Errorf("edges %v", got)
	}
}

// TestGraphLinear guards against resolution that rescans the file per
// dependency: a lockfile of 30,000 packages, each with 3 dependencies and
// a tenth with nested copies, resolves in well under a minute.
func TestGraphLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	pkgs, fs, err := Parse("package-lock.json", syntheticGraphLock(30_000))
	if err != nil || len(fs) != 0 {
		t.Fatalf("%d findings, %v", len(fs), err)
	}
	if err := checkGraph(pkgs); err != nil {
		t.Fatal(err)
	}
	// node_modules/p0/node_modules/p1 (2.0.0) shadows the hoisted p1 for p0.
	for _, p := range pkgs {
		if p.Name == "p0" && !slices.Contains(p.Requires, "p1@2.0.0") {
			t.Errorf("p0 requires %v, want the nested p1@2.0.0", p.Requires)
		}
	}
}

func TestJSONObjectKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`{"b":"^1","a":"*"}`, []string{"a", "b"}},
		{` {"a": {"x": 1, "y": [ "z", {"w": 2} ]}, "b,\"c": "{\"d\":1}", "e\u0041": null}`, nil},
		{`{}`, nil},
		{`["a","b"]`, nil},
		{`"a"`, nil},
		{`{"a":1,"a":2}`, []string{"a"}},
	}
	tests[1].want = []string{"a", "b,\"c", "eA"}
	for _, tt := range tests {
		got := jsonObjectKeys(json.RawMessage(strings.TrimSpace(tt.in)))
		if !slices.Equal(got, tt.want) {
			t.Errorf("jsonObjectKeys(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestGraphFieldsLoose checks that dependency lists of an unexpected shape
// cost the edges, not the packages: a file the parsers accepted before they
// read the graph is still accepted.
func TestGraphFieldsLoose(t *testing.T) {
	for _, tt := range []struct{ file, data string }{
		{"Cargo.lock", "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://x\"\ndependencies = 5\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://x\"\ndependencies = [1, \"a\"]\n"},
		{"poetry.lock", "[[package]]\nname = \"a\"\nversion = \"1.0\"\ndependencies = [1]\n\n[[package]]\nname = \"b\"\nversion = \"1.0\"\ndependencies = { a = [1, { version = 2 }] }\n"},
	} {
		pkgs, fs, err := Parse(filepath.Join(t.TempDir(), tt.file), []byte(tt.data))
		if err != nil || len(fs) != 0 || len(pkgs) != 2 {
			t.Errorf("%s: %d packages, findings %v, %v", tt.file, len(pkgs), fs, err)
		}
		if err := checkGraph(pkgs); err != nil {
			t.Error(err)
		}
	}
}

// TestNPMWorkspaceDirect: what a workspace folder depends on is a direct
// dependency of the project, found from the folder as Node finds it (its
// own node_modules first, then the root's); what only those packages
// depend on is not.
func TestNPMWorkspaceDirect(t *testing.T) {
	data := `{"lockfileVersion":3,"packages":{
"":{"workspaces":["packages/*"],"dependencies":{"lodash":"^4"}},
"packages/ui":{"name":"ui","version":"1.0.0","dependencies":{"react":"^17"},"devDependencies":{"jest":"^29"}},
"packages/api":{"name":"api","version":"1.0.0","dependencies":{"react":"^18","express":"^4"}},
"packages/ui/node_modules/react":{"version":"17.0.2","dependencies":{"loose-envify":"^1"}},
"node_modules/ui":{"resolved":"packages/ui","link":true},
"node_modules/api":{"resolved":"packages/api","link":true},
"node_modules/react":{"version":"18.3.1","dependencies":{"loose-envify":"^1"}},
"node_modules/express":{"version":"4.19.2"},
"node_modules/jest":{"version":"29.7.0","dev":true},
"node_modules/lodash":{"version":"4.17.21"},
"node_modules/loose-envify":{"version":"1.4.0"}}}`
	pkgs, _, err := Parse(filepath.Join(t.TempDir(), "package-lock.json"), []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var direct, indirect []string
	for _, p := range pkgs {
		if p.Direct {
			direct = append(direct, p.Key())
		} else {
			indirect = append(indirect, p.Key())
		}
	}
	slices.Sort(direct)
	slices.Sort(indirect)
	if diff := cmp.Diff([]string{"express@4.19.2", "jest@29.7.0", "lodash@4.17.21", "react@17.0.2", "react@18.3.1"}, direct); diff != "" {
		t.Errorf("direct (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"loose-envify@1.4.0"}, indirect); diff != "" {
		t.Errorf("indirect (-want +got):\n%s", diff)
	}
}
