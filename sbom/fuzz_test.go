package sbom

import (
	"os"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkDataset checks what every manifest parser promises: bounded text
// and file lists, no empty paths.
func checkDataset(t *testing.T, d *dataset, err error) {
	t.Helper()
	if err != nil {
		if d != nil {
			t.Fatal("a dataset and an error")
		}
		return
	}
	if d == nil {
		t.Fatal("no dataset and no error")
	}
	for _, s := range append([]string{d.name, d.description, d.homepage}, d.licenses...) {
		if len(s) > maxText+len("…") {
			t.Fatalf("text of %d bytes", len(s))
		}
	}
	if len(d.licenses) > maxLicenses {
		t.Fatalf("%d licences", len(d.licenses))
	}
	if len(d.warnings) > maxDatasetWarnings+1 {
		t.Fatalf("%d warnings", len(d.warnings))
	}
	if len(d.files) > maxDeclared {
		t.Fatalf("%d files", len(d.files))
	}
	for i, f := range d.files {
		if f.path == "" {
			t.Fatalf("file %d without a path", i)
		}
		if f.sha256 != "" && len(f.sha256) != 64 || f.md5 != "" && len(f.md5) != 32 {
			t.Fatalf("digest of the wrong length: %q %q", f.sha256, f.md5)
		}
	}
	if utf8.ValidString(d.name) && !utf8.ValidString(clip(d.name, 10)) {
		t.Fatal("clip broke a rune")
	}
}

func addSeed(f *testing.F, path string, extra ...string) {
	if data, err := os.ReadFile(path); err == nil {
		f.Add(data)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

func FuzzDatasetCard(f *testing.F) {
	addSeed(f, "testdata/repo/data/reviews/README.md",
		"---\nconfigs:\n- config_name: a\n  data_files: x.csv\n---\n",
		"---\nconfigs:\n- data_files: {train: [a, b], test: c}\n---\n",
		"---\na: &x [*x, *x]\nconfigs: *x\n---\n",
		"---\r\nlicense: [mit, apache-2.0]\r\ntask_categories: [a]\r\n...\r\nbody\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDatasetCard(data)
		checkDataset(t, d, err)
	})
}

func FuzzDataPackage(f *testing.F) {
	addSeed(f, "testdata/repo/data/prices/datapackage.json",
		`{"name":"x","resources":[{"path":["a","b"],"hash":"md5:0cc175b9c0f1b6a831c399e269772661"}]}`,
		`{"licenses":"mit","resources":[{"path":1}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDataPackage(data)
		checkDataset(t, d, err)
	})
}

func FuzzCroissant(f *testing.F) {
	addSeed(f, "testdata/repo/data/images/croissant.json",
		`{"@context":{},"@type":["sc:Dataset"],"license":[{"@id":"x"},"y"],"distribution":[{"@type":"cr:FileSet","includes":["*.a","*.b"]}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseCroissant(data)
		checkDataset(t, d, err)
	})
}

func FuzzLFSPointer(f *testing.F) {
	f.Add([]byte(lfsPointer))
	f.Fuzz(func(t *testing.T, data []byte) {
		oid, size, ok := parseLFSPointer(data)
		if ok && (len(oid) != 64 || size < 0 || len(data) >= lfsPointerMax) {
			t.Fatalf("accepted %q: %q %d", data, oid, size)
		}
	})
}

// FuzzMatchSegments: no panic, and without "**" (or escapes and classes)
// a pattern matches as path.Match does.
func FuzzMatchSegments(f *testing.F) {
	f.Add("data/**/*.parquet", "data/x/y/a.parquet")
	f.Add("*.csv", "a.csv")
	f.Add("[a-", "a")
	f.Fuzz(func(t *testing.T, pat, name string) {
		if len(pat) > 256 || len(name) > 256 {
			return
		}
		got := matchSegments(strings.Split(pat, "/"), strings.Split(name, "/"))
		// A "**" segment, or an escape or class that could match the
		// separator itself, has no path.Match counterpart.
		if strings.Contains(pat, "**") || strings.ContainsAny(pat, `\\[`) {
			return
		}
		want, err := path.Match(pat, name)
		if err == nil && got != want {
			t.Errorf("matchSegments(%q, %q) = %v, path.Match = %v", pat, name, got, want)
		}
	})
}
