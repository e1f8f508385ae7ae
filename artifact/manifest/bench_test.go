package manifest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkBuild hashes a model of 32 files of 2 MiB (from the page
// cache) with the default worker pool.
func BenchmarkBuild(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 2<<20)
	rand.Read(data)
	for i := range 32 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("shard-%02d", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(32 * int64(len(data)))
	for b.Loop() {
		if _, err := Build(context.Background(), dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
