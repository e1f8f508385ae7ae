package secrets

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

// Planted credentials, from the detector's labeled rows
// (detect/secrets/testdata/dev.jsonl).
const (
	ghToken  = "ghp_ZnkBB8U9eKtNf4yfQIHJxAmv33M7zQS8T9Xj"
	awsKeyID = "AKIADTD53KSVEQN3FEJ3"
	ghToken2 = "gho_KEIMgkiT6cWdMhTkx4fKQZSW3EULsPuXKYRb"
)

// writeFiles creates files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// git runs git in dir with a fixed identity and dates.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Alice Example", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice Example", "GIT_COMMITTER_EMAIL=alice@example.com",
		"GIT_AUTHOR_DATE=2024-03-01T10:00:00Z", "GIT_COMMITTER_DATE=2024-03-01T10:00:00Z",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func initRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	return dir
}

// commitAll stages everything in dir and commits it, returning the hash.
func commitAll(t *testing.T, dir, msg string) string {
	t.Helper()
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "--allow-empty", "-m", msg)
	return git(t, dir, "rev-parse", "HEAD")
}

type got struct {
	rule string
	path string
	line int
}

func summarize(fs []finding.Finding) []got {
	out := make([]got, len(fs))
	for i, f := range fs {
		out[i] = got{f.RuleID, f.Location.Path, f.Location.Line}
	}
	return out
}

// checkNoSecret fails if any finding's text carries a planted secret.
func checkNoSecret(t *testing.T, fs []finding.Finding) {
	t.Helper()
	for _, f := range fs {
		for _, s := range []string{ghToken, awsKeyID, ghToken2} {
			if strings.Contains(f.Excerpt, s) || strings.Contains(f.Message, s) || strings.Contains(f.Fingerprint, s) {
				t.Errorf("finding %s leaks the secret: %+v", f.RuleID, f)
			}
		}
		if f.Fingerprint == "" {
			t.Errorf("finding %s has no fingerprint", f.RuleID)
		}
		if f.Layer != finding.LayerInfrastructure {
			t.Errorf("finding %s on layer %v", f.RuleID, f.Layer)
		}
	}
}

func TestScanFiles(t *testing.T) {
	big := strings.Repeat("x = 1\n", 200) + "token = " + ghToken + "\n"
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []got
	}{
		{
			name:  "token in code",
			files: map[string]string{"app/config.py": "import os\n\nGITHUB = \"" + ghToken + "\"\n"},
			want:  []got{{"secrets.github-token", "app/config.py", 3}},
		},
		{
			name: "two files, two rules",
			files: map[string]string{
				"a.env.yaml": "aws_access_key_id: " + awsKeyID + "\n",
				"b/c.go":     "package c\n// token\nvar t = \"" + ghToken2 + "\"\n",
			},
			want: []got{{"secrets.aws-access-key", "a.env.yaml", 1}, {"secrets.github-token", "b/c.go", 3}},
		},
		{
			name: "ignore comments",
			files: map[string]string{
				"a.py": "T1 = \"" + ghToken + "\"  # rampart:ignore\nT2 = \"" + ghToken2 + "\" # gitleaks:allow\nT3 = \"" + ghToken + "\"\n",
			},
			want: []got{{"secrets.github-token", "a.py", 3}},
		},
		{
			name:  "binary file skipped",
			files: map[string]string{"blob.bin": "\x00\x01\x02token = " + ghToken + "\n", "ok.txt": "nothing here\n"},
		},
		{
			name:  "size cap",
			files: map[string]string{"big.txt": big, "small.txt": "t = " + ghToken2 + "\n"},
			opts:  Options{MaxFileSize: int64(len(big) - 1)},
			want:  []got{{"secrets.github-token", "small.txt", 1}},
		},
		{
			name:  "size cap not reached",
			files: map[string]string{"big.txt": big},
			opts:  Options{MaxFileSize: int64(len(big))},
			want:  []got{{"secrets.github-token", "big.txt", 201}},
		},
		{
			name: "skipped directories",
			files: map[string]string{
				"node_modules/x/index.js": "t = '" + ghToken + "'\n",
				"vendor/y/y.go":           "t = \"" + ghToken + "\"\n",
				"src/vendor.go":           "t := \"" + ghToken + "\"\n",
			},
			want: []got{{"secrets.github-token", "src/vendor.go", 1}},
		},
		{
			name:  "placeholders are not secrets",
			files: map[string]string{".env.example": "OPENAI_API_KEY=sk-your-openai-api-key-goes-here\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			fs, err := Scan(context.Background(), dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkNoSecret(t, fs)
			if g := summarize(fs); !slices.Equal(g, tt.want) {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
}

func TestScanColumnAndExcerpt(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"c.py": "# header\n    token = \"" + ghToken + "\"\n"})
	fs, err := Scan(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(fs), fs)
	}
	f := fs[0]
	if f.Location.Line != 2 || f.Location.Column != 14 {
		t.Errorf("location %v, want line 2 column 14", f.Location)
	}
	if !strings.Contains(f.Excerpt, "(40 bytes)") || f.Detector != Detector {
		t.Errorf("excerpt %q, detector %q", f.Excerpt, f.Detector)
	}
}

func TestScanSingleFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"one.txt": "x\ny = " + ghToken + "\n"})
	fs, err := Scan(context.Background(), filepath.Join(dir, "one.txt"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := summarize(fs); !slices.Equal(g, []got{{"secrets.github-token", "one.txt", 2}}) {
		t.Errorf("got %v", g)
	}
	if _, err := Scan(context.Background(), filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("Scan of a missing path succeeded")
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.py": "A = \"" + ghToken + "\"\n",
		"b.py": "B = \"" + ghToken2 + "\"\n",
	})
	ctx := context.Background()
	fs, err := Scan(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2", len(fs))
	}
	bpath := filepath.Join(t.TempDir(), "baseline.json")
	if err := WriteBaseline(bpath, fs[:1]); err != nil { // accept a.py's
		t.Fatal(err)
	}
	raw, err := os.ReadFile(bpath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(ghToken)) || !bytes.Contains(raw, []byte(fs[0].Fingerprint)) {
		t.Fatalf("baseline file is wrong:\n%s", raw)
	}
	b, err := LoadBaseline(bpath)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 1 {
		t.Fatalf("baseline holds %d fingerprints, want 1", b.Len())
	}

	// Move the accepted secret down three lines: still accepted.
	writeFiles(t, dir, map[string]string{"a.py": "import os\n\n\n  A = \"" + ghToken + "\"\n"})
	fs, err = Scan(ctx, dir, Options{Baseline: b})
	if err != nil {
		t.Fatal(err)
	}
	if g := summarize(fs); !slices.Equal(g, []got{{"secrets.github-token", "b.py", 1}}) {
		t.Errorf("with baseline: got %v", g)
	}
	// A new secret in the accepted file is reported.
	writeFiles(t, dir, map[string]string{"a.py": "A = \"" + ghToken + "\"\nC = \"" + ghToken2 + "\"\n"})
	fs, err = Scan(ctx, dir, Options{Baseline: b})
	if err != nil {
		t.Fatal(err)
	}
	if g := summarize(fs); !slices.Equal(g, []got{{"secrets.github-token", "a.py", 2}, {"secrets.github-token", "b.py", 1}}) {
		t.Errorf("new secret: got %v", g)
	}
}

