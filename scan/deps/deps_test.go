package deps_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/deps"
	"github.com/rampartsec/rampart/scan/deps/osv"
)

// TestPlantedRepo scans a small inference repository with planted
// problems against the OSV test export: every planted problem is found and
// nothing else is reported above low.
func TestPlantedRepo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	if _, err := osv.Import(context.Background(), filepath.Join("osv", "testdata", "export"), db); err != nil {
		t.Fatal(err)
	}
	src, err := osv.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	res, err := deps.Scan(context.Background(), filepath.Join("testdata", "mlrepo"), deps.Options{Vulns: src})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		if f.Severity > finding.Low {
			got = append(got, fmt.Sprintf("%s:%d %s %s", filepath.Base(f.Location.Path), f.Location.Line, f.RuleID, f.Excerpt))
		}
	}
	slices.Sort(got)
	want := []string{
		"explore.ipynb:2 deps.code.torch-load-unsafe torch.load(…, weights_only=False)",
		"requirements.txt:2 deps.vulnerable torch@2.3.1",
		"requirements.txt:3 deps.vulnerable transformers@4.35.2",
		"requirements.txt:6 deps.typosquat transfromers",
		"requirements.txt:7 deps.unpinned numpy >=1.26",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings above low:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Packages) != 6 {
		t.Errorf("%d packages, want 6", len(res.Packages))
	}
}

