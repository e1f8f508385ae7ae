package secrets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkScan scans a tree of 200 source files of 16 KiB each, one in
// ten holding a token.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	line := "\tif err := s.handle(ctx, req.Body, &resp); err != nil { return fmt.Errorf(\"handle: %w\", err) }\n"
	body := strings.Repeat(line, 16<<10/len(line))
	var total int64
	for i := range 200 {
		text := body
		if i%10 == 0 {
			text += "token = \"" + ghToken + "\"\n"
		}
		p := filepath.Join(dir, fmt.Sprintf("pkg%d", i%7), fmt.Sprintf("f%03d.go", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(text))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		fs, err := Scan(context.Background(), dir, Options{NoCredentialFiles: true})
		if err != nil || len(fs) != 20 {
			b.Fatalf("%d findings, %v", len(fs), err)
		}
	}
}
