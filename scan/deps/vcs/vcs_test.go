package vcs

import (
	"strings"
	"testing"
)

func TestRef(t *testing.T) {
	const sha = "3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b"
	cases := []struct{ spec, repo, commit string }{
		{"git+https://github.com/microsoft/DeepSpeed.git@" + sha + "#egg=deepspeed", "github.com/microsoft/DeepSpeed", sha},
		{"git+https://oauth2:glpat-secret@gitlab.acme.internal/ml/tok.git@" + sha, "gitlab.acme.internal/ml/tok", sha},
		{"https://github.com/org/repo.git@" + sha, "github.com/org/repo", sha},
		{"https://github.com/org/repo?rev=main#" + sha, "github.com/org/repo", sha},
		{"git+https://github.com/org/crate?rev=" + sha + "#" + sha, "github.com/org/crate", sha},
		{"git+ssh://git@github.com/org/repo.git#" + sha, "github.com/org/repo", sha},
		{"https://github.com/example/tokenizer.git#commit=" + sha, "github.com/example/tokenizer", sha},
		{"git+https://github.com/huggingface/trl.git@v0.9.4#egg=trl", "", ""}, // a tag, not a commit
		{"git+https://github.com/org/repo.git@" + sha[:12], "", ""},           // a short hash
		{"https://example.com/pkg-1.0.tar.gz#sha256=" + sha, "", ""},
		{">=1.2", "", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		repo, commit := Ref(c.spec)
		if repo != c.repo || commit != c.commit {
			t.Errorf("Ref(%q) = %q, %q; want %q, %q", c.spec, repo, commit, c.repo, c.commit)
		}
	}
}

func TestNormalizeRepo(t *testing.T) {
	want := "github.com/org/repo"
	for _, u := range []string{
		"https://github.com/org/repo", "https://github.com/org/repo.git", "https://GitHub.com/org/repo/",
		"git+https://github.com/org/repo.git", "git+ssh://git@github.com/org/repo.git", "git@github.com:org/repo.git",
		"ssh://git@github.com/org/repo", "https://user:token@github.com/org/repo",
	} {
		if got := NormalizeRepo(u); got != want {
			t.Errorf("NormalizeRepo(%q) = %q, want %q", u, got, want)
		}
	}
}

func FuzzRef(f *testing.F) {
	f.Add("git+https://oauth2:tok@gitlab.example/ml/tok.git@3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b#egg=tok")
	f.Add("git+ssh://git@github.com/org/repo.git#3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b")
	f.Add("https://h/r?rev=3f0c4a8b5e8e2d5b9a6c7e1f0d2b4a6c8e0f1a2b&x=1")
	f.Add("git@github.com:org/repo.git")
	f.Fuzz(func(t *testing.T, spec string) {
		repo, commit := Ref(spec)
		if (repo == "") != (commit == "") && commit == "" {
			t.Fatalf("repo %q without a commit", repo)
		}
		if commit != "" && !isCommit(commit) {
			t.Fatalf("commit %q is not 40 hex digits", commit)
		}
		if strings.Contains(repo, "://") {
			t.Fatalf("repository %q keeps its scheme", repo)
		}
		if n := NormalizeRepo(repo); n != repo && repo != "" {
			t.Fatalf("NormalizeRepo is not idempotent: %q → %q", repo, n)
		}
	})
}
