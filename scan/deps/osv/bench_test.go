package osv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// synthExport writes n PyPI records over n/4 packages, each with two
// ECOSYSTEM intervals and a 20-entry versions list, like osv.dev's PyPI data.
func synthExport(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	for i := 0; i < n; i++ {
		vs := ""
		for j := 0; j < 20; j++ {
			vs += fmt.Sprintf(`,"1.%d.%d"`, j, i%7)
		}
		rec := fmt.Sprintf(`{"id":"SYN-%d","modified":"2024-01-01T00:00:00Z","summary":"synthetic record %d","details":"%0200d",
"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
"affected":[{"package":{"ecosystem":"PyPI","name":"pkg-%d"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.%d.0"},{"introduced":"2.0"},{"fixed":"2.%d.1"}]}],"versions":[%s]}]}`,
			i, i, 0, i/4, i%30, i%9, vs[1:])
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("SYN-%d.json", i)), []byte(rec), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func BenchmarkImport(b *testing.B) {
	src := synthExport(b, 5000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Import(context.Background(), src, b.TempDir()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQuery(b *testing.B) {
	src := synthExport(b, 5000)
	dir := b.TempDir()
	if _, err := Import(context.Background(), src, dir); err != nil {
		b.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	if vs, err := db.Query("PyPI", "pkg-10", "1.0.0"); err != nil || len(vs) == 0 {
		b.Fatalf("warm-up query: %v %v", vs, err)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		if _, err := db.Query("PyPI", fmt.Sprintf("Pkg_%d", i%1250), "2.3.0"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenFirstQuery(b *testing.B) {
	src := synthExport(b, 5000)
	dir := b.TempDir()
	if _, err := Import(context.Background(), src, dir); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		db, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Query("PyPI", "pkg-10", "1.0.0"); err != nil {
			b.Fatal(err)
		}
	}
}
