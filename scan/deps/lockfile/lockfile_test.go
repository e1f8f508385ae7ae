package lockfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rampartsec/rampart/finding"
)

// summary renders a package compactly: ecosystem, name, version, flags
// (p pinned, d direct, v dev), hash count, line and, for a package from
// another file, that file's base name.
func summary(p Package, main string) string {
	flags := ""
	for _, f := range []struct {
		on bool
		c  string
	}{{p.Pinned, "p"}, {p.Direct, "d"}, {p.Dev, "v"}} {
		if f.on {
			flags += f.c
		}
	}
	s := fmt.Sprintf("%s %s %s %s h%d L%d", p.Ecosystem, p.Name, p.Version, flags, len(p.Hashes), p.Line)
	if p.File != main {
		s += " " + filepath.Base(p.File)
	}
	return s
}

func parseFile(t *testing.T, path string) ([]string, []string, []Package) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, fs, err := Parse(path, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	var got, gotF []string
	for _, p := range pkgs {
		got = append(got, summary(p, path))
		if p.File == "" || p.PURL == "" && p.Name != "" {
			t.Errorf("%s: package %s without File or PURL", path, p.Name)
		}
	}
	for _, f := range fs {
		s := fmt.Sprintf("%s %s:%d", f.RuleID, filepath.Base(f.Location.Path), f.Location.Line)
		gotF = append(gotF, s)
		if f.Layer != family.Layer || f.Detector != detector || f.Message == "" {
			t.Errorf("%s: finding %s lacks layer, detector or message: %+v", path, s, f)
		}
	}
	return got, gotF, pkgs
}

