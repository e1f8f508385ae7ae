package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

func TestScanModelCommand(t *testing.T) {
	dir := t.TempDir()
	evil := filepath.Join(dir, "evil.pkl")
	if err := os.WriteFile(evil, pickletest.New(2).Call("os", "system", pickletest.S("id")).Stop().Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	clean := filepath.Join(dir, "clean")
	os.Mkdir(clean, 0o755)
	if err := os.WriteFile(filepath.Join(clean, "model.pt"), pickletest.TorchDataPkl([]pickletest.Tensor{{Name: "w", Shape: []int64{2, 2}}}), 0o644); err != nil {
		t.Fatal(err)
	}

	out, code := run(t, newScanCmd(), "", "model", "--format", "json", evil)
	if code != 1 {
		t.Fatalf("exit %d for a malicious pickle, want 1:\n%s", code, out)
	}
	var doc struct {
		Findings []struct {
			Severity string `json:"severity"`
			RuleID   string `json:"rule_id"`
			Location struct {
				Path   string `json:"path"`
				Offset int64  `json:"offset"`
			} `json:"location"`
			Excerpt string `json:"excerpt"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, out)
	}
	if len(doc.Findings) == 0 || doc.Findings[0].Severity != "critical" || doc.Findings[0].RuleID != "model.pickle.dangerous-global" ||
		doc.Findings[0].Location.Path != evil || doc.Findings[0].Excerpt != "os.system" {
		t.Errorf("first finding %+v", doc.Findings)
	}

	if out, code := run(t, newScanCmd(), "", "model", clean); code != 0 {
		t.Errorf("exit %d for a clean checkpoint, want 0:\n%s", code, out)
	}
	if out, code := run(t, newScanCmd(), "", "model", "--fail-on", "none", evil); code != 0 {
		t.Errorf("--fail-on none: exit %d:\n%s", code, out)
	}
	if out, code := run(t, newScanCmd(), "", "model", "--fail-on", "severe", evil); code != 2 || !strings.Contains(out, "--fail-on") {
		t.Errorf("bad --fail-on: exit %d:\n%s", code, out)
	}
	if out, code := run(t, newScanCmd(), "", "model", filepath.Join(dir, "missing")); code != 2 || !strings.Contains(out, "missing") {
		t.Errorf("missing path: exit %d:\n%s", code, out)
	}
	sarif := filepath.Join(dir, "report.sarif")
	if out, code := run(t, newScanCmd(), "", "model", "--format", "sarif", "-o", sarif, dir); code != 1 {
		t.Errorf("sarif: exit %d:\n%s", code, out)
	}
	b, err := os.ReadFile(sarif)
	if err != nil || !strings.Contains(string(b), `"ruleId": "model.pickle.dangerous-global"`) {
		t.Errorf("SARIF report lacks the rule (%v):\n%.400s", err, b)
	}
}

func TestScanDepsCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "vulndb")
	export := filepath.Join("..", "..", "scan", "deps", "osv", "testdata", "export")
	repo := filepath.Join("..", "..", "scan", "deps", "testdata", "mlrepo")
	if out, code := run(t, newVulnDBCmd(), "", "import", export, "--db", db); code != 0 || !strings.Contains(out, "malicious") {
		t.Fatalf("vulndb import: exit %d:\n%s", code, out)
	}
	out, code := run(t, newScanCmd(), "", "deps", repo, "--vulndb", db, "--format", "json")
	if code != 1 {
		t.Fatalf("scan deps: exit %d:\n%s", code, out)
	}
	var doc struct {
		Findings []struct {
			RuleID   string `json:"rule_id"`
			Severity string `json:"severity"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, f := range doc.Findings {
		ids[f.RuleID] = true
	}
	for _, want := range []string{"deps.vulnerable", "deps.typosquat", "deps.unpinned", "deps.code.torch-load-unsafe"} {
		if !ids[want] {
			t.Errorf("no %s in %v", want, ids)
		}
	}
	if out, code := run(t, newScanCmd(), "", "deps", repo, "--vulndb", filepath.Join(t.TempDir(), "none")); code != 2 {
		t.Errorf("a missing --vulndb named on the command line: exit %d:\n%s", code, out)
	}
}

func TestScanSecretsAndIaCCommands(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "deploy.sh"), []byte("export GITHUB_TOKEN=ghp_ZnkBB8U9eKtNf4yfQIHJxAmv33M7zQS8T9Xj\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, newScanCmd(), "", "secrets", dir, "--format", "json")
	if code != 1 || !strings.Contains(out, `"rule_id": "secrets.github-token"`) || strings.Contains(out, "ZnkBB8U9eKtNf4yfQIHJxAmv33M7zQS8T9Xj") {
		t.Errorf("scan secrets: exit %d, the token must be found and never printed:\n%s", code, out)
	}
	base := filepath.Join(t.TempDir(), "baseline.json")
	if out, code := run(t, newScanCmd(), "", "secrets", dir, "--write-baseline", base, "--fail-on", "none"); code != 0 {
		t.Fatalf("--write-baseline: exit %d:\n%s", code, out)
	}
	if out, code := run(t, newScanCmd(), "", "secrets", dir, "--baseline", base); code != 0 {
		t.Errorf("with the baseline: exit %d:\n%s", code, out)
	}

	out, code = run(t, newScanCmd(), "", "iac", filepath.Join("..", "..", "scan", "iac", "testdata", "inference-service"), "--format", "sarif")
	if code != 1 || !strings.Contains(out, `"ruleId": "iac.`) {
		t.Errorf("scan iac: exit %d:\n%.600s", code, out)
	}
}

// TestScanAll: `rampart scan PATH` runs every static scanner and writes one
// report.
func TestScanAll(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"requirements.txt": []byte("transfromers==4.41.2\n"),
		"deploy.sh":        []byte("export GITHUB_TOKEN=ghp_ZnkBB8U9eKtNf4yfQIHJxAmv33M7zQS8T9Xj\n"),
		"Dockerfile":       []byte("FROM python:latest\nRUN curl -sSL https://example.com/install.sh | sh\n"),
		"model.pkl":        pickletest.New(2).Call("os", "system", pickletest.S("id")).Stop().Bytes(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, code := run(t, newScanCmd(), "", dir, "--format", "json", "--vulndb", "")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{`"deps.typosquat"`, `"secrets.github-token"`, `"model.pickle.dangerous-global"`, `"iac.dockerfile.`} {
		if !strings.Contains(out, want) {
			t.Errorf("combined report lacks %s", want)
		}
	}
}

func TestScanDepsConfusion(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		// pip merges PyPI and the private index; no hash stops a public upload
		"requirements.txt": "--extra-index-url https://deploy:s3cr3t-token@pypi.acme.internal/simple\nacme-models==1.2.0\nrequests==2.32.3\n",
		// an npm private name resolved from the public registry
		"web/package-lock.json": `{"lockfileVersion": 3, "packages": {
  "": {"name": "web"},
  "node_modules/acme-utils": {"version": "9.9.9", "resolved": "https://registry.npmjs.org/acme-utils/-/acme-utils-9.9.9.tgz", "integrity": "sha512-AAAA"}}}
`,
		// correctly bound: nothing to report
		"ui/pnpm-lock.yaml": "lockfileVersion: '9.0'\npackages:\n  '@acme/core@2.0.0':\n    resolution: {integrity: sha512-BBBB}\n",
		"ui/.npmrc":         "@acme:registry=https://npm.acme.internal/\n",
	}
	for name, s := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, code := run(t, newScanCmd(), "", "deps", "--private", "acme-*", "--private", "@acme/*", dir,
		"--vulndb", "", "--skip-code", "--format", "json", "--fail-on", "high")
	if code != 1 {
		t.Fatalf("scan deps --private: exit %d, want 1:\n%s", code, out)
	}
	if strings.Contains(out, "s3cr3t-token") {
		t.Fatalf("the index credential reaches the report:\n%s", out)
	}
	var doc struct {
		Findings []struct {
			RuleID   string `json:"rule_id"`
			Severity string `json:"severity"`
			Excerpt  string `json:"excerpt"`
			Location struct {
				Path string `json:"path"`
				Line int    `json:"line"`
			} `json:"location"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range doc.Findings {
		if strings.HasPrefix(f.RuleID, "deps.confusion.") {
			rel, _ := filepath.Rel(dir, f.Location.Path)
			got = append(got, fmt.Sprintf("%s %s %s:%d %s", f.RuleID, f.Severity, filepath.ToSlash(rel), f.Location.Line, f.Excerpt))
		}
	}
	sort.Strings(got)
	want := []string{
		"deps.confusion.extra-index high requirements.txt:2 acme-models@1.2.0",
		"deps.confusion.public-source critical web/package-lock.json:3 acme-utils@9.9.9",
	}
	if !slices.Equal(got, want) {
		t.Errorf("confusion findings:\n got %q\nwant %q\n%s", got, want, out)
	}
	// Without private names there is no confusion to report.
	if out, code := run(t, newScanCmd(), "", "deps", dir, "--vulndb", "", "--skip-code", "--format", "json", "--fail-on", "high"); code != 0 || strings.Contains(out, "deps.confusion.") {
		t.Errorf("scan deps without --private: exit %d:\n%s", code, out)
	}
}

// TestAllowGlobal: --allow-global turns an unknown global (a
// scikit-learn estimator) into a safe one, and refuses to allow a
// dangerous one.
func TestAllowGlobal(t *testing.T) {
	dir := t.TempDir()
	est := filepath.Join(dir, "model.pkl")
	p := pickletest.New(4).Call("sklearn.linear_model._logistic", "LogisticRegression").Stop().Bytes()
	if err := os.WriteFile(est, p, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, newScanCmd(), "", "model", "--fail-on", "medium", est); code != 1 || !strings.Contains(out, "sklearn") {
		t.Fatalf("without --allow-global: exit %d, want 1 with an unknown-global finding:\n%s", code, out)
	}
	for _, allow := range []string{"sklearn.*", "sklearn.linear_model._logistic.LogisticRegression"} {
		if out, code := run(t, newScanCmd(), "", "model", "--fail-on", "low", "--allow-global", allow, est); code != 0 {
			t.Errorf("--allow-global %s: exit %d, want 0:\n%s", allow, code, out)
		}
	}
	if out, code := run(t, newScanCmd(), "", "--allow-global", "sklearn.*", "--fail-on", "low", dir); code != 0 {
		t.Errorf("rampart scan --allow-global sklearn.*: exit %d, want 0:\n%s", code, out)
	}
	for _, args := range [][]string{
		{"model", "--allow-global", "os.system", est},
		{"model", "--allow-global", "sklearn", est},
		{"--allow-global", "builtins.eval", dir},
	} {
		if out, code := run(t, newScanCmd(), "", args...); code != 2 || !strings.Contains(out, "--allow-global") {
			t.Errorf("%v: exit %d, want 2 naming --allow-global:\n%s", args, code, out)
		}
	}
}
