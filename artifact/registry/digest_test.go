//go:build unix

package registry_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/artifact/registry"
)

func TestDigestDir(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t, false, map[string]string{"a/b/c.txt": "c", "empty": ""})
	m1, err := registry.DigestDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range m1.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "a/b/c.txt config.json empty weights/model.safetensors" {
		t.Fatalf("files %s", got)
	}
	if m1.Files[2].Size != 0 || m1.Files[2].SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("empty file: %+v", m1.Files[2])
	}
	// The signature file is not part of the digest.
	writeFile(t, dir, registry.SignatureFile, "sig")
	m2, err := registry.DigestDir(ctx, dir)
	if err != nil || m2.Digest != m1.Digest {
		t.Fatalf("digest with model.sig %s, without %s (%v)", m2.Digest, m1.Digest, err)
	}
	if err := m2.Unchanged(ctx, dir); err != nil {
		t.Fatal(err)
	}
	// Any change of content, name or set of files changes the digest.
	for _, change := range []func(){
		func() { writeFile(t, dir, "empty", "x") },
		func() { _ = os.Rename(filepath.Join(dir, "empty"), filepath.Join(dir, "empty2")) },
		func() { writeFile(t, dir, "new", "") },
	} {
		change()
		m3, err := registry.DigestDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if m3.Digest == m2.Digest {
			t.Fatal("a change did not change the digest")
		}
		if err := m2.Unchanged(ctx, dir); err == nil {
			t.Fatal("Unchanged missed a change")
		}
		m2 = m3
	}
	if registry.ManifestDigest(nil) == "" || registry.ManifestDigest(m1.Files) != m1.Digest {
		t.Fatal("ManifestDigest disagrees with DigestDir")
	}
}

func TestDigestDirRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(dir string) error
		want  string
	}{
		{"symlink out", func(dir string) error { return os.Symlink("/etc/passwd", filepath.Join(dir, "link")) }, "symbolic link"},
		{"fifo", func(dir string) error { return syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644) }, "not a regular file"},
		{"deep", func(dir string) error {
			return os.MkdirAll(filepath.Join(dir, strings.Repeat("d/", registry.MaxDepth+2)), 0o755)
		}, "nested deeper"},
		{"not utf-8", func(dir string) error { return os.WriteFile(filepath.Join(dir, "bad\xff"), nil, 0o644) }, "UTF-8"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := tt.setup(dir); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := registry.DigestDir(ctx, dir)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: DigestDir hangs", tt.name)
		}
	}
	if _, err := registry.DigestDir(ctx, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("DigestDir of a missing folder succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := registry.DigestDir(cancelled, modelDir(t, false, nil)); err == nil {
		t.Error("DigestDir with a cancelled context succeeded")
	}
}
