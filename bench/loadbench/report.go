package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"
)

// runResult is one run: one target, one scenario, one round.
type runResult struct {
	Round    int     `json:"round"`
	Scenario string  `json:"scenario"`
	Target   string  `json:"target"`
	Requests int     `json:"requests"`
	RPS      float64 `json:"rps"` // completed requests per second
	P50US    float64 `json:"p50_us"`
	P99US    float64 `json:"p99_us"`
	MaxUS    float64 `json:"max_us"`
	// Streaming only: to the first byte of content.
	FirstP50US float64 `json:"first_p50_us,omitempty"`
	FirstP99US float64 `json:"first_p99_us,omitempty"`
	// LagP99US is how late requests left the client (its own delays,
	// already inside the latencies).
	LagP99US float64 `json:"lag_p99_us"`
	// CPUPerReqUS is each server's CPU time during the run divided by the
	// requests sent, by server: upstream, proxy, gateway.
	CPUPerReqUS map[string]float64 `json:"cpu_us_per_req"`
	// Discarded runs were disturbed (see options.MaxLag) and repeated;
	// the medians leave them out.
	Discarded bool `json:"discarded,omitempty"`
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// measure computes a run's latency figures.
func measure(outs []outcome, elapsed time.Duration, stream bool) runResult {
	total := make([]time.Duration, 0, len(outs))
	first := make([]time.Duration, 0, len(outs))
	lag := make([]time.Duration, 0, len(outs))
	for _, o := range outs {
		total = append(total, o.Total)
		first = append(first, o.First)
		lag = append(lag, o.Lag)
	}
	total, first, lag = sortedOf(total), sortedOf(first), sortedOf(lag)
	r := runResult{
		Requests: len(outs),
		RPS:      float64(len(outs)) / elapsed.Seconds(),
		P50US:    us(quantile(total, 0.50)),
		P99US:    us(quantile(total, 0.99)),
		MaxUS:    us(quantile(total, 1)),
		LagP99US: us(quantile(lag, 0.99)),
	}
	if stream {
		r.FirstP50US = us(quantile(first, 0.50))
		r.FirstP99US = us(quantile(first, 0.99))
	}
	return r
}

func (r runResult) brief() string {
	s := fmt.Sprintf("%6.1f req/s  p50 %7.3f ms  p99 %7.3f ms", r.RPS, r.P50US/1000, r.P99US/1000)
	if r.FirstP50US > 0 {
		s += fmt.Sprintf("  first p50 %7.3f ms", r.FirstP50US/1000)
	}
	own := "upstream"
	if r.Target != "direct" {
		own = r.Target
	}
	return s + fmt.Sprintf("  cpu %6.1f µs/req  lag p99 %6.3f ms", r.CPUPerReqUS[own], r.LagP99US/1000)
}

// probeResult is a target's maximum throughput, closed-loop.
type probeResult struct {
	Scenario    string  `json:"scenario"`
	Target      string  `json:"target"`
	RPS         float64 `json:"rps"`
	Concurrency int     `json:"concurrency"`
}

// summaryRow is the median over rounds of one target in one scenario.
// Added figures subtract the direct run of the same round.
type summaryRow struct {
	Scenario        string  `json:"scenario"`
	Target          string  `json:"target"`
	RPS             float64 `json:"rps"`
	P50US           float64 `json:"p50_us"`
	P99US           float64 `json:"p99_us"`
	AddedP50US      float64 `json:"added_p50_us"`
	AddedP99US      float64 `json:"added_p99_us"`
	FirstP50US      float64 `json:"first_p50_us,omitempty"`
	AddedFirstP50US float64 `json:"added_first_p50_us,omitempty"`
	// CPUPerReqUS is the target's own CPU time per request: the
	// upstream's for direct, the proxy's or the gateway's otherwise.
	CPUPerReqUS         float64 `json:"cpu_us_per_req"`
	UpstreamCPUPerReqUS float64 `json:"upstream_cpu_us_per_req"`
	// CPUVsProxy is the gateway's CPU per request over the proxy's in the
	// same round (gateway rows only; 0 otherwise).
	CPUVsProxy float64 `json:"cpu_vs_proxy,omitempty"`
}

// verdict is one acceptance criterion checked against the medians.
type verdict struct {
	Criterion string  `json:"criterion"`
	Value     float64 `json:"value"`
	Limit     float64 `json:"limit"`
	Unit      string  `json:"unit"`
	Pass      bool    `json:"pass"`
}

// report is the benchmark's result.
type report struct {
	Command  string        `json:"command"`
	Machine  machine       `json:"machine"`
	Settings settings      `json:"settings"`
	MaxRPS   []probeResult `json:"max_rps,omitempty"`
	Summary  []summaryRow  `json:"summary"`
	Verdicts []verdict     `json:"verdicts,omitempty"`
	// Discarded counts the runs repeated because the machine stalled the
	// load generator.
	Discarded int         `json:"discarded_runs"`
	Runs      []runResult `json:"runs"`
}

type settings struct {
	Rate       float64    `json:"rate"`
	DurationS  float64    `json:"duration_s"`
	WarmupS    float64    `json:"warmup_s"`
	Rounds     int        `json:"rounds"`
	Scenarios  []scenario `json:"scenarios"`
	Targets    []string   `json:"targets"`
	ReplyBytes int        `json:"reply_bytes"`
	ChunkBytes int        `json:"chunk_bytes"`
	MaxLagMS   float64    `json:"max_lag_ms"`
	Profiled   bool       `json:"gateway_profiled"`
	NoAudit    bool       `json:"gateway_audit_disabled,omitempty"`
}

func newReport(o options) *report {
	return &report{
		Machine: thisMachine(),
		Settings: settings{Rate: o.Rate, DurationS: o.Duration.Seconds(), WarmupS: o.Warmup.Seconds(), Rounds: o.Rounds,
			Scenarios: o.Scenarios, Targets: o.Targets, ReplyBytes: o.ReplyBytes, ChunkBytes: o.ChunkBytes, MaxLagMS: float64(o.MaxLag) / float64(time.Millisecond), Profiled: o.CPUProfile != "", NoAudit: o.NoAudit},
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Acceptance criteria for 1 KiB non-streamed requests.
const (
	maxAddedP50US = 500
	maxAddedP99US = 2000
	maxCPUVsProxy = 2
)

// summarise fills Summary and Verdicts from Runs.
func (r *report) summarise() {
	type key struct {
		round    int
		scenario string
		target   string
	}
	runs := map[key]runResult{}
	r.Discarded = 0
	for _, x := range r.Runs {
		if x.Discarded {
			r.Discarded++
			continue
		}
		runs[key{x.Round, x.Scenario, x.Target}] = x
	}
	own := func(x runResult) float64 {
		if x.Target == "direct" {
			return x.CPUPerReqUS["upstream"]
		}
		return x.CPUPerReqUS[x.Target]
	}
	r.Summary = nil
	for _, sc := range r.Settings.Scenarios {
		for _, t := range r.Settings.Targets {
			var rps, p50, p99, ap50, ap99, f50, af50, cpu, upcpu, ratio []float64
			for round := 1; round <= r.Settings.Rounds; round++ {
				x, ok := runs[key{round, sc.Name, t}]
				if !ok {
					continue
				}
				d := runs[key{round, sc.Name, "direct"}]
				rps, p50, p99 = append(rps, x.RPS), append(p50, x.P50US), append(p99, x.P99US)
				ap50, ap99 = append(ap50, x.P50US-d.P50US), append(ap99, x.P99US-d.P99US)
				f50, af50 = append(f50, x.FirstP50US), append(af50, x.FirstP50US-d.FirstP50US)
				cpu, upcpu = append(cpu, own(x)), append(upcpu, x.CPUPerReqUS["upstream"])
				if p, ok := runs[key{round, sc.Name, "proxy"}]; ok && t == "gateway" && p.CPUPerReqUS["proxy"] > 0 {
					ratio = append(ratio, x.CPUPerReqUS["gateway"]/p.CPUPerReqUS["proxy"])
				}
			}
			if len(rps) == 0 {
				continue
			}
			row := summaryRow{Scenario: sc.Name, Target: t, RPS: median(rps), P50US: median(p50), P99US: median(p99),
				AddedP50US: median(ap50), AddedP99US: median(ap99), CPUPerReqUS: median(cpu), UpstreamCPUPerReqUS: median(upcpu)}
			if sc.Stream {
				row.FirstP50US, row.AddedFirstP50US = median(f50), median(af50)
			}
			if len(ratio) > 0 {
				row.CPUVsProxy = median(ratio)
			}
			r.Summary = append(r.Summary, row)
		}
	}
	r.Verdicts = nil
	for _, row := range r.Summary {
		sc := r.scenario(row.Scenario)
		if sc.PromptBytes != 1024 || sc.Stream || row.Target != "gateway" {
			continue
		}
		r.Verdicts = append(r.Verdicts,
			verdict{"gateway added latency p50, 1 KiB non-streamed", row.AddedP50US, maxAddedP50US, "µs", row.AddedP50US <= maxAddedP50US},
			verdict{"gateway added latency p99, 1 KiB non-streamed", row.AddedP99US, maxAddedP99US, "µs", row.AddedP99US <= maxAddedP99US})
		if row.CPUVsProxy > 0 {
			r.Verdicts = append(r.Verdicts,
				verdict{"gateway CPU per request over the proxy's, 1 KiB non-streamed", row.CPUVsProxy, maxCPUVsProxy, "×", row.CPUVsProxy <= maxCPUVsProxy})
		}
	}
}

func (r *report) scenario(name string) scenario {
	for _, sc := range r.Settings.Scenarios {
		if sc.Name == name {
			return sc
		}
	}
	return scenario{}
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func ms(v float64) string { return fmt.Sprintf("%.3f", v/1000) }

func signedMS(v float64) string { return fmt.Sprintf("%+.3f", v/1000) }

// writeTable prints the medians as a table, then the throughput probe
// and the verdicts.
func (r *report) writeTable(w io.Writer) error {
	m, s := r.Machine, r.Settings
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s; load average %s at start, %s at end\n", m.CPUs, m.CPUModel, m.GoVersion, m.LoadAvgStart, m.LoadAvgEnd)
	fmt.Fprintf(w, "offered load %.0f req/s per target, %gs per run after %gs warm-up, %d rounds (medians over rounds); reply %d bytes, streamed %d bytes per chunk\n",
		s.Rate, s.DurationS, s.WarmupS, s.Rounds, s.ReplyBytes, s.ChunkBytes)
	if r.Discarded > 0 {
		fmt.Fprintf(w, "%d runs were repeated because the machine stalled the load generator (dispatch lag p99 over %g ms); the medians leave them out\n",
			r.Discarded, s.MaxLagMS)
	}
	if s.NoAudit {
		fmt.Fprintln(w, "DIAGNOSIS ONLY: the gateway ran with its audit log disabled, which is not the default policy")
	}
	if s.Profiled {
		fmt.Fprintln(w, "the gateway ran under the CPU profiler: its CPU figures include the profiler's cost")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\treq/s\tp50 ms\tp99 ms\tadded p50\tadded p99\tfirst p50\tadded first p50\tCPU µs/req\tupstream µs/req\tCPU vs proxy\t")
	for _, row := range r.Summary {
		add50, add99, first, addFirst, ratio := "", "", "", "", ""
		if row.Target != "direct" {
			add50, add99 = signedMS(row.AddedP50US), signedMS(row.AddedP99US)
		}
		if r.scenario(row.Scenario).Stream {
			first = ms(row.FirstP50US)
			if row.Target != "direct" {
				addFirst = signedMS(row.AddedFirstP50US)
			}
		}
		if row.CPUVsProxy > 0 {
			ratio = fmt.Sprintf("%.2f×", row.CPUVsProxy)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\t\n", row.Scenario, row.Target, row.RPS,
			ms(row.P50US), ms(row.P99US), add50, add99, first, addFirst, row.CPUPerReqUS, row.UpstreamCPUPerReqUS, ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.MaxRPS) > 0 {
		fmt.Fprintln(w)
		for _, p := range r.MaxRPS {
			fmt.Fprintf(w, "max throughput, %s, %s: %.0f req/s (closed loop, %d in flight)\n", p.Scenario, p.Target, p.RPS, p.Concurrency)
		}
	}
	if len(r.Verdicts) > 0 {
		fmt.Fprintln(w)
		for _, v := range r.Verdicts {
			res := "PASS"
			if !v.Pass {
				res = "FAIL"
			}
			val, lim := fmt.Sprintf("%.0f %s", v.Value, v.Unit), fmt.Sprintf("%.0f %s", v.Limit, v.Unit)
			if v.Unit == "×" {
				val, lim = fmt.Sprintf("%.2f×", v.Value), fmt.Sprintf("%.0f×", v.Limit)
			}
			fmt.Fprintf(w, "%s  %s: %s (limit %s)\n", res, v.Criterion, val, lim)
		}
	}
	return nil
}
