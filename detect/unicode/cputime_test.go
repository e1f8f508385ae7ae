package unicode

import (
	"context"
	"os"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
	"github.com/rampartsec/rampart/internal/cputime"
)

// TestThroughputCPUTime measures Detect in CPU time of the benchmarking
// thread (steadier than wall time on a shared machine), the median of 15
// rounds. Run it with
//
//	UNICODE_CPUTIME=1 go test -run TestThroughputCPUTime -v ./detect/unicode
func TestThroughputCPUTime(t *testing.T) {
	if os.Getenv("UNICODE_CPUTIME") == "" {
		return
	}
	if !cputime.Supported() {
		t.Skip("thread CPU time cannot be read on this platform")
	}
	d := newDetector(t, nil)
	for _, name := range []string{"prose_en.txt", "prose_mixed.txt", "mixed-4k"} {
		var ins []detect.Input
		if name == "mixed-4k" {
			for _, p := range detecttest.Texts(t, "../builtin/testdata/mixed-4k.jsonl") {
				ins = append(ins, detect.Input{Text: p})
			}
		} else {
			b, err := os.ReadFile("../textnorm/testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			ins = append(ins, detect.Input{Text: string(b[:4096])})
		}
		size := 0
		for _, in := range ins {
			size += len(in.Text)
		}
		f := func() {
			for _, in := range ins {
				if _, err := d.Detect(context.Background(), in); err != nil {
					t.Fatal(err)
				}
			}
		}
		med := cputime.Median(f)
		t.Logf("%-16s Detect %8v (%6.1f MB/s)", name, med, float64(size)/med.Seconds()/1e6)
	}
}
