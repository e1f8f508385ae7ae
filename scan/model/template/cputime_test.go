package template

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/internal/cputime"
)

// TestCPUTime reports the CPU time of checking each benign template. Run it
// with
//
//	MODEL_CPUTIME=1 go test -run TestCPUTime -v ./scan/model/template
func TestCPUTime(t *testing.T) {
	if os.Getenv("MODEL_CPUTIME") == "" || !cputime.Supported() {
		t.Skip("set MODEL_CPUTIME=1 on Linux")
	}
	files, _ := filepath.Glob("testdata/benign/*.jinja")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		d := cputime.Median(func() { Check(s) })
		t.Logf("%-20s %6d bytes %9v %6.1f MB/s", filepath.Base(name), len(s), d, float64(len(s))/d.Seconds()/1e6)
	}
}
