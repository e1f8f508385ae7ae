package pii

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
	"github.com/rampartsec/rampart/internal/cputime"
)

// TestThroughputCPUTime measures what BenchmarkProse4K and
// BenchmarkMixed4K measure, and the default-input workload of
// detect/builtin (BenchmarkDefaultInput/only-pii: the sixteen 4 KiB
// prompts of ../builtin/testdata/mixed-4k.jsonl, in turn), in CPU time of
// the measuring thread rather than wall time, which on a shared,
// overloaded machine is far steadier. It reports the median over 15 rounds
// and the 99th percentile of single calls. Run it with
//
//	PII_CPUTIME=1 go test -run TestThroughputCPUTime -v ./detect/pii
func TestThroughputCPUTime(t *testing.T) {
	if os.Getenv("PII_CPUTIME") == "" {
		t.Log("set PII_CPUTIME=1 to measure")
		return
	}
	if !cputime.Supported() {
		t.Skip("thread CPU time is not available on this platform")
	}
	d, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, text string }{{"prose 4 KiB", mixedProse()}, {"number-dense 4 KiB", mixedPrompt()}} {
		measure(t, d, tc.name, tc.text)
	}
	prompts := detecttest.Texts(t, "../builtin/testdata/mixed-4k.jsonl")
	ctx := context.Background()
	all := func() {
		for _, p := range prompts {
			if _, err := d.Detect(ctx, detect.Input{Text: p}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all()
	med := cputime.MedianOf(cputime.Rounds, 20, all) / time.Duration(len(prompts))
	t.Logf("mixed-4k workload: median %v per 4 KiB prompt, %.1f MB/s of CPU time", med, cputime.MBps(len(prompts[0]), med))
}

func measure(t *testing.T, d detect.Detector, name, text string) {
	in := detect.Input{Text: text}
	ctx := context.Background()
	call := func() {
		if _, err := d.Detect(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	call()
	med := cputime.MedianOf(cputime.Rounds, 200, call)
	single := cputime.Calls(2000, call)
	p99 := single[len(single)*99/100]
	t.Logf("%s: median %v per call, %.1f MB/s of CPU time; p99 of single calls %v", name, med, cputime.MBps(len(text), med), p99)
}
