// Command loadbench measures the latency and CPU time the gateway adds to
// a request. In one run it starts a fast local fake upstream
// (bench/fakeupstream), a bare net/http/httputil reverse proxy
// (bench/proxy) and `rampart serve` with the embedded default policy,
// each in a process of its own, and drives the upstream directly, through
// the proxy and through the gateway at the same offered load, with chat
// completion requests of each prompt size, streamed and not.
//
// The load is open-loop: requests leave at fixed intervals whatever the
// answers do, and latency counts from when a request was due, so queueing
// shows (no coordinated omission). The targets take turns (the order
// rotates each round) and the figures are medians over rounds; added
// latency compares a target with the direct run of the same round. CPU
// time per request comes from each server's /proc/PID/stat.
//
// Usage (from the repository):
//
//	go run ./bench/loadbench [-rate 200] [-duration 5s] [-rounds 5]
//	    [-scenarios 1k,1k-stream,8k,8k-stream] [-targets direct,proxy,gateway]
//	    [-json] [-cpuprofile FILE]
//
// Any failed or malformed response stops the benchmark with an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options configure one benchmark.
type options struct {
	Rate       float64       // offered load, requests per second, for every target
	Duration   time.Duration // measured time of one run
	Warmup     time.Duration // unmeasured load before each run
	Rounds     int
	Scenarios  []scenario
	Targets    []string // always starts with "direct"
	ReplyBytes int      // length of the upstream's reply text
	ChunkBytes int      // reply bytes per streamed chunk

	// MaxLag, when positive, marks a run disturbed when the client's own
	// dispatch lag p99 exceeds it (the machine stalled the load
	// generator); a disturbed run is repeated up to Retries times and left
	// out of the medians.
	MaxLag  time.Duration
	Retries int

	// ProbeDuration, when positive, measures each target's maximum
	// throughput closed-loop with ProbeConcurrency requests in flight.
	ProbeDuration    time.Duration
	ProbeConcurrency int

	// CPUProfile, when set, runs the gateway from bench/gatewayprof and
	// writes its CPU profile there.
	CPUProfile string
	KeepDir    bool // keep the temporary directory (binaries, logs, data)
	// NoAudit runs the gateway with its audit log off: a diagnosis of
	// where the time goes, not the default policy.
	NoAudit bool

	JSON     bool
	Out      io.Writer // the report
	Progress io.Writer // progress lines
}

// scenario is one kind of request.
type scenario struct {
	Name        string `json:"name"`
	PromptBytes int    `json:"prompt_bytes"`
	Stream      bool   `json:"stream"`
}

var allTargets = []string{"direct", "proxy", "gateway"}

// parseScenarios reads a comma-separated list such as "1k,8k-stream": a
// prompt size in bytes (a "k" suffix means KiB), then "-stream" for a
// streamed request.
func parseScenarios(s string) ([]scenario, error) {
	var out []scenario
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		size, stream := strings.CutSuffix(name, "-stream")
		mult := 1
		if n, ok := strings.CutSuffix(size, "k"); ok {
			size, mult = n, 1024
		}
		n, err := strconv.Atoi(size)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("scenario %q: want a prompt size such as 1k or 8k-stream", name)
		}
		sc := scenario{Name: name, PromptBytes: n * mult, Stream: stream}
		if slices.ContainsFunc(out, func(o scenario) bool { return o.Name == sc.Name }) {
			return nil, fmt.Errorf("scenario %q given twice", name)
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, errors.New("no scenarios given")
	}
	return out, nil
}

