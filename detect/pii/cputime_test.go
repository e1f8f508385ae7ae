//go:build linux

package pii

import (
	"context"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/rampartsec/rampart/detect"
	"golang.org/x/sys/unix"
)

// TestThroughputCPUTime measures what BenchmarkMixed4K measures, in CPU
// time of the measuring thread rather than wall time, which on a shared,
// overloaded machine is far steadier. It reports the median over 15 rounds
// and the 99th percentile of single calls. Run it with
//
//	PII_CPUTIME=1 go test -run TestThroughputCPUTime -v ./detect/pii
func TestThroughputCPUTime(t *testing.T) {
	if os.Getenv("PII_CPUTIME") == "" {
		t.Log("set PII_CPUTIME=1 to measure")
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	threadCPU := func() time.Duration {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ts.Nano())
	}
	d, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, text string }{{"prose 4 KiB", mixedProse()}, {"number-dense 4 KiB", mixedPrompt()}} {
		measure(t, threadCPU, d, tc.name, tc.text)
	}
}

func measure(t *testing.T, threadCPU func() time.Duration, d detect.Detector, name, text string) {
	in := detect.Input{Text: text}
	ctx := context.Background()
	call := func() {
		if _, err := d.Detect(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	call()
	const per = 200
	var rounds []time.Duration
	for range 15 {
		start := threadCPU()
		for range per {
			call()
		}
		rounds = append(rounds, (threadCPU()-start)/per)
	}
	slices.Sort(rounds)
	med := rounds[len(rounds)/2]
	var single []time.Duration
	for range 2000 {
		start := threadCPU()
		call()
		single = append(single, threadCPU()-start)
	}
	slices.Sort(single)
	p99 := single[len(single)*99/100]
	t.Logf("%s: median %v per call, %.1f MB/s of CPU time; p99 of single calls %v", name, med, float64(len(text))/med.Seconds()/1e6, p99)
}
