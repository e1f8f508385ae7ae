package secrets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type gitGot struct {
	commit string
	path   string
	line   int
}

func TestScanGit(t *testing.T) {
	dir := initRepo(t)
	c1 := func() string {
		writeFiles(t, dir, map[string]string{"app/settings.py": "DEBUG = True\nGITHUB_TOKEN = \"" + ghToken + "\"\n", "README.md": "hello\n"})
		return commitAll(t, dir, "add settings")
	}()
	// Delete the file that held the secret.
	if err := os.Remove(filepath.Join(dir, "app/settings.py")); err != nil {
		t.Fatal(err)
	}
	commitAll(t, dir, "remove settings")
	// A pure rename adds no line.
	writeFiles(t, dir, map[string]string{"conf/a.yaml": "name: x\nkey: v\nport: 1\nhost: h\naws_access_key_id: " + awsKeyID + "\n"})
	c3 := commitAll(t, dir, "add a.yaml")
	git(t, dir, "mv", "conf/a.yaml", "conf/b.yaml")
	commitAll(t, dir, "rename a.yaml")
	// A rename with an edit adds the edited line under the new name.
	writeFiles(t, dir, map[string]string{"conf/b.yaml": "name: x\nkey: v\nport: 1\nhost: h\naws_access_key_id: " + awsKeyID + "\ngh: " + ghToken2 + "\n"})
	git(t, dir, "mv", "conf/b.yaml", "conf/c.yaml")
	c5 := commitAll(t, dir, "rename and edit")
	// An ignored line and a secret on a side branch.
	git(t, dir, "checkout", "-q", "-b", "side")
	writeFiles(t, dir, map[string]string{"x.txt": "a = " + ghToken + " # gitleaks:allow\nb = " + ghToken + "\n"})
	c6 := commitAll(t, dir, "side branch")
	git(t, dir, "checkout", "-q", "main")

	fs, err := ScanGit(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkNoSecret(t, fs)
	var g []gitGot
	for _, f := range fs {
		g = append(g, gitGot{f.Location.Commit, f.Location.Path, f.Location.Line})
	}
	// The commits share one date, so git log may list c5 and c6 in either
	// order; the findings of c1 and c3 come last, oldest last.
	if len(g) == 4 && g[0].commit == c5 {
		g[0], g[1] = g[1], g[0]
		fs[0], fs[1] = fs[1], fs[0]
	}
	want := []gitGot{{c6, "x.txt", 2}, {c5, "conf/c.yaml", 6}, {c3, "conf/a.yaml", 5}, {c1, "app/settings.py", 2}}
	if !slices.Equal(g, want) {
		t.Fatalf("got %v\nwant %v", g, want)
	}
	m := fs[3].Message
	if !strings.Contains(m, "Alice Example <a…@example.com>") || strings.Contains(m, "alice@") || !strings.Contains(m, "2024-03-01") || !strings.Contains(m, c1[:12]) {
		t.Errorf("message %q", m)
	}
	if fs[3].RuleID != "secrets.github-token" || fs[2].RuleID != "secrets.aws-access-key" {
		t.Errorf("rules %s, %s", fs[3].RuleID, fs[2].RuleID)
	}

	// ShowEmail, and a baseline built from the first run suppresses all.
	fs2, err := ScanGit(context.Background(), dir, Options{ShowEmail: true, Baseline: NewBaseline(fs[1:])})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs2) != 1 || !strings.Contains(fs2[0].Message, "<alice@example.com>") {
		t.Errorf("with baseline and ShowEmail: %+v", fs2)
	}
}