// parseTargets reads a comma-separated subset of direct, proxy and
// gateway; direct, the baseline, is always included and runs first.
func parseTargets(s string) ([]string, error) {
	out := []string{"direct"}
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" || t == "direct" {
			continue
		}
		if !slices.Contains(allTargets, t) {
			return nil, fmt.Errorf("unknown target %q (want direct, proxy or gateway)", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	// Keep the canonical order.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(allTargets, a) - slices.Index(allTargets, b) })
	return out, nil
}

func (o *options) validate() error {
	switch {
	case o.Rate <= 0:
		return fmt.Errorf("-rate must be positive, got %v", o.Rate)
	case o.Duration <= 0:
		return fmt.Errorf("-duration must be positive, got %v", o.Duration)
	case o.Warmup < 0:
		return fmt.Errorf("-warmup must not be negative, got %v", o.Warmup)
	case o.Rounds < 1:
		return fmt.Errorf("-rounds must be at least 1, got %d", o.Rounds)
	case o.ReplyBytes < 1:
		return fmt.Errorf("-reply-bytes must be positive, got %d", o.ReplyBytes)
	case o.ChunkBytes < 1:
		return fmt.Errorf("-chunk-bytes must be positive, got %d", o.ChunkBytes)
	case o.MaxLag < 0 || o.Retries < 0:
		return fmt.Errorf("-max-lag and -retries must not be negative, got %v and %d", o.MaxLag, o.Retries)
	case o.ProbeDuration > 0 && o.ProbeConcurrency < 1:
		return fmt.Errorf("-probe-concurrency must be positive, got %d", o.ProbeConcurrency)
	case len(o.Scenarios) == 0:
		return errors.New("no scenarios")
	case len(o.Targets) == 0 || o.Targets[0] != "direct":
		return errors.New("the targets must start with direct, the baseline")
	case o.CPUProfile != "" && !slices.Contains(o.Targets, "gateway"):
		return errors.New("-cpuprofile profiles the gateway, which is not among the targets")
	}
	if n := int(o.Rate * o.Duration.Seconds()); n < 1 {
		return fmt.Errorf("-rate %v for -duration %v sends no request", o.Rate, o.Duration)
	}
	return nil
}

func main() {
	var o options
	var scen, targets, jsonFile string
	flag.Float64Var(&o.Rate, "rate", 200, "offered load in requests per second, the same for every target (keep it below saturation)")
	flag.DurationVar(&o.Duration, "duration", 5*time.Second, "measured duration of each run")
	flag.DurationVar(&o.Warmup, "warmup", 500*time.Millisecond, "unmeasured load before each run")
	flag.IntVar(&o.Rounds, "rounds", 5, "rounds; each runs every scenario on every target, and the report gives medians")
	flag.StringVar(&scen, "scenarios", "1k,1k-stream,8k,8k-stream", "comma-separated prompt sizes, with -stream for streamed requests")
	flag.StringVar(&targets, "targets", "direct,proxy,gateway", "comma-separated targets (direct is always run: it is the baseline)")
	flag.IntVar(&o.ReplyBytes, "reply-bytes", 256, "length of the upstream's reply text")
	flag.IntVar(&o.ChunkBytes, "chunk-bytes", 4, "reply bytes per streamed chunk (about one token)")
	flag.DurationVar(&o.MaxLag, "max-lag", 10*time.Millisecond, "repeat a run when the client sent its requests this late (p99) because the machine stalled it (0: never)")
	flag.IntVar(&o.Retries, "retries", 3, "times a disturbed run is repeated")
	flag.DurationVar(&o.ProbeDuration, "probe", 2*time.Second, "measure each target's maximum throughput closed-loop for this long, on the first scenario (0: skip)")
	flag.IntVar(&o.ProbeConcurrency, "probe-concurrency", 16, "requests in flight during the throughput probe")
	flag.StringVar(&o.CPUProfile, "cpuprofile", "", "run the gateway under a Go CPU profiler (bench/gatewayprof) and write the profile here")
	flag.BoolVar(&o.NoAudit, "no-audit", false, "diagnosis only: run the gateway with its audit log disabled (no longer the default policy)")
	flag.BoolVar(&o.KeepDir, "keep", false, "keep the temporary directory with the binaries, configuration and server logs")
	flag.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	flag.StringVar(&jsonFile, "json-file", "", "also write the report as JSON to this file")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "loadbench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	var err error
	if o.Scenarios, err = parseScenarios(scen); err == nil {
		o.Targets, err = parseTargets(targets)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	o.Out, o.Progress = os.Stdout, os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		if !o.KeepDir {
			fmt.Fprintln(os.Stderr, "loadbench: run with -keep to keep the servers' logs")
		}
		os.Exit(1)
	}
	rep.Command = strings.Join(append([]string{"go run ./bench/loadbench"}, os.Args[1:]...), " ")
	if o.JSON {
		err = rep.writeJSON(o.Out)
	} else {
		err = rep.writeTable(o.Out)
	}
	if err == nil && jsonFile != "" {
		var f *os.File
		if f, err = os.Create(jsonFile); err == nil {
			err = errors.Join(rep.writeJSON(f), f.Close())
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}
