package builtin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
	_ "github.com/rampartsec/rampart/detect/builtin"
	"github.com/rampartsec/rampart/policy"
)

// mixedPrompts reads testdata/mixed-4k.jsonl: sixteen 4 KiB prompts mixing
// prose, Go code, sentences in ten languages and a little personal data.
func mixedPrompts(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/mixed-4k.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			tb.Fatal(err)
		}
		out = append(out, row.Text)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(out) == 0 {
		tb.Fatal("no prompts")
	}
	return out
}

// defaultInput compiles the embedded default configuration and returns the
// input rules of its default policy: every detector a prompt meets.
func defaultInput(tb testing.TB) []*policy.Rule {
	tb.Helper()
	cfg, err := config.Default()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := policy.Build(cfg, detect.Default)
	if err != nil {
		tb.Fatal(err)
	}
	p := set.Select("/v1/chat/completions", "")
	if p == nil || len(p.Input) == 0 {
		tb.Fatal("the default policy has no input rules")
	}
	return p.Input
}

// BenchmarkDefaultInput runs every input detector of the default policy
// (policy.Check, as the gateway does) over mixed 4 KiB prompts, one prompt
// per iteration. It reports throughput (b.SetBytes) and the 99th percentile
// of the per-prompt time as p99-µs. Sub-benchmarks: "all" is the default
// policy's input rules; "before-detectors-issue" only the rules the default
// policy had before the injection and unicode detectors joined it (secrets,
// pii, prompt_size), the baseline measured in the same run; and one per
// rule alone.
func BenchmarkDefaultInput(b *testing.B) {
	prompts := mixedPrompts(b)
	rules := defaultInput(b)
	var before []*policy.Rule
	for _, r := range rules {
		switch r.Name {
		case "secrets", "pii", "prompt_size":
			before = append(before, r)
		}
	}
	b.Run("all", func(b *testing.B) { benchRules(b, prompts, rules) })
	b.Run("before-detectors-issue", func(b *testing.B) { benchRules(b, prompts, before) })
	for _, r := range rules {
		b.Run("only-"+r.Name, func(b *testing.B) { benchRules(b, prompts, []*policy.Rule{r}) })
	}
}

func benchRules(b *testing.B, prompts []string, rules []*policy.Rule) {
	ctx := context.Background()
	in := make([]detect.Input, 1)
	// Warm caches and pools once per prompt.
	for _, p := range prompts {
		in[0] = detect.Input{Text: p, Role: detect.RoleUser, Surface: detect.SurfacePrompt}
		policy.Check(ctx, rules, in)
	}
	times := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(prompts[0])))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in[0] = detect.Input{Text: prompts[i%len(prompts)], Role: detect.RoleUser, Surface: detect.SurfacePrompt}
		t0 := time.Now()
		policy.Check(ctx, rules, in)
		times = append(times, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// The speed the detectors issue asks of every default input detector
// together on this workload, and the floor this test enforces meanwhile.
// The target is not met yet (docs/performance.md has the measured figures):
// the floor sits below the measured speed so that it catches regressions,
// and the test logs how far the target is.
const (
	targetMBps  = 50.0
	targetP99us = 1000.0
	floorMBps   = 10.0
	floorP99us  = 2500.0
)

// TestDefaultInputSpeed measures every default input detector together on
// mixed 4 KiB prompts and enforces the floor above (MB/s on one core, and
// the 99th percentile of the per-prompt time). It takes the median of five
// short measurements, so one disturbance on a shared machine does not
// decide it, and is skipped under the race detector, which slows code
// several times over.
func TestDefaultInputSpeed(t *testing.T) {
	if raceEnabled {
		t.Skip("timing is meaningless under -race; scripts/test runs this test again without it")
	}
	prompts := mixedPrompts(t)
	rules := defaultInput(t)
	ctx := context.Background()
	in := make([]detect.Input, 1)
	var rates, p99s []float64
	for round := 0; round < 5; round++ {
		var times []time.Duration
		var total time.Duration
		var bytes int
		for rep := 0; rep < 8; rep++ {
			for _, p := range prompts {
				in[0] = detect.Input{Text: p, Role: detect.RoleUser, Surface: detect.SurfacePrompt}
				t0 := time.Now()
				policy.Check(ctx, rules, in)
				d := time.Since(t0)
				times = append(times, d)
				total += d
				bytes += len(p)
			}
		}
		slices.Sort(times)
		rates = append(rates, float64(bytes)/total.Seconds()/1e6)
		p99s = append(p99s, float64(times[len(times)*99/100].Microseconds()))
	}
	slices.Sort(rates)
	slices.Sort(p99s)
	rate, p99 := rates[2], p99s[2]
	t.Logf("default input detectors: median %.1f MB/s, median p99 %.0f µs (rounds: %v MB/s, %v µs)", rate, p99, rates, p99s)
	if rate < targetMBps || p99 > targetP99us {
		t.Logf("below the issue's target of %.0f MB/s and p99 ≤ %.0f µs", targetMBps, targetP99us)
		// Name the slow ones: each detector alone on the same prompts.
		for _, r := range rules {
			var total time.Duration
			var bytes int
			for _, p := range prompts {
				in[0] = detect.Input{Text: p, Role: detect.RoleUser, Surface: detect.SurfacePrompt}
				t0 := time.Now()
				policy.Check(ctx, []*policy.Rule{r}, in)
				total += time.Since(t0)
				bytes += len(p)
			}
			t.Logf("  %s alone: %.1f MB/s", r.Name, float64(bytes)/total.Seconds()/1e6)
		}
	}
	if rate < floorMBps {
		t.Errorf("default input detectors run at %.1f MB/s, want ≥ %.0f MB/s", rate, floorMBps)
	}
	if p99 > floorP99us {
		t.Errorf("default input detectors' p99 is %.0f µs, want ≤ %.0f µs", p99, floorP99us)
	}
}