func TestNoVulnDB(t *testing.T) {
	res, err := deps.Scan(context.Background(), filepath.Join("testdata", "mlrepo"), deps.Options{SkipCode: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range res.Findings {
		if f.RuleID == deps.RuleNoVulnDB.ID {
			n++
		}
		if strings.HasPrefix(f.RuleID, "deps.code.") {
			t.Errorf("SkipCode: %v", f)
		}
	}
	if n != 1 {
		t.Errorf("%d no-vulndb findings, want 1", n)
	}
}

// TestConfusion checks that Scan runs the dependency-confusion check for
// the private names, and only then, and that Rules lists its rules.
func TestConfusion(t *testing.T) {
	dir := filepath.Join("confusion", "testdata", "positive", "pip-extra")
	for _, tt := range []struct {
		private []string
		want    int
	}{{nil, 0}, {[]string{"acme-*"}, 1}, {[]string{"other-*"}, 0}} {
		res, err := deps.Scan(context.Background(), dir, deps.Options{Private: tt.private, SkipCode: true})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range res.Findings {
			if strings.HasPrefix(f.RuleID, "deps.confusion.") {
				n++
				if f.Location.Path != filepath.Join(dir, "requirements.txt") || f.Location.Line != 3 {
					t.Errorf("finding at %v", f.Location)
				}
			}
		}
		if n != tt.want {
			t.Errorf("private %q: %d confusion findings, want %d", tt.private, n, tt.want)
		}
	}
	ids := map[string]bool{}
	for _, r := range deps.Rules() {
		ids[r.ID] = true
	}
	for _, id := range []string{"deps.confusion.public-source", "deps.confusion.extra-index", "deps.confusion.unscoped"} {
		if !ids[id] {
			t.Errorf("Rules lacks %s", id)
		}
	}
}

// TestCommitPinned matches a requirement pinned to a commit against a
// record's GIT range on the same repository (the commit is the range's
// introducing event), and not against the same commit of a fork.
func TestCommitPinned(t *testing.T) {
	const sha = "3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b"
	dir := t.TempDir()
	rec := `{"id": "TEST-GIT-0001", "modified": "2025-01-01T00:00:00Z", "summary": "test",
	  "affected": [{"package": {"ecosystem": "PyPI", "name": "deepspeed"},
	    "ranges": [{"type": "GIT", "repo": "https://github.com/microsoft/DeepSpeed",
	      "events": [{"introduced": "` + sha + `"}, {"fixed": "4444444444444444444444444444444444444444"}]}]}]}`
	src := importRecord(t, dir, "PyPI", "TEST-GIT-0001", rec)
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	req := "deepspeed @ git+https://github.com/microsoft/DeepSpeed.git@" + sha + "\n" +
		"git+https://github.com/someone/DeepSpeed.git@" + sha + "#egg=deepspeed\n"
	if err := os.WriteFile(filepath.Join(repo, "requirements.txt"), []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := deps.Scan(context.Background(), repo, deps.Options{Vulns: src, SkipCode: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		if f.RuleID == "deps.vulnerable" {
			got = append(got, fmt.Sprintf("%d %s %s", f.Location.Line, f.Excerpt, f.Message))
		}
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "1 deepspeed@3f0c4a8b5e8e ") || !strings.Contains(got[0], "fixed in 4444444444444444444444444444444444444444") {
		t.Errorf("vulnerable findings: %q", got)
	}
}

// TestOSVAPIFallback: with the OSV API unreachable, the offline database
// answers and the report says the API failed.
func TestOSVAPIFallback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	if _, err := osv.Import(context.Background(), filepath.Join("osv", "testdata", "export"), db); err != nil {
		t.Fatal(err)
	}
	offline, err := osv.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	src := &osv.Fallback{Online: &osv.Client{BaseURL: dead.URL, Timeout: 2 * time.Second}, Offline: offline}
	res, err := deps.Scan(context.Background(), filepath.Join("testdata", "mlrepo"), deps.Options{Vulns: src, SkipCode: true})
	if err != nil {
		t.Fatal(err)
	}
	var vulnerable, notes int
	for _, f := range res.Findings {
		switch f.RuleID {
		case "deps.vulnerable":
			vulnerable++
		case "deps.osv-api-unreachable":
			notes++
			if f.Severity != finding.Low || !strings.Contains(f.Message, "offline database answered") {
				t.Errorf("note: %s %q", f.Severity, f.Message)
			}
		}
	}
	if vulnerable != 2 || notes != 1 {
		t.Errorf("%d vulnerable findings and %d notes, want 2 and 1", vulnerable, notes)
	}
}

// TestTransitivePath: a vulnerable transitive package of a lockfile with a
// dependency graph is reported with the shortest chain from a direct
// dependency to it; a direct one, and one from a file without a graph, are
// not.
func TestTransitivePath(t *testing.T) {
	dir := t.TempDir()
	rec := `{"id": "TEST-NPM-0001", "modified": "2024-06-01T00:00:00Z", "summary": "URL parser confusion",
	  "affected": [{"package": {"ecosystem": "npm", "name": "whatwg-url"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "15.0.0"}]}]},
	   {"package": {"ecosystem": "npm", "name": "openai"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.60.0"}]}]}]}`
	src := importRecord(t, dir, "npm", "TEST-NPM-0001", rec)
	res, err := deps.Scan(context.Background(), filepath.Join("lockfile", "testdata", "graph", "npm-v3"), deps.Options{Vulns: src, SkipCode: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		if f.RuleID == "deps.vulnerable" {
			got[f.Excerpt] = f.Message
		}
	}
	if len(got) != 3 {
		t.Fatalf("vulnerable findings: %q", got)
	}
	for excerpt, want := range map[string]string{
		// Both whatwg-url versions are affected; 5.0.0 is nested under
		// node-fetch, 14.0.0 comes through jsdom.
		"whatwg-url@5.0.0":  "; pulled in through openai@4.52.0 (openai@4.52.0 → node-fetch@2.7.0 → whatwg-url@5.0.0)",
		"whatwg-url@14.0.0": "; pulled in through jsdom@24.1.0 (jsdom@24.1.0 → whatwg-url@14.0.0)",
	} {
		if !strings.HasSuffix(got[excerpt], want) {
			t.Errorf("%s: message %q, want it to end %q", excerpt, got[excerpt], want)
		}
	}
	if strings.Contains(got["openai@4.52.0"], "pulled in") {
		t.Errorf("direct openai: %q", got["openai@4.52.0"])
	}
}

// importRecord imports one OSV record, id in ecosystem, into a new offline
// database under dir and opens it.
func importRecord(t *testing.T, dir, ecosystem, id, rec string) osv.Source {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "export", ecosystem), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "export", ecosystem, id+".json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := osv.Import(context.Background(), filepath.Join(dir, "export"), filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	src, err := osv.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}