func TestDecodeBaselineErrors(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"version":2,"accepted":[]}`, `{"version":1,"accepted":[{"rule_id":"x"}]}`,
	} {
		if _, err := DecodeBaseline(strings.NewReader(in)); err == nil {
			t.Errorf("DecodeBaseline(%q) succeeded", in)
		}
	}
	b, err := DecodeBaseline(strings.NewReader(`{"version":1,"accepted":[{"fingerprint":"ab"}]}`))
	if err != nil || !b.Contains("ab") || b.Contains("cd") {
		t.Errorf("DecodeBaseline: %v, %v", b, err)
	}
	var nilB *Baseline
	if nilB.Contains("ab") || nilB.Len() != 0 {
		t.Error("nil baseline accepts")
	}
}

func TestCredentialFiles(t *testing.T) {
	const pemKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
	const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	const sa = `{"type": "service_account", "project_id": "p", "private_key_id": "1", "private_key": "x"}`
	type cf struct {
		rule string
		path string
		sev  finding.Severity
	}
	tests := []struct {
		name      string
		committed map[string]string // committed first
		worktree  map[string]string // then written, not committed
		want      []cf
	}{
		{
			name:      "tracked env file",
			committed: map[string]string{".env": "DEBUG=1\n", ".env.example": "KEY=\n", ".env.sample": "KEY=\n"},
			want:      []cf{{"credential-file.env", ".env", finding.High}},
		},
		{
			name:     "untracked env file not ignored, one ignored",
			worktree: map[string]string{".gitignore": ".env.local\n", ".env.production": "X=1\n", ".env.local": "X=1\n"},
			want:     []cf{{"credential-file.env", ".env.production", finding.Medium}},
		},
		{
			name:      "tracked even when ignored later",
			committed: map[string]string{"deploy/id_rsa": pemKey},
			worktree:  map[string]string{".gitignore": "id_rsa\n"},
			want:      []cf{{"credential-file.private-key", "deploy/id_rsa", finding.Critical}},
		},
		{
			name: "pem: private key yes, certificate no",
			committed: map[string]string{
				"tls/server.pem": pemKey, "tls/ca.pem": cert, "tls/server.key": pemKey, "bundle.p12": "\x30\x82\x00",
			},
			want: []cf{
				{"credential-file.pkcs12", "bundle.p12", finding.Critical},
				{"credential-file.private-key", "tls/server.key", finding.Critical},
				{"credential-file.private-key", "tls/server.pem", finding.Critical},
			},
		},
		{
			name:      "service account and credentials.json",
			committed: map[string]string{"keys/my-project-1234.json": sa, "package.json": `{"name":"x"}`},
			worktree:  map[string]string{"credentials.json": `{"installed":{"client_secret":"abc"}}`},
			want: []cf{
				{"credential-file.cloud-credentials", "credentials.json", finding.High},
				{"credential-file.cloud-credentials", "keys/my-project-1234.json", finding.Critical},
			},
		},
		{
			name: "rc files only with tokens",
			committed: map[string]string{
				".npmrc":       "//registry.npmjs.org/:_authToken=npm_abcdef0123456789\n",
				"web/.npmrc":   "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
				".pypirc":      "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc\n",
				"docs/.netrc":  "machine example.com login bob\n",
				"other/.netrc": "machine example.com login bob password hunter2\n",
			},
			want: []cf{
				{"credential-file.package-token", ".npmrc", finding.High},
				{"credential-file.package-token", ".pypirc", finding.High},
				{"credential-file.package-token", "other/.netrc", finding.High},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := initRepo(t)
			writeFiles(t, dir, tt.committed)
			commitAll(t, dir, "init")
			writeFiles(t, dir, tt.worktree)
			fs, err := Scan(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var g []cf
			for _, f := range fs {
				if strings.HasPrefix(f.RuleID, "credential-file.") {
					g = append(g, cf{f.RuleID, f.Location.Path, f.Severity})
				}
			}
			if !slices.Equal(g, tt.want) {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
}

func TestCredentialFilesOutsideGit(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{".env": "X=1\n"})
	fs, err := Scan(context.Background(), dir, Options{Git: "/nonexistent/git"})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("outside git: %v", summarize(fs))
	}
}

func TestRules(t *testing.T) {
	rs := Rules()
	ids := map[string]bool{}
	for _, r := range rs {
		if ids[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		ids[r.ID] = true
		if r.Layer != finding.LayerInfrastructure {
			t.Errorf("rule %s on layer %v", r.ID, r.Layer)
		}
	}
	for _, id := range []string{"secrets.github-token", "secrets.private-key", "credential-file.env", "credential-file.package-token"} {
		if !ids[id] {
			t.Errorf("Rules lacks %s", id)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com": "a…@example.com",
		"élodie@x.fr":       "é…@x.fr",
		"":                  "",
		"noat":              "…",
		"@x":                "…",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
