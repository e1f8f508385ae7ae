package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/rampartsec/rampart/internal/cputime"
)

// TestCPUTime reports the CPU time of a walk, steadier than the benchmark
// on a shared machine. Run it with
//
//	MODEL_CPUTIME=1 go test -run TestCPUTime -v ./scan/model/archive
func TestCPUTime(t *testing.T) {
	if os.Getenv("MODEL_CPUTIME") == "" || !cputime.Supported() {
		t.Skip("set MODEL_CPUTIME=1 on Linux")
	}
	files := []zfile{{name: "archive/data.pkl", data: payloadOf(100_000), method: zip.Store}}
	for i := range 1000 {
		files = append(files, zfile{name: "archive/data/" + itoa(i), data: make([]byte, 64<<10), method: zip.Store})
	}
	data := buildZip(t, files...)
	walk := func(open bool) func() {
		return func() {
			WalkZip(context.Background(), bytes.NewReader(data), int64(len(data)), Limits{}, func(e Entry) error {
				if open && e.Name == "archive/data.pkl" {
					rc, _ := e.Open()
					io.Copy(io.Discard, rc)
				}
				return nil
			})
		}
	}
	t.Logf("PyTorch-style zip, 1,001 entries, %d MB: walk %v, walk + read the 100 kB pickle %v",
		len(data)>>20, cputime.Median(walk(false)), cputime.Median(walk(true)))
	bomb := buildZip(t, zfile{name: "bomb", data: make([]byte, 64<<20), method: zip.Deflate})
	t.Logf("64 MiB-of-zeros bomb (%d kB): walk + read until the ratio stops it %v", len(bomb)>>10, cputime.Median(func() {
		walkAll(t, bomb, Limits{})
	}))
}
