package model_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
)

// TestCompressedPickles scans a pickle that calls os.system behind every
// compressor joblib offers and the reference tools write (see
// archive/testdata/SOURCE.md): each is opened and the pickle found
// critical, whatever the file is called.
func TestCompressedPickles(t *testing.T) {
	dir := filepath.Join("archive", "testdata", "compressed")
	for _, name := range []string{
		"evil.pkl.xz", "evil-crc32.pkl.xz", "evil-sha256.pkl.xz", "evil-nocheck.pkl.xz",
		"evil-python.pkl.xz", "evil-blocks.pkl.xz", "evil-streams.pkl.xz",
		"evil.pkl.lzma", "evil-python.pkl.lzma", "evil.pkl.zst", "evil.pkl.lz4", "evil-legacy.pkl.lz4",
		"evil-bzip2.zip", "evil-lzma.zip",
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := model.Scan(context.Background(), []string{filepath.Join(dir, name)}, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var critical bool
			for _, f := range rep.Findings {
				if f.Severity == finding.Critical && f.Excerpt == "os.system" {
					critical = true
				}
				if f.RuleID == "model.archive.not-inspected" || f.RuleID == "model.archive.malformed" {
					t.Errorf("unexpected %s: %s", f.RuleID, f.Message)
				}
			}
			if !critical {
				t.Errorf("no critical os.system finding:\n%s", describe(rep))
			}
		})
	}
	// What is not decoded says so: a filter chain no model writer uses is
	// an evasion (high), a window beyond the limit a limit (medium).
	for name, want := range map[string]struct {
		rule string
		sev  finding.Severity
	}{
		"evil-bcj.pkl.xz":     {"model.archive.filter-evasion", finding.High},
		"evil-window.pkl.zst": {"model.archive.limit", finding.Medium},
	} {
		rep, err := model.Scan(context.Background(), []string{filepath.Join(dir, name)}, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range rep.Findings {
			found = found || f.RuleID == want.rule && f.Severity == want.sev
		}
		if !found {
			t.Errorf("%s: no %s %s finding:\n%s", name, want.sev, want.rule, describe(rep))
		}
	}
}