func TestScanGitErrors(t *testing.T) {
	if _, err := ScanGit(context.Background(), t.TempDir(), Options{}); err == nil {
		t.Error("ScanGit outside a repository succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := initRepo(t)
	writeFiles(t, dir, map[string]string{"a": "b = " + ghToken + "\n"})
	commitAll(t, dir, "x")
	if _, err := ScanGit(ctx, dir, Options{}); err == nil {
		t.Error("ScanGit with a cancelled context succeeded")
	}
	// An empty repository has no history: no findings, no error.
	fs, err := ScanGit(context.Background(), initRepo(t), Options{})
	if err == nil && len(fs) != 0 {
		t.Errorf("empty repo: %v", fs)
	}
}

// TestScanGitLarge checks that a file larger than a chunk is scanned in
// pieces with the right line numbers.
func TestScanGitLarge(t *testing.T) {
	dir := initRepo(t)
	var b strings.Builder
	line := strings.Repeat("z", 99) + "\n"
	n := chunkSize/len(line) + 500
	for i := 1; i <= n; i++ {
		if i == n-10 {
			fmt.Fprintf(&b, "tok = %s\n", ghToken)
			continue
		}
		b.WriteString(line)
	}
	writeFiles(t, dir, map[string]string{"big.txt": b.String()})
	commitAll(t, dir, "big")
	fs, err := ScanGit(context.Background(), dir, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Location.Line != n-10 {
		t.Errorf("got %v, want line %d", summarize(fs), n-10)
	}
}

func parseLog(t testing.TB, in string, maxLine, maxChunk int) ([]chunk, error) {
	var out []chunk
	p := newLogParser(strings.NewReader(in), maxLine, maxChunk, func(c chunk) error {
		out = append(out, c)
		return nil
	})
	return out, p.run()
}

func TestLogParser(t *testing.T) {
	const log = commitMarker + "abc\x00Bob\x00bob@x.org\x002024-01-01T00:00:00Z\n" +
		"\n" +
		"diff --git a/x.py b/x.py\n" +
		"new file mode 100644\n" +
		"--- /dev/null\n" +
		"+++ b/x.py\n" +
		"@@ -0,0 +1,2 @@\n" +
		"+one\n" +
		"++++ two\n" +
		"diff --git \"a/t\\303\\251st.txt\" \"b/t\\303\\251st.txt\"\n" +
		"--- \"a/t\\303\\251st.txt\"\n" +
		"+++ \"b/t\\303\\251st.txt\"\n" +
		"@@ -3 +3 @@\n" +
		"-old\n" +
		"+new\n" +
		"\\ No newline at end of file\n" +
		"@@ -10,0 +11,1 @@\n" +
		"+eleven\n" +
		"diff --git a/gone b/gone\n" +
		"deleted file mode 100644\n" +
		"--- a/gone\n" +
		"+++ /dev/null\n" +
		"@@ -1 +0,0 @@\n" +
		"-bye\n" +
		commitMarker + "def\x00Eve\x00eve@y.org\x002024-01-02T00:00:00Z\n" +
		"diff --git a/bin b/bin\n" +
		"Binary files a/bin and b/bin differ\n"
	cs, err := parseLog(t, log, 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	type c struct {
		hash, path, text string
		lines            []int
	}
	var g []c
	for _, x := range cs {
		g = append(g, c{x.commit.Hash, x.path, string(x.text), x.lines})
	}
	want := []c{
		{"abc", "x.py", "one\n+++ two\n", []int{1, 2}},
		{"abc", "tést.txt", "new\neleven\n", []int{3, 11}},
	}
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", g, want)
	}

	for _, bad := range []string{
		commitMarker + "only\x00two\n",
		commitMarker + "a\x00b\x00c\x00d\ndiff --git a/x b/x\n+++ b/x\n@@ -1 +x @@\n",
	} {
		if _, err := parseLog(t, bad, 1<<20, 1<<20); err == nil || !strings.Contains(err.Error(), "byte") {
			t.Errorf("parse %q: err = %v, want one naming the byte offset", bad, err)
		}
	}
}

func TestLogParserLongLine(t *testing.T) {
	long := strings.Repeat("q", 200<<10)
	in := commitMarker + "a\x00b\x00c\x00d\ndiff --git a/x b/x\n+++ b/x\n@@ -0,0 +1,2 @@\n+" + long + "\n+short\n"
	cs, err := parseLog(t, in, 1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || len(cs[0].lines) != 2 || string(cs[0].text) != strings.Repeat("q", 999)+"\nshort\n" {
		t.Errorf("got %d chunks, first of %d bytes", len(cs), len(cs[0].text))
	}
}

func FuzzGitLogParser(f *testing.F) {
	f.Add([]byte(commitMarker + "abc\x00Bob\x00bob@x.org\x00d\ndiff --git a/x b/x\n+++ b/x\n@@ -0,0 +1,2 @@\n+one\n+two\n"))
	f.Add([]byte("diff --git a/x b/x\n+++ \"b/\\303x\"\n@@ -1 +99999999999 @@\n+a\n"))
	f.Add([]byte(commitMarker + "\n@@ +\n+++ /dev/null\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLine, maxChunk = 64, 128
		var total int
		p := newLogParser(strings.NewReader(string(data)), maxLine, maxChunk, func(c chunk) error {
			if c.commit == nil || c.path == "" {
				t.Fatalf("chunk without commit or path: %+v", c)
			}
			if strings.Count(string(c.text), "\n") != len(c.lines) {
				t.Fatalf("%d lines of text, %d line numbers", strings.Count(string(c.text), "\n"), len(c.lines))
			}
			if len(c.text) > maxChunk+maxLine {
				t.Fatalf("chunk of %d bytes", len(c.text))
			}
			total += len(c.text)
			return nil
		})
		_ = p.run()
		if total > 2*len(data)+1 {
			t.Fatalf("emitted %d bytes from %d", total, len(data))
		}
	})
}
