package textnorm

import (
	"os"
	"testing"

	"github.com/rampartsec/rampart/internal/cputime"
)

// TestThroughputCPUTime measures what the benchmarks measure in CPU time of
// the benchmarking thread instead of wall time, which on a shared,
// overloaded machine is far steadier. It reports the median of 15 rounds.
// Run it with
//
//	TEXTNORM_CPUTIME=1 go test -run TestThroughputCPUTime -v ./detect/textnorm
func TestThroughputCPUTime(t *testing.T) {
	if os.Getenv("TEXTNORM_CPUTIME") == "" {
		return
	}
	if !cputime.Supported() {
		t.Skip("thread CPU time is not available on this platform")
	}
	median, mbps := cputime.Median, cputime.MBps
	for _, name := range []string{"prose_en.txt", "prose_mixed.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b[:4096])
		dst := make([]byte, 0, 2*len(s))
		fold := median(func() { dst = Fold(dst[:0], s) })
		folded := Fold(nil, s)
		joined := median(func() { dst = Joined(dst[:0], folded) })
		dec := median(func() { Decode(s, 3, 16) })
		inv := median(func() { Invisible(s) })
		t.Logf("%-16s Fold %8v (%6.1f MB/s)  Joined %8v (%6.1f MB/s)  Decode %8v (%6.1f MB/s)  Invisible %8v (%6.1f MB/s)",
			name, fold, mbps(len(s), fold), joined, mbps(len(folded), joined), dec, mbps(len(s), dec), inv, mbps(len(s), inv))
	}
}
