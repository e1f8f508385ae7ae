package manifest

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a-b":            "1",
		"a/b":            "2",
		"a/c/d":          "3",
		"ignored/x":      "4",
		"skip.me":        "5",
		"z":              "",
		"ignoredfile":    "6",
		"sub/ignored/ok": "7",
	}
	for n, c := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Build(context.Background(), dir, Options{IgnorePaths: []string{"ignored/", "./skip.me"}, Workers: 3, BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range m.Items {
		names = append(names, it.Name)
		if it.Digest != sha256.Sum256([]byte(files[it.Name])) {
			t.Errorf("%s: wrong digest", it.Name)
		}
	}
	// Sorted by path components: "a/b" before "a-b".
	want := []string{"a/b", "a/c/d", "a-b", "ignoredfile", "sub/ignored/ok", "z"}
	if !slices.Equal(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	if !slices.Equal(m.Serialization.IgnorePaths, []string{"ignored", "skip.me"}) {
		t.Errorf("ignore paths %v", m.Serialization.IgnorePaths)
	}
	if _, err := Build(context.Background(), dir, Options{IgnorePaths: []string{"../x"}}); err == nil {
		t.Error("an ignore path outside the model was accepted")
	}
	if _, err := Build(context.Background(), dir, Options{IgnorePaths: []string{"a", "a-b", "ignored", "ignoredfile", "skip.me", "sub", "z"}}); err == nil {
		t.Error("an empty model was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, dir, Options{}); err == nil {
		t.Error("a cancelled build succeeded")
	}
}

func TestDiff(t *testing.T) {
	d := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	want := []Item{{"a", d("a")}, {"b", d("b")}, {"c", d("c")}}
	got := []Item{{"a", d("a")}, {"b", d("B")}, {"d", d("d")}}
	var out []string
	for _, c := range Diff(want, got) {
		out = append(out, c.String())
	}
	if !slices.Equal(out, []string{"modified: b", "removed: c", "added: d"}) {
		t.Fatalf("diff %v", out)
	}
	if len(Diff(want, want)) != 0 {
		t.Fatal("equal manifests differ")
	}
}

func TestSpecialFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	if err := mkfifo(filepath.Join(dir, "pipe")); err != nil {
		t.Skip(err)
	}
	if _, err := Build(context.Background(), dir, Options{}); err == nil {
		t.Fatal("a named pipe was accepted")
	}
}
