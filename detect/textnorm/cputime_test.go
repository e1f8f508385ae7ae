//go:build linux

package textnorm

import (
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rampartsec/rampart/detect/detecttest"
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
	median := func(f func()) time.Duration { return cpuMedian(t, f) }
	mbps := func(n int, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }
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
	ps := detecttest.Texts(t, "../builtin/testdata/mixed-4k.jsonl")
	n := 0
	for _, s := range ps {
		n += len(s)
	}
	dst := make([]byte, 0, 16<<10)
	fold := median(func() {
		for _, s := range ps {
			dst = Fold(dst[:0], s)
		}
	})
	dec := median(func() {
		for _, s := range ps {
			Decode(s, 3, 16)
		}
	})
	t.Logf("%-16s Fold %8v (%6.1f MB/s)  Decode %8v (%6.1f MB/s)", "mixed-4k", fold, mbps(n, fold), dec, mbps(n, dec))
}

// cpuMedian returns the median CPU time per call of f over 15 rounds of
// about 20 ms each, measured on the calling thread.
func cpuMedian(t *testing.T, f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	threadCPU := func() time.Duration {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ts.Nano())
	}
	f()
	start, n := threadCPU(), 0
	for threadCPU()-start < 5*time.Millisecond {
		f()
		n++
	}
	per := max(1, int(20*time.Millisecond/((threadCPU()-start)/time.Duration(n))))
	var rounds []time.Duration
	for range 15 {
		start := threadCPU()
		for range per {
			f()
		}
		rounds = append(rounds, (threadCPU()-start)/time.Duration(per))
	}
	slices.Sort(rounds)
	return rounds[len(rounds)/2]
}
