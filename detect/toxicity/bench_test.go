package toxicity

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/internal/cputime"
)

// benchText returns about n bytes of English prose (the textnorm package's
// fixture, repeated).
func benchText(b *testing.B, n int) string {
	b.Helper()
	p, err := os.ReadFile("../textnorm/testdata/prose_en.txt")
	if err != nil {
		b.Fatal(err)
	}
	s := strings.Repeat(string(p)+" ", n/len(p)+1)
	return s[:n]
}

func benchDetect(b *testing.B, opts map[string]any, text string) {
	d, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	in := detect.Input{Text: text}
	ctx := context.Background()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	runtime.LockOSThread() // thread CPU time needs one thread
	defer runtime.UnlockOSThread()
	cpu, _ := cputime.Thread()
	n := 0
	for b.Loop() {
		if _, err := d.Detect(ctx, in); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportCPU(b, cpu, n, len(text))
}

// reportCPU reports CPU ns/op and MB/s of CPU time.
func reportCPU(b *testing.B, start time.Duration, n, size int) {
	end, ok := cputime.Thread()
	d := end - start
	if !ok || n == 0 || d <= 0 {
		return
	}
	per := float64(d.Nanoseconds()) / float64(n)
	b.ReportMetric(per, "cpu-ns/op")
	b.ReportMetric(float64(size)/per*1e3, "cpu-MB/s")
}

func BenchmarkDetect4KiB(b *testing.B) { benchDetect(b, nil, benchText(b, 4096)) }

func BenchmarkDetectLexicon4KiB(b *testing.B) {
	benchDetect(b, map[string]any{"classifier": false}, benchText(b, 4096))
}

func BenchmarkDetectToxic4KiB(b *testing.B) {
	s := strings.Repeat("you are a fucking idiot and I will kill you, kys. ", 100)
	benchDetect(b, nil, s[:4096])
}

func BenchmarkClassifier4KiB(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	text := benchText(b, 4096)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	runtime.LockOSThread() // thread CPU time needs one thread
	defer runtime.UnlockOSThread()
	cpu, _ := cputime.Thread()
	n := 0
	for b.Loop() {
		m.Classifier.Logit(text)
		n++
	}
	reportCPU(b, cpu, n, len(text))
}