func TestParse(t *testing.T) {
	tests := []struct {
		path     string
		pkgs     []string
		findings []string
	}{
		{
			// A PyTorch/transformers training repo: includes, constraints,
			// markers, continuations, hashes on one requirement only, VCS
			// and wheel URLs, an editable install of the project itself.
			path: "testdata/training/requirements.txt",
			pkgs: []string{
				"PyPI numpy 1.26.4 pd h0 L1 requirements-base.txt",
				"PyPI scipy 1.13.1 pd h0 L2 requirements-base.txt",
				"PyPI sentencepiece 0.2.0 pd h0 L3 requirements-base.txt",
				"PyPI tokenizers  d h0 L4 requirements-base.txt",
				"PyPI pyyaml 6.0.1 pd h0 L5 requirements-base.txt",
				"PyPI datasets 2.19.2 p h0 L2 constraints.txt",
				"PyPI huggingface-hub 0.23.4 p h0 L3 constraints.txt",
				"PyPI tokenizers 0.19.1 p h0 L4 constraints.txt",
				"PyPI torch 2.3.1+cu121 pd h0 L7",
				"PyPI torchvision 0.18.1+cu121 pd h0 L8",
				"PyPI transformers 4.41.2 pd h2 L9",
				"PyPI accelerate  d h0 L12",
				"PyPI peft  d h0 L13",
				"PyPI bitsandbytes 0.43.1 pd h0 L14",
				"PyPI flash-attn 2.5.9.post1 pd h0 L15",
				"PyPI datasets  d h0 L16",
				"PyPI trl  d h0 L17",
				"PyPI deepspeed  pd h0 L18",
				"PyPI causal-conv1d  pd h0 L19",
				"PyPI wandb  d h0 L20",
			},
			findings: []string{
				// datasets (L16) and tokenizers are pinned by constraints.txt.
				"deps.unpinned .:12", "deps.unpinned .:13", "deps.unpinned .:17", "deps.unpinned .:20",
				"deps.no-hash requirements-base.txt:1", "deps.no-hash requirements-base.txt:2",
				"deps.no-hash requirements-base.txt:3", "deps.no-hash requirements-base.txt:5",
				"deps.no-hash .:7", "deps.no-hash .:8", "deps.no-hash .:14", "deps.no-hash .:15",
				"deps.no-hash .:18", "deps.no-hash .:19",
			},
		},
		{
			path: "testdata/cycle/requirements-a.txt",
			pkgs: []string{
				"PyPI requests 2.32.3 pd h0 L1",
				"PyPI urllib3 2.2.2 pd h0 L1 requirements-b.txt",
			},
			findings: []string{
				"deps.malformed requirements-b.txt:2", // the cycle back to a
				"deps.malformed requirements-b.txt:3", // missing include
				"deps.malformed requirements-b.txt:4", // empty marker
			},
		},
		{
			path: "testdata/hashes/requirements.txt",
			pkgs: []string{
				"PyPI anyio 4.4.0 pd h2 L4",
				"PyPI fastapi 0.111.0 pd h1 L8",
				"PyPI starlette 0.37.2 pd h0 L10",
				"PyPI uvicorn  d h0 L11",
			},
			findings: []string{"deps.unpinned .:11", "deps.no-hash .:10"},
		},
		{
			path:     "testdata/hashes/strict/requirements.txt",
			pkgs:     []string{"PyPI pydantic 2.7.4 pd h1 L2", "PyPI pydantic-core 2.18.4 pd h0 L3"},
			findings: []string{"deps.no-hash .:3"},
		},
		{
			path: "testdata/training/environment.yml",
			pkgs: []string{
				"conda python 3.10.14 pd h0 L7",
				"conda pip 24.0 pd h0 L8",
				"conda pytorch 2.3.1 pd h0 L9",
				"conda pytorch-cuda 12.1 pd h0 L10",
				"conda cudatoolkit  d h0 L11",
				"conda numpy  d h0 L12",
				"conda jupyterlab 4.2.2 pd h0 L13",
				"PyPI transformers 4.41.2 pd h0 L15",
				"PyPI sentence-transformers  d h0 L16",
				"PyPI numpy 1.26.4 pd h0 L1 requirements-base.txt",
				"PyPI scipy 1.13.1 pd h0 L2 requirements-base.txt",
				"PyPI sentencepiece 0.2.0 pd h0 L3 requirements-base.txt",
				"PyPI tokenizers  d h0 L4 requirements-base.txt",
				"PyPI pyyaml 6.0.1 pd h0 L5 requirements-base.txt",
			},
			findings: []string{"deps.unpinned .:11", "deps.unpinned .:12", "deps.unpinned .:16", "deps.unpinned requirements-base.txt:4"},
		},
		{
			// Poetry project with a lock next to it: no unpinned findings.
			path: "testdata/inference/pyproject.toml",
			pkgs: []string{
				"PyPI fastapi  d h0 L10",
				"PyPI pydantic 2.7.4 pd h0 L12",
				"PyPI uvicorn 0.30.1 pd h0 L11",
				"PyPI vllm  d h0 L13",
				"PyPI httpx 0.27.0 pdv h0 L17",
				"PyPI pytest  dv h0 L16",
			},
		},
		{
			path: "testdata/inference/poetry.lock",
			pkgs: []string{
				"PyPI annotated-types 0.7.0 p h2 L3",
				"PyPI fastapi 0.111.0 pd h2 L14",
				"PyPI pydantic-core 2.18.4 p h1 L32",
				"PyPI pytest 8.2.2 pdv h1 L42",
				"PyPI vllm 0.5.0 pd h0 L52",
			},
		},
		{
			path: "testdata/uvsvc/pyproject.toml",
			pkgs: []string{
				"PyPI fastapi  d h0 L6",
				"PyPI sentence-transformers 3.0.1 pd h0 L7",
				"PyPI onnxruntime-gpu  d h0 L11",
				"PyPI pytest  dv h0 L14",
				"PyPI ruff 0.5.0 pdv h0 L15",
			},
		},
		{
			path: "testdata/uvsvc/uv.lock",
			pkgs: []string{
				"PyPI fastapi 0.111.0 pd h2 L23",
				"PyPI pytest 8.2.2 pdv h1 L36",
				"PyPI sentence-transformers 3.0.1 pd h1 L44",
				"PyPI starlette 0.37.2 p h1 L50",
			},
		},
		{
			// A library without a lockfile: ranges are reported.
			path: "testdata/library/pyproject.toml",
			pkgs: []string{
				"PyPI langchain-core  d h0 L9",
				"PyPI openai 1.35.3 pd h0 L10",
				"PyPI tiktoken  d h0 L11",
				"PyPI faiss-cpu  pd h0 L12",
				"PyPI ragas  d h0 L16",
				"PyPI numpy 1.26.4 pd h0 L16",
			},
			findings: []string{"deps.unpinned .:9", "deps.unpinned .:11", "deps.unpinned .:16"},
		},
		{
			path: "testdata/pipenv/Pipfile.lock",
			pkgs: []string{
				"PyPI openai 1.35.3 p h1 L19",
				"PyPI tiktoken 0.7.0 p h2 L27",
				"PyPI black 24.4.2 pv h0 L40",
			},
		},
		{
			path: "testdata/gomod/go.mod",
			pkgs: []string{
				"Go stdlib 1.22.5 p h0 L3",
				"Go github.com/gin-gonic/gin v1.10.0 pd h0 L8",
				"Go github.com/sashabaranov/go-openai v1.26.0 pd h0 L9",
				"Go golang.org/x/crypto v0.24.0 p h0 L10",
				"Go google.golang.org/grpc v1.64.1 pd h0 L11", // replaced
				"Go github.com/bytedance/sonic v1.11.6 p h0 L15",
			},
		},
		{
			path: "testdata/gomod/go.sum",
			pkgs: []string{
				"Go github.com/bytedance/sonic v1.11.6 p h1 L1",
				"Go github.com/gin-gonic/gin v1.10.0 p h1 L3",
				"Go github.com/sashabaranov/go-openai v1.26.0 p h1 L5",
				"Go golang.org/x/crypto v0.24.0 p h1 L8",
				"Go google.golang.org/grpc v1.64.1 p h1 L10",
			},
		},
		{
			path: "testdata/npm/package-lock.json",
			pkgs: []string{
				"npm @anthropic-ai/sdk 0.24.3 pd h1 L19",
				"npm left-pad-fork 1.3.1 pd h1 L27",
				"npm node-fetch 2.7.0 p h1 L33",
				"npm openai 4.52.0 pd h1 L38",
				"npm node-fetch 2.6.7 p h1 L46",
				"npm vitest 1.6.0 pdv h1 L51",
			},
		},
		{
			path: "testdata/pnpm/pnpm-lock.yaml",
			pkgs: []string{
				"npm @langchain/core 0.2.9 pd h1 L24",
				"npm openai 4.52.0 pd h1 L28",
				"npm typescript 5.4.5 pdv h1 L32",
			},
		},
		{
			path: "testdata/pnpm/v6-pnpm-lock.yaml",
			pkgs: []string{
				"npm eslint 8.57.0 pdv h1 L15",
				"npm react 18.3.1 pd h1 L19",
				"npm @types/react 18.3.3 pv h1 L23",
			},
		},
		{
			path: "testdata/yarn-berry/yarn.lock",
			pkgs: []string{
				"npm @huggingface/inference 2.7.0 pd h1 L8",
				"npm @huggingface/tasks 0.10.6 p h1 L17",
				"npm resolve 1.22.8 p h1 L32",
				"npm tokenizer  p h0 L45",
			},
		},
		{
			path: "testdata/yarn-classic/yarn.lock",
			pkgs: []string{
				"npm @babel/code-frame 7.12.13 p h1 L5",
				"npm lodash 4.17.21 p h1 L12",
			},
		},
		{
			// The workspace crate (embedder, no source) depends on
			// candle-core and tokenizers: they are direct.
			path: "testdata/rust/Cargo.lock",
			pkgs: []string{
				"crates.io candle-core 0.6.0 pd h1 L5",
				"crates.io safetensors 0.4.3 p h1 L22",
				"crates.io tokenizers 0.19.1 pd h0 L28",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, gotF, _ := parseFile(t, tt.path)
			if diff := cmp.Diff(tt.pkgs, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.findings, gotF); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPURLAndHashes(t *testing.T) {
	_, _, pkgs := parseFile(t, "testdata/npm/package-lock.json")
	if pkgs[0].PURL != "pkg:npm/%40anthropic-ai/sdk@0.24.3" {
		t.Errorf("scoped npm purl = %q", pkgs[0].PURL)
	}
	_, _, pkgs = parseFile(t, "testdata/training/requirements.txt")
	i := slices.IndexFunc(pkgs, func(p Package) bool { return p.Name == "transformers" })
	want := []string{
		"sha256:05555d20e43f808de1ef211ab64803cdb513170cef70d29a888b589caebefc67",
		"sha256:9a4df2b5a6ff9e8fb2ba4e0d5c3e6f1b48a1c6c20b2e0e4f2a40c5d2b1a0f3e7",
	}
	if diff := cmp.Diff(want, pkgs[i].Hashes); diff != "" {
		t.Errorf("hashes (-want +got):\n%s", diff)
	}
	if pkgs[i].PURL != "pkg:pypi/transformers@4.41.2" || pkgs[i].Spec != "==4.41.2" {
		t.Errorf("transformers: purl %q spec %q", pkgs[i].PURL, pkgs[i].Spec)
	}
	_, _, pkgs = parseFile(t, "testdata/rust/Cargo.lock")
	if pkgs[0].Hashes[0] != "sha256:d5b18de020c2729dbf7ac390325312644808b6ba9b7962f1f724e9185b1d53c7" {
		t.Errorf("cargo checksum = %v", pkgs[0].Hashes)
	}
}

func TestParsePEP508(t *testing.T) {
	tests := []struct {
		in                    string
		name, spec, markers   string
		url, pinned, wantErrs bool
	}{
		{in: "torch==2.3.1", name: "torch", spec: "==2.3.1", pinned: true},
		{in: "Torch_Vision == 0.18.1 ; python_version>='3.9'", name: "Torch_Vision", spec: "==0.18.1", markers: "python_version>='3.9'", pinned: true},
		{in: "transformers[torch] (>=4.40, <5)", name: "transformers", spec: ">=4.40,<5"},
		{in: "numpy==1.26.*", name: "numpy", spec: "==1.26.*"},
		{in: "numpy===1.26.4", name: "numpy", spec: "===1.26.4", pinned: true},
		{in: "numpy==1.26.4,!=1.26.3", name: "numpy", spec: "==1.26.4,!=1.26.3"},
		{in: "pkg @ https://x/pkg-1.0.tar.gz ; os_name == 'nt'", name: "pkg", spec: "https://x/pkg-1.0.tar.gz", markers: "os_name == 'nt'", url: true},
		{in: "pkg >= ", wantErrs: true},
		{in: "==1.0", wantErrs: true},
		{in: "pkg (>=1", wantErrs: true},
		{in: "pkg @ ", wantErrs: true},
	}
	for _, tt := range tests {
		r, err := parsePEP508(tt.in)
		if (err != nil) != tt.wantErrs {
			t.Errorf("parsePEP508(%q) error = %v, want error %v", tt.in, err, tt.wantErrs)
			continue
		}
		if err != nil {
			continue
		}
		_, pinned := exactVersion(r.spec)
		if r.name != tt.name || r.spec != tt.spec || r.markers != tt.markers || r.url != tt.url || (!r.url && pinned != tt.pinned) {
			t.Errorf("parsePEP508(%q) = %+v pinned %v", tt.in, r, pinned)
		}
	}
}

func TestParseCondaSpec(t *testing.T) {
	tests := []struct {
		in, name, version string
		pinned            bool
	}{
		{"numpy", "numpy", "", false},
		{"numpy=1.26.4", "numpy", "1.26.4", true},
		{"numpy==1.26.4", "numpy", "1.26.4", true},
		{"conda-forge::NumPy=1.26.4=py311h64a7726_0", "numpy", "1.26.4", true},
		{"numpy 1.26.4 py311h64a7726_0", "numpy", "1.26.4", true},
		{"numpy=1.26.*", "numpy", "", false},
		{"numpy>=1.26,<2", "numpy", "", false},
	}
	for _, tt := range tests {
		p, err := parseCondaSpec(tt.in)
		if err != nil || p.Name != tt.name || p.Version != tt.version || p.Pinned != tt.pinned {
			t.Errorf("parseCondaSpec(%q) = %+v, %v", tt.in, p, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		path, data string
		line       int
	}{
		{"requirements.txt", "requests==2.32.3\n!!!bad\n", 2},
		{"requirements.txt", "flask --hash=md5\n", 1},
		{"pyproject.toml", "[project]\ndependencies = [\"ok==1\",\n  \"bad (\"]\n", 3},
		{"pyproject.toml", "[project\n", 2},
		{"poetry.lock", "[[package]]\nname = \"x\"\n", 1},
		{"uv.lock", "version = 1\n[[package]]\nversion = \"1.0\"\n", 2},
		{"Cargo.lock", "[[package]]\nname = 1\n", 2},
		{"Pipfile.lock", "{\"_meta\": {}, \"default\": {\"x\": {\"version\": \">=1\"}}}", 1},
		{"Pipfile.lock", "{\"_meta\": {},\n\"default\": [", 2},
		{"go.mod", "module x\n\nrequire foo\n", 3},
		{"go.mod", "module x\nrequire (\n", 0},
		{"go.sum", "a v1.0.0 h1:x=\nbroken\n", 2},
		{"package-lock.json", "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": {}}}", 1},
		{"pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  nonsense: {}\n", 3},
		{"yarn.lock", "# yarn lockfile v1\n\nlodash@^4:\n  resolved \"x\"\n", 3},
		{"environment.yml", "name: x\ndependencies:\n  - \"!!\"\n", 3},
		{"environment.yml", "dependencies: [a\n", 0},
	}
	for _, tt := range tests {
		_, fs, err := Parse(tt.path, []byte(tt.data))
		if err != nil {
			t.Errorf("%s %q: error %v", tt.path, tt.data, err)
			continue
		}
		i := slices.IndexFunc(fs, func(f finding.Finding) bool { return f.RuleID == "deps.malformed" })
		if i < 0 {
			t.Errorf("%s %q: no deps.malformed finding in %v", tt.path, tt.data, fs)
			continue
		}
		if tt.line != 0 && fs[i].Location.Line != tt.line {
			t.Errorf("%s %q: malformed at line %d, want %d (%s)", tt.path, tt.data, fs[i].Location.Line, tt.line, fs[i].Message)
		}
	}
}

func TestKindAndErrors(t *testing.T) {
	kinds := map[string]Kind{
		"requirements.txt": KindRequirements, "requirements-dev.txt": KindRequirements,
		"dev-requirements.txt": KindRequirements, "requirements/test.txt": KindRequirements,
		"requirements.in": KindRequirements, "notes.txt": KindUnknown,
		"environment.yml": KindCondaEnv, "environment-gpu.yaml": KindCondaEnv,
		"npm-shrinkwrap.json": KindPackageLock, "package.json": KindUnknown,
		"x/Cargo.lock": KindCargoLock, "go.work": KindUnknown,
	}
	for path, want := range kinds {
		if got := KindOf(path); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", path, got, want)
		}
	}
	if _, _, err := Parse("README.md", []byte("# hello")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("README.md: err = %v, want ErrUnsupported", err)
	}
	// Content decides for an unknown name.
	pkgs, _, err := Parse("lock", []byte("# yarn lockfile v1\n\nleft-pad@^1:\n  version \"1.3.0\"\n"))
	if err != nil || len(pkgs) != 1 || pkgs[0].Name != "left-pad" {
		t.Errorf("sniffed yarn.lock: %v %v", pkgs, err)
	}
	big := make([]byte, MaxFileSize+1)
	if _, _, err := Parse("requirements.txt", big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: err = %v, want ErrTooLarge", err)
	}
}

func TestIncludeDepthLimit(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < MaxIncludeDepth+3; i++ {
		body := fmt.Sprintf("pkg%d==1.0\n-r requirements-%d.txt\n", i, i+1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("requirements-%d.txt", i)), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "requirements-0.txt")
	data, _ := os.ReadFile(path)
	pkgs, fs, err := Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != MaxIncludeDepth+1 {
		t.Errorf("read %d files, want %d", len(pkgs), MaxIncludeDepth+1)
	}
	if !slices.ContainsFunc(fs, func(f finding.Finding) bool { return f.RuleID == "deps.limit" }) {
		t.Errorf("no deps.limit finding: %v", fs)
	}
}

func TestFind(t *testing.T) {
	got, err := Find(context.Background(), "testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"testdata/npm/package-lock.json", "testdata/training/constraints.txt", "testdata/gomod/go.sum", "testdata/training/environment.yml"} {
		if !slices.Contains(got, want) {
			t.Errorf("Find missed %s", want)
		}
	}
	dir := t.TempDir()
	for _, p := range []string{"node_modules/x/package-lock.json", ".venv/requirements.txt", "vendor/go.mod", ".git/go.mod", "app/requirements.txt", "app/README.md"} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err = Find(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "app/requirements.txt")}; !slices.Equal(got, want) {
		t.Errorf("Find = %v, want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Find(ctx, "testdata"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Find: err = %v", err)
	}
}

func TestRules(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "deps.") || ids[r.ID] || r.Layer != family.Layer {
			t.Errorf("bad or duplicate rule %+v", r)
		}
		ids[r.ID] = true
	}
	for _, id := range []string{"deps.unpinned", "deps.no-hash", "deps.malformed"} {
		if !ids[id] {
			t.Errorf("Rules lacks %s", id)
		}
	}
}

func TestPoetryMultipleConstraints(t *testing.T) {
	data := []byte(`[tool.poetry.dependencies]
numpy = [
    { version = "1.24.4", python = "<3.9" },
    { version = "1.26.4", python = ">=3.9" },
]
`)
	pkgs, fs, err := Parse(filepath.Join(t.TempDir(), "pyproject.toml"), data)
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("Parse: %v %v", pkgs, err)
	}
	if p := pkgs[0]; p.Name != "numpy" || p.Pinned || p.Spec != "1.24.4 || 1.26.4" || p.Line != 2 {
		t.Errorf("package = %+v", p)
	}
	if len(fs) != 1 || fs[0].RuleID != "deps.unpinned" {
		t.Errorf("findings = %v", fs)
	}
}

func TestRequirementsInLockedByTxt(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "requirements.in")
	data := []byte("fastapi>=0.111\n")
	_, fs, _ := Parse(in, data)
	if len(fs) != 1 {
		t.Fatalf("without requirements.txt: findings %v, want one deps.unpinned", fs)
	}
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("fastapi==0.111.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, fs, _ = Parse(in, data); len(fs) != 0 {
		t.Errorf("with the compiled requirements.txt: findings %v, want none", fs)
	}
}
