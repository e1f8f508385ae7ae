package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/scan/deps/version"
)

const export = "testdata/export"

func importExport(t *testing.T, src string) (*DB, Stats) {
	t.Helper()
	dir := t.TempDir()
	st, err := Import(context.Background(), src, dir)
	if err != nil {
		t.Fatalf("Import(%s): %v", src, err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db, st
}

func TestImportStats(t *testing.T) {
	_, st := importExport(t, export)
	if st.Files != 12 || st.Records != 11 || st.Withdrawn != 1 || st.Malicious != 1 || st.Invalid != 0 {
		t.Errorf("stats = %+v, want 12 files, 11 records, 1 withdrawn, 1 malicious, 0 invalid", st)
	}
	want := map[string]int{"PyPI": 6, "npm": 2, "Go": 2, "crates.io": 1}
	for eco, n := range want {
		if st.Ecosystems[eco] != n {
			t.Errorf("Ecosystems[%s] = %d, want %d", eco, st.Ecosystems[eco], n)
		}
	}
}

type queryCase struct {
	eco, name, ver string
	ids            []string
	fixed          []string
}

var queryCases = []queryCase{
	{"PyPI", "torch", "2.5.1", []string{"TEST-PYPI-0001"}, []string{"2.6.0"}},
	{"PyPI", "torch", "2.6.0", nil, nil},
	{"PyPI", "torch", "2.6.0rc1", []string{"TEST-PYPI-0001"}, []string{"2.6.0"}},
	{"PyPI", "torch", "2.6.0.dev20241112", []string{"TEST-PYPI-0001"}, []string{"2.6.0"}},
	{"PyPI", "torch", "2.5.1+cu121", []string{"TEST-PYPI-0001"}, []string{"2.6.0"}},
	{"PyPI", "torch", "2.6.0+cpu", nil, nil},
	{"PyPI", "torch", "1!0.1", nil, nil},
	{"pypi", "Torch", "v2.0", []string{"TEST-PYPI-0001"}, []string{"2.6.0"}},
	{"PyPI", "transformers", "4.35.2", []string{"TEST-PYPI-0002"}, []string{"4.36.0"}},
	{"PyPI", "transformers", "4.36.0.dev0", []string{"TEST-PYPI-0002"}, []string{"4.36.0"}},
	{"PyPI", "transformers", "4.36.0", nil, nil},
	{"PyPI", "pillow", "10.0.0", []string{"TEST-PYPI-0003"}, []string{"10.0.1"}},
	{"PyPI", "PILLOW", "9.0", []string{"TEST-PYPI-0003"}, []string{"10.0.1"}},
	{"PyPI", "pillow", "10.0.1", nil, nil},
	{"PyPI", "pillow", "10.1.0", []string{"TEST-PYPI-0003"}, nil},
	{"PyPI", "pillow", "10.2.0", []string{"TEST-PYPI-0003"}, nil},
	{"PyPI", "pillow", "10.2.0.post1", nil, nil},
	{"PyPI", "pillow", "10.2.1", nil, nil},
	{"PyPI", "example-pkg-name", "1.0.post2", []string{"TEST-PYPI-0005"}, []string{"1!0.5"}},
	{"PyPI", "EXAMPLE_pkg..name", "1.0", nil, nil},
	{"PyPI", "example.pkg.name", "2.0", []string{"TEST-PYPI-0005"}, []string{"1!0.5"}},
	{"PyPI", "example-pkg-name", "1!0.4", []string{"TEST-PYPI-0005"}, []string{"1!0.5"}},
	{"PyPI", "example-pkg-name", "1!0.5", nil, nil},
	{"PyPI", "jinja2", "3.1.3", []string{"PYSEC-TEST-0006"}, []string{"3.1.4"}},
	{"PyPI", "Jinja2", "3.1.4rc1", []string{"PYSEC-TEST-0006"}, []string{"3.1.4"}},
	{"PyPI", "jinja2", "3.1.4", nil, nil},
	{"PyPI", "pytorch-lightening", "0.0.3", []string{"MAL-0000-0001"}, nil},
	{"PyPI", "pytorch-lightning", "2.0.0", nil, nil},
	{"npm", "lodash", "4.17.20", []string{"TEST-NPM-0001"}, []string{"4.17.21"}},
	{"npm", "lodash", "4.17.21", nil, nil},
	{"npm", "Lodash", "4.17.20", nil, nil},
	{"npm", "@example/llm-client", "1.0.0-beta.1", nil, nil},
	{"npm", "@example/llm-client", "1.0.0-beta.2", []string{"TEST-NPM-0002"}, []string{"1.0.0-rc.1"}},
	{"npm", "@example/llm-client", "1.0.0-beta.10", []string{"TEST-NPM-0002"}, []string{"1.0.0-rc.1"}},
	{"npm", "@example/llm-client", "1.0.0-rc.1", nil, nil},
	{"npm", "@example/llm-client", "1.0.0", nil, nil},
	{"npm", "@example/llm-client", "2.4.9", []string{"TEST-NPM-0002"}, nil},
	{"npm", "@example/llm-client", "2.5.0", nil, nil},
	{"Go", "golang.org/x/net", "v0.22.0", []string{"TEST-GO-0001"}, []string{"0.23.0"}},
	{"Go", "golang.org/x/net", "v0.23.0", nil, nil},
	{"Go", "golang.org/x/net", "v0.0.0-20240101000000-aaaaaaaaaaaa", []string{"TEST-GO-0001"}, []string{"0.23.0"}},
	{"Go", "stdlib", "v1.22.1", []string{"TEST-GO-0001"}, []string{"1.22.2"}},
	{"Go", "stdlib", "go1.22.0", []string{"TEST-GO-0001"}, []string{"1.22.2"}},
	{"Go", "stdlib", "1.21.9", nil, nil},
	{"Go", "github.com/example/tokenizer", "v0.0.0-20240201000000-aaaaaaaaaaaa", []string{"TEST-GO-0002"}, []string{"0.0.0-20240301000000-abcdefabcdef"}},
	{"Go", "github.com/example/tokenizer", "v0.0.0-20240401000000-aaaaaaaaaaaa", nil, nil},
	{"crates.io", "tensor-mmap", "0.3.3", []string{"TEST-RUST-0001"}, []string{"0.3.4"}},
	{"crates.io", "tensor-mmap", "0.3.4", nil, nil},
	{"crates.io", "tensor-mmap", "0.4.0", []string{"TEST-RUST-0001"}, []string{"0.4.1"}},
	{"crates.io", "tensor-mmap", "0.2.9", nil, nil},
	{"Maven", "org.example:lib", "1.0", nil, nil},
}

func checkQueries(t *testing.T, db *DB) {
	t.Helper()
	for _, c := range queryCases {
		vs, err := db.Query(c.eco, c.name, c.ver)
		if err != nil {
			t.Errorf("Query(%s, %s, %s): %v", c.eco, c.name, c.ver, err)
			continue
		}
		var ids, fixed []string
		for _, v := range vs {
			ids = append(ids, v.ID)
			fixed = append(fixed, v.Fixed...)
		}
		if !slices.Equal(ids, c.ids) || !slices.Equal(fixed, c.fixed) {
			t.Errorf("Query(%s, %s, %s) = %v fixed %v, want %v fixed %v", c.eco, c.name, c.ver, ids, fixed, c.ids, c.fixed)
		}
	}
}

func TestQueryFolder(t *testing.T) {
	db, _ := importExport(t, export)
	checkQueries(t, db)
	if got := db.Ecosystems(); !slices.Equal(got, []string{"Go", "PyPI", "crates.io", "npm"}) {
		t.Errorf("Ecosystems() = %v", got)
	}
}

// zipDir writes the record files under dir into a zip archive.
func zipDir(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "all.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQueryZip(t *testing.T) {
	db, st := importExport(t, zipDir(t, export))
	if st.Records != 11 {
		t.Errorf("records = %d, want 11", st.Records)
	}
	checkQueries(t, db)
}

func TestQueryBadVersion(t *testing.T) {
	db, _ := importExport(t, export)
	vs, err := db.Query("PyPI", "torch", "not a version")
	if !errors.Is(err, version.ErrInvalid) || len(vs) != 0 {
		t.Errorf("Query(torch, bad) = %v, %v; want no result and ErrInvalid", vs, err)
	}
	// An explicitly listed version still matches by string.
	vs, err = db.Query("PyPI", "pytorch-lightening", "0.0.1")
	if err != nil || len(vs) != 1 {
		t.Errorf("Query(pytorch-lightening 0.0.1) = %v, %v", vs, err)
	}
	batch, err := db.QueryBatch(context.Background(), []PackageVersion{
		{Ecosystem: "PyPI", Name: "torch", Version: "junk junk"}, {Ecosystem: "npm", Name: "lodash", Version: "4.17.0"},
		// jinja2 pinned to the commit that fixes PYSEC-TEST-0006's GIT range.
		{Ecosystem: "PyPI", Name: "jinja2", Repo: "github.com/x/y", Commit: "0123456789abcdef0123456789abcdef01234567"},
		{Ecosystem: "PyPI", Name: "jinja2", Repo: "example.invalid/pallets/jinja", Commit: "0123456789abcdef0123456789abcdef01234567"},
	})
	if err != nil || len(batch) != 4 || len(batch[0]) != 0 || len(batch[1]) != 1 || len(batch[2]) != 0 || len(batch[3]) != 0 {
		t.Errorf("QueryBatch = %v, %v", batch, err)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestImportInvalidRecords(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"good.json":         `{"id":"OK-1","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`,
		"syntax.json":       `{"id": "X", "affected": [}`,
		"two.json":          `{"id":"X-2","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0","fixed":"1"}]}]}]}`,
		"type.json":         `{"id":"X-3","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"WHATEVER","events":[]}]}]}`,
		"noid.json":         `{"summary":"x"}`,
		"alias.yaml":        "id: X-4\na: &x [1, 2]\nb: *x\n",
		"deep.yaml":         "id: X-5\na: " + strings.Repeat("[", 5000) + "\n",
		"wrongtype.json":    `{"id": 5}`,
		".git/ignored.json": `junk`,
		"notes.txt":         `junk`,
	})
	db, st := importExport(t, dir)
	if st.Files != 8 || st.Records != 1 || st.Invalid != 7 {
		t.Fatalf("stats = %+v, want 8 files, 1 record, 7 invalid", st)
	}
	all := strings.Join(st.Errors, "\n")
	for _, want := range []string{"byte offset", "exactly one of", "unknown range type", "bad or missing id", "aliases", "nested deeper", "wrong type"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
	if vs, err := db.Query("PyPI", "a", "5"); err != nil || len(vs) != 1 {
		t.Errorf("Query(a) = %v, %v", vs, err)
	}
}

func TestImportLimits(t *testing.T) {
	ctx := context.Background()
	dbDir := t.TempDir()
	if _, err := Import(ctx, export, dbDir); err != nil {
		t.Fatal(err)
	}
	// A failed import leaves the previous database usable.
	_, err := ImportWithLimits(ctx, export, dbDir, Limits{MaxFiles: 3})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("MaxFiles 3: err = %v, want ErrLimit", err)
	}
	db, err := Open(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	if vs, _ := db.Query("PyPI", "torch", "2.0"); len(vs) != 1 {
		t.Errorf("previous database lost: %v", vs)
	}
	if _, err := ImportWithLimits(ctx, export, t.TempDir(), Limits{MaxFileSize: 100}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxFileSize 100: err = %v, want ErrLimit", err)
	}
	if _, err := ImportWithLimits(ctx, export, t.TempDir(), Limits{MaxTotalSize: 2000}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxTotalSize 2000: err = %v, want ErrLimit", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Import(cctx, export, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled import: err = %v", err)
	}
}

func TestImportZipBomb(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bomb.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("bomb.json")
	w.Write([]byte(`{"id":"B","summary":"`))
	w.Write(bytes.Repeat([]byte{' '}, 8<<20))
	w.Write([]byte(`"}`))
	zw.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Import(context.Background(), p, t.TempDir())
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "compresses") {
		t.Errorf("zip bomb: err = %v, want a ratio ErrLimit", err)
	}
}

func TestImportZipLyingHeader(t *testing.T) {
	// The header declares 10 bytes; the entry inflates to 2 MiB.
	body := bytes.Repeat([]byte{'x'}, 2<<20)
	var comp bytes.Buffer
	zw0 := zip.NewWriter(&comp)
	w0, _ := zw0.CreateHeader(&zip.FileHeader{Name: "a.json", Method: zip.Deflate})
	w0.Write(body)
	zw0.Close()
	zr, err := zip.NewReader(bytes.NewReader(comp.Bytes()), int64(comp.Len()))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := zr.File[0].OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	rawData, err := io.ReadAll(raw)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := zr.File[0].FileHeader
	hdr.UncompressedSize64 = 10
	w, err := zw.CreateRaw(&hdr)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(rawData)
	zw.Close()
	p := filepath.Join(t.TempDir(), "lie.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	_, err = ImportWithLimits(context.Background(), p, t.TempDir(), Limits{MaxFileSize: 1 << 20, MaxRatio: 1 << 30})
	if err == nil {
		t.Fatal("lying zip header accepted")
	}
	if !errors.Is(err, ErrLimit) && !errors.Is(err, zip.ErrFormat) {
		t.Errorf("lying header: err = %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("Open of an empty directory succeeded")
	}
	dir := writeFiles(t, map[string]string{"index.json": `{"format":"other/9"}`})
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("Open(other format) = %v", err)
	}
	dir = writeFiles(t, map[string]string{"index.json": `{"format":"rampart-osv/1","ecosystems":{"PyPI":{"file":"../x.jsonl.gz"}}}`})
	if _, err := Open(dir); err == nil {
		t.Error("Open accepted a path outside the database")
	}
	dir = writeFiles(t, map[string]string{
		"index.json":    `{"format":"rampart-osv/1","ecosystems":{"PyPI":{"file":"PyPI.jsonl.gz"}}}`,
		"PyPI.jsonl.gz": "not gzip",
	})
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query("PyPI", "torch", "1.0"); err == nil {
		t.Error("Query over a corrupt ecosystem file succeeded")
	}
}

func TestDuplicateKeepsLatest(t *testing.T) {
	rec := func(mod, fixed string) string {
		return `{"id":"D-1","modified":"` + mod + `","affected":[{"package":{"ecosystem":"npm","name":"d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"` + fixed + `"}]}]}]}`
	}
	dir := writeFiles(t, map[string]string{
		"a/D-1.json": rec("2024-01-01T00:00:00Z", "1.0.0"),
		"b/D-1.json": rec("2024-06-01T00:00:00Z", "2.0.0"),
		"c/D-1.json": rec("2023-01-01T00:00:00Z", "3.0.0"),
	})
	db, _ := importExport(t, dir)
	vs, err := db.Query("npm", "d", "1.5.0")
	if err != nil || len(vs) != 1 || !slices.Equal(vs[0].Fixed, []string{"2.0.0"}) {
		t.Errorf("Query = %+v, %v; want the 2024-06 record, fixed 2.0.0", vs, err)
	}
}
