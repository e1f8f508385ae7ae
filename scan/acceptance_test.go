package scan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan"
	"github.com/rampartsec/rampart/scan/deps"
	"github.com/rampartsec/rampart/scan/deps/osv"
)

// repoHistory is what a corpus repository's git history holds besides its
// files: a commit that added a file and the commit after it that deleted
// it again, so that only the history scan can find what the file held.
type repoHistory struct {
	path, content string
}

// TestAcceptanceCorpus scans the three repositories under
// testdata/repos — an ML training repository, an inference service and a
// notebook project, each committed to a fresh git repository — with every
// scanner, the git history included, against the OSV test export: every
// planted problem (listed in testdata/repos/README.md) is reported, and
// nothing else above low.
func TestAcceptanceCorpus(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed: the corpus repositories are git work trees")
	}
	db := filepath.Join(t.TempDir(), "vulndb")
	if _, err := osv.Import(context.Background(), filepath.Join("deps", "osv", "testdata", "export"), db); err != nil {
		t.Fatal(err)
	}
	vulns, err := osv.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		repo    string
		deleted *repoHistory
		want    []string
	}{
		{
			repo: "ml-training",
			deleted: &repoHistory{"configs/s3.env",
				"AWS_ACCESS_KEY_ID=AKIAUCSCELD9OERZSD4D\nAWS_SECRET_ACCESS_KEY=JIsXYMiM7e1mvOvUt74954NWrd+xKFD7llti8sIJ\n"},
			want: []string{
				"Dockerfile:8 iac.dockerfile.curl-pipe-shell",
				"checkpoints/rlhf-init.pt!rlhf-init/data.pkl model.pickle.dangerous-global",
				"configs/s3.env:1 secrets.aws-access-key @history",
				"configs/s3.env:2 secrets.aws-secret-key @history",
				"requirements-eval.txt:4 deps.confusion.extra-index",
				"requirements.txt:13 deps.malicious",
				"requirements.txt:13 deps.typosquat",
				"requirements.txt:21 deps.vulnerable",
				"scripts/upload_to_hub.sh:9 secrets.huggingface-token",
				"src/finetune/data.py:11 deps.code.yaml-unsafe-load",
				"src/finetune/train.py:38 deps.code.torch-load",
			},
		},
		{
			repo: "inference-service",
			want: []string{
				"app/server.py:16 deps.code.trust-remote-code",
				"app/settings.py:10 secrets.openai-api-key",
				"deploy/k8s/deployment.yaml:39 iac.kube.privileged",
				"deploy/k8s/service.yaml:7 iac.kube.model-server-exposed",
				"gateway/go.mod:7 deps.vulnerable",
				"gateway/go.sum:13 deps.vulnerable",
				"infra/main.tf:50 iac.terraform.s3-public",
				"poetry.lock:17 deps.vulnerable",
				"poetry.lock:64 deps.vulnerable",
				"pyproject.toml:12 deps.vulnerable",
				"pyproject.toml:13 deps.vulnerable",
				"web/package-lock.json:26 deps.confusion.public-source",
				"web/package-lock.json:45 deps.vulnerable",
			},
		},
		{
			repo: "notebook-project",
			want: []string{
				".env credential-file.env",
				".env:3 secrets.huggingface-token",
				"docker-compose.yml:7 secrets.generic-assignment",
				"environment.yml:13 deps.typosquat",
				"environment.yml:14 deps.vulnerable",
				"environment.yml:15 deps.unpinned",
				"models/churn-pretrained.joblib model.pickle.dangerous-global",
				"notebooks/01-explore.ipynb:1 deps.code.numpy-allow-pickle",
				"notebooks/01-explore.ipynb:3 deps.code.pickle-load-downloaded",
				"notebooks/01-explore.ipynb:88 secrets.openai-api-key",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.repo, func(t *testing.T) {
			dir := gitRepo(t, filepath.Join("testdata", "repos", c.repo), c.deleted)
			res, err := scan.All(context.Background(), dir, scan.Options{History: true, Deps: depsOptions(vulns)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				b, err := json.Marshal(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range plantedSecrets {
					if strings.Contains(string(b), s) {
						t.Errorf("%s %s: the report holds a planted secret in clear", f.Location.Path, f.RuleID)
					}
				}
				if f.Severity <= finding.Low {
					continue
				}
				k := f.Location.Path
				if f.Location.Line > 0 {
					k += fmt.Sprintf(":%d", f.Location.Line)
				}
				k += " " + f.RuleID
				if f.Location.Commit != "" {
					k += " @history"
				}
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("findings above low:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
}

// plantedSecrets are the secret values of the corpus; no report may
// repeat them.
var plantedSecrets = []string{
	"AKIAUCSCELD9OERZSD4D", "JIsXYMiM7e1mvOvUt74954NWrd+xKFD7llti8sIJ",
	"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", "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",
	"sk-proj-J8ee8EvXGtJ0r6EKnImrOk_vkjdfLCJQ4GFblOo_8Lw2DGmm", "sk-proj-Qm3Lw8VtX0cR5yN2bJ7hK9dF4sA6gZ1pE3uT8oI0nB5vC2xW",
	"rez4c3anpzx8tb6hdf42y9mjfhhagky8d514iozq5afmp9qe",
}

// gitRepo copies the corpus folder src into a new git repository and
// commits it; deleted, when set, is added in a first commit and removed in
// the last.
func gitRepo(t *testing.T, src string, deleted *repoHistory) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=Dana Example", "-c", "user.email=dana@acme.example",
			"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_DATE=2026-10-01T12:00:00Z", "GIT_COMMITTER_DATE=2026-10-01T12:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	if deleted != nil {
		p := filepath.Join(dir, filepath.FromSlash(deleted.path))
		if err := os.WriteFile(p, []byte(deleted.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", "-A")
	git("commit", "-q", "-m", "initial import")
	if deleted != nil {
		git("rm", "-q", deleted.path)
		git("commit", "-q", "-m", "remove credentials")
	}
	return dir
}

// depsOptions name the organisation's own packages, as a user would with
// --private: the corpus belongs to "acme".
func depsOptions(v osv.Source) deps.Options {
	return deps.Options{Vulns: v, Private: []string{"acme-*", "@acme/*"}}
}
