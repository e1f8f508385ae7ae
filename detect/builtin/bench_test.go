package builtin_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
	_ "github.com/rampartsec/rampart/detect/builtin"
	"github.com/rampartsec/rampart/detect/detecttest"
	"github.com/rampartsec/rampart/internal/cputime"
	"github.com/rampartsec/rampart/policy"
)

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
	prompts := detecttest.Texts(b, "testdata/mixed-4k.jsonl")
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
// together on this workload, and the floor this test enforces. The target
// is met on a quiet machine, without margin (about 51 MB/s of thread CPU
// time; docs/performance.md has the figures). A shared CI machine's caches
// cost up to a tenth more, so the floor sits below the target: it catches
// regressions without failing on a busy neighbour, and the test logs each
// rule's speed whenever the target is missed.
const (
	targetMBps  = 50.0
	targetP99us = 1000.0
	floorMBps   = 40.0
	floorP99us  = targetP99us
)

// TestDefaultInputSpeed measures every default input detector together on
// mixed 4 KiB prompts and enforces the floor above: MB/s on one core and the
// 99th percentile of the per-prompt time, both in thread CPU time, so that
// other work on a shared machine does not count against the detectors (the
// median of 15 rounds for the rate; 640 single calls for the p99). It is
// skipped under the race detector, which slows code several times over, and
// where thread CPU time cannot be read.
//
// Thread CPU time does not make the core's speed constant: the 2-vCPU VMs
// that run CI spend tens of seconds at a time with their core shared, when
// the same test binary measures 21–30 MB/s instead of 41–50 MB/s, every
// piece of code slowed alike. So the rounds alternate with rounds of
// cputime.Reference, a fixed table-lookup loop that is not Rampart's code,
// and when Reference runs slower than cputime.ReferenceMBps (its speed on
// those machines with the core to itself) the floor is judged at the speed
// the detectors would have had on that core: rate × ReferenceMBps /
// (Reference's speed now). Slower code lowers that figure as much as the
// plain rate; a slower core does not. The floor itself is not lowered: a
// faster or unshared core is judged on the plain rate. The measurement is
// taken up to three times, a second apart, and the best attempt is judged.
func TestDefaultInputSpeed(t *testing.T) {
	if raceEnabled {
		t.Skip("timing is meaningless under -race; scripts/test runs this test again without it")
	}
	if !cputime.Supported() {
		t.Skip("thread CPU time cannot be read on this platform")
	}
	prompts := detecttest.Texts(t, "testdata/mixed-4k.jsonl")
	rules := defaultInput(t)
	ctx := context.Background()
	in := make([]detect.Input, 1)
	run := func(rules []*policy.Rule) func() {
		i := 0
		return func() {
			in[0] = detect.Input{Text: prompts[i%len(prompts)], Role: detect.RoleUser, Surface: detect.SurfacePrompt}
			i++
			policy.Check(ctx, rules, in)
		}
	}
	var refSum int64
	ref := func() func() {
		i := 0
		return func() {
			refSum += cputime.Reference(prompts[i%len(prompts)])
			i++
		}
	}
	n := len(prompts[0])
	const maxAttempts = 3
	var rate, judged, p99 float64
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if attempt > 1 {
			time.Sleep(time.Second)
		}
		d, dr := cputime.Paired(run(rules), ref())
		calls := cputime.Calls(40*len(prompts), run(rules))
		r, q := cputime.MBps(n, d), float64(calls[len(calls)*99/100].Microseconds())
		refRate := cputime.MBps(n, dr)
		j := r
		if refRate < cputime.ReferenceMBps {
			j = r * cputime.ReferenceMBps / refRate
		}
		t.Logf("attempt %d: default input detectors: %.1f MB/s (CPU %v per 4 KiB prompt), p99 %.0f µs; reference loop %.0f MB/s (%.0f with the core to itself): %.1f MB/s on such a core",
			attempt, r, d, q, refRate, cputime.ReferenceMBps, j)
		if attempt == 1 || j > judged {
			rate, judged, p99 = r, j, q
		}
		if judged >= floorMBps && p99 <= floorP99us {
			break
		}
	}
	t.Logf("default input detectors: %.1f MB/s measured, %.1f MB/s judged, p99 %.0f µs", rate, judged, p99)
	if judged < targetMBps || p99 > targetP99us {
		t.Logf("below the issue's target of %.0f MB/s and p99 ≤ %.0f µs; each rule alone:", targetMBps, targetP99us)
		for _, r := range rules {
			d := cputime.Median(run([]*policy.Rule{r}))
			t.Logf("  %s: %.1f MB/s", r.Name, cputime.MBps(n, d))
		}
	}
	if judged < floorMBps {
		t.Errorf("default input detectors run at %.1f MB/s (%.1f MB/s on a core where the reference loop runs at %.0f MB/s), want ≥ %.0f MB/s", rate, judged, cputime.ReferenceMBps, floorMBps)
	}
	if p99 > floorP99us {
		t.Errorf("default input detectors' p99 is %.0f µs, want ≤ %.0f µs", p99, floorP99us)
	}
}
