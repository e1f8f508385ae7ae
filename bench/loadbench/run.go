package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// settle is how long the benchmark waits after a batch of requests before
// reading CPU times, so that work a server finishes after answering (an
// audit batch, say) is counted with the requests that caused it.
const settle = 200 * time.Millisecond

// bench is a running benchmark: its processes and targets.
type bench struct {
	o       options
	dir     string
	reply   string
	procs   map[string]*proc // "upstream", "proxy", "gateway"
	targets []*target
	bodies  map[string][][]byte // by scenario name
}

// run starts the servers, runs every round and returns the report.
func run(ctx context.Context, o options) (rep *report, err error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rampart-loadbench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	if o.KeepDir {
		fmt.Fprintf(o.Progress, "keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	b := &bench{o: o, dir: dir, procs: map[string]*proc{}, bodies: map[string][][]byte{}}
	defer func() {
		if serr := b.stopAll(); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := b.start(ctx, root); err != nil {
		return nil, err
	}
	rep = newReport(o)
	for _, sc := range o.Scenarios {
		if b.bodies[sc.Name], err = scenarioBodies(sc); err != nil {
			return nil, err
		}
	}
	if err := b.preflight(ctx); err != nil {
		return nil, err
	}
	if o.ProbeDuration > 0 {
		if err := b.probe(ctx, rep); err != nil {
			return nil, err
		}
	}
	for r := range o.Rounds {
		for _, sc := range o.Scenarios {
			// Rotate the order of the targets every round, so that none
			// always runs first (or last) after a change of scenario.
			for i := range b.targets {
				t := b.targets[(i+r)%len(b.targets)]
				for attempt := 0; ; attempt++ {
					res, err := b.runOne(ctx, r, sc, t)
					if err != nil {
						return nil, err
					}
					note := ""
					if o.MaxLag > 0 && res.LagP99US > us(o.MaxLag) && attempt < o.Retries {
						res.Discarded = true
						note = "  disturbed: repeating"
					}
					rep.Runs = append(rep.Runs, res)
					fmt.Fprintf(o.Progress, "round %d/%d %-10s %-7s %s%s\n", r+1, o.Rounds, sc.Name, t.Name, res.brief(), note)
					if !res.Discarded {
						break
					}
				}
			}
		}
	}
	rep.Machine.LoadAvgEnd = loadAvg()
	rep.summarise()
	return rep, nil
}

// start builds the binaries and starts the servers the targets need.
func (b *bench) start(ctx context.Context, root string) error {
	o := b.o
	pkgs := []string{"bench/fakeupstream", "bench/proxy"}
	if slices.Contains(o.Targets, "gateway") {
		pkgs = append(pkgs, "cmd/rampart")
		if o.CPUProfile != "" {
			pkgs = append(pkgs, "bench/gatewayprof")
		}
	}
	fmt.Fprintf(o.Progress, "building %s\n", strings.Join(pkgs, ", "))
	if err := build(ctx, root, b.dir, pkgs...); err != nil {
		return err
	}
	bin := func(name string) string { return filepath.Join(b.dir, name) }

	b.reply = prose(o.ReplyBytes, 42)
	replyFile := filepath.Join(b.dir, "reply.txt")
	if err := os.WriteFile(replyFile, []byte(b.reply), 0o600); err != nil {
		return fmt.Errorf("write reply: %w", err)
	}
	upKey, err := randomKey()
	if err != nil {
		return err
	}
	up, err := startProc(ctx, b.dir, "upstream", bin("fakeupstream"),
		[]string{"-reply-file", replyFile, "-chunk-bytes", fmt.Sprint(o.ChunkBytes)},
		[]string{"BENCH_UPSTREAM_KEY=" + upKey})
	if err != nil {
		return err
	}
	b.procs["upstream"] = up
	upURL := "http://" + up.Addr
	b.targets = append(b.targets, &target{Name: "direct", URL: upURL + "/v1/chat/completions", Auth: upKey, client: newClient()})

	for _, name := range o.Targets[1:] {
		switch name {
		case "proxy":
			p, err := startProc(ctx, b.dir, "proxy", bin("proxy"), []string{"-upstream", upURL}, nil)
			if err != nil {
				return err
			}
			b.procs["proxy"] = p
			b.targets = append(b.targets, &target{Name: "proxy", URL: "http://" + p.Addr + "/v1/chat/completions", Auth: upKey, client: newClient()})
		case "gateway":
			t, err := b.startGateway(ctx, bin, upURL, upKey)
			if err != nil {
				return err
			}
			b.targets = append(b.targets, t)
		}
	}
	return nil
}

// startGateway writes the gateway's configuration, creates a key with the
// CLI and starts `rampart serve` (or its profiling twin).
func (b *bench) startGateway(ctx context.Context, bin func(string) string, upURL, upKey string) (*target, error) {
	def, err := runCLI(ctx, b.dir, bin("rampart"), nil, "config", "default")
	if err != nil {
		return nil, err
	}
	cfg, err := gatewayConfig([]byte(def), upURL, filepath.Join(b.dir, "gateway-data"), b.o.NoAudit)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(b.dir, "rampart.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("write gateway configuration: %w", err)
	}
	env := []string{upstreamKeyEnv + "=" + upKey}
	out, err := runCLI(ctx, b.dir, bin("rampart"), env, "keys", "create", "--name", "bench", "--config", cfgPath)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := strings.TrimSpace(lines[len(lines)-1])
	if key == "" || strings.ContainsAny(key, " \t") {
		return nil, errors.New("rampart keys create: no key on the last line of its output")
	}
	var p *proc
	if b.o.CPUProfile != "" {
		prof, err := filepath.Abs(b.o.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		p, err = startProc(ctx, b.dir, "gateway", bin("gatewayprof"), []string{"-config", cfgPath, "-cpuprofile", prof}, env)
		if err != nil {
			return nil, err
		}
	} else {
		p, err = startProc(ctx, b.dir, "gateway", bin("rampart"), []string{"serve", "--config", cfgPath}, env)
		if err != nil {
			return nil, err
		}
	}
	b.procs["gateway"] = p
	return &target{Name: "gateway", URL: "http://" + p.Addr + "/v1/chat/completions", Auth: key, client: newClient()}, nil
}

func randomKey() (string, error) {
	var k [24]byte
	if _, err := rand.Read(k[:]); err != nil {
		return "", fmt.Errorf("random key: %w", err)
	}
	return "sk-bench-" + hex.EncodeToString(k[:]), nil
}

// stopAll stops every server; a server that fails to stop cleanly is an
// error.
func (b *bench) stopAll() error {
	// Idle client connections first: a server waits for connections that
	// never carried a request when it shuts down.
	for _, t := range b.targets {
		t.client.CloseIdleConnections()
	}
	var errs []error
	for _, name := range []string{"gateway", "proxy", "upstream"} {
		if p := b.procs[name]; p != nil {
			errs = append(errs, p.stop())
		}
	}
	if b.o.CPUProfile != "" && b.procs["gateway"] != nil {
		fmt.Fprintf(b.o.Progress, "gateway CPU profile written to %s\n", b.o.CPUProfile)
	}
	return errors.Join(errs...)
}

// alive checks that no server has died.
func (b *bench) alive() error {
	for _, p := range b.procs {
		if err := p.alive(); err != nil {
			return err
		}
	}
	return nil
}

// preflight sends one request of every scenario to every target, so that
// a broken setup fails at once with the reason.
func (b *bench) preflight(ctx context.Context) error {
	for _, sc := range b.o.Scenarios {
		for _, t := range b.targets {
			o := t.do(ctx, time.Now(), b.bodies[sc.Name][0], sc.Stream, b.reply)
			if o.Err != nil {
				return fmt.Errorf("%s, %s: first request failed: %w", t.Name, sc.Name, o.Err)
			}
		}
	}
	return b.alive()
}

// probe measures each target's maximum throughput on the first scenario.
func (b *bench) probe(ctx context.Context, rep *report) error {
	sc := b.o.Scenarios[0]
	for _, t := range b.targets {
		n, d, err := closedLoop(ctx, t, b.bodies[sc.Name], sc.Stream, b.reply, b.o.ProbeConcurrency, b.o.ProbeDuration)
		if err != nil {
			return fmt.Errorf("throughput probe of %s, %s: %w", t.Name, sc.Name, err)
		}
		rps := float64(n) / d.Seconds()
		rep.MaxRPS = append(rep.MaxRPS, probeResult{Scenario: sc.Name, Target: t.Name, RPS: rps, Concurrency: b.o.ProbeConcurrency})
		fmt.Fprintf(b.o.Progress, "max throughput %-10s %-7s %.0f req/s (%d in flight)\n", sc.Name, t.Name, rps, b.o.ProbeConcurrency)
	}
	return nil
}

// runOne warms a target up, then drives it at the offered rate for the
// run's duration and measures latency and CPU time.
func (b *bench) runOne(ctx context.Context, round int, sc scenario, t *target) (runResult, error) {
	o := b.o
	bodies := b.bodies[sc.Name]
	if o.Warmup > 0 {
		n := max(1, int(o.Rate*o.Warmup.Seconds()))
		if err := firstError(openLoop(ctx, t, bodies, sc.Stream, b.reply, o.Rate, n)); err != nil {
			return runResult{}, fmt.Errorf("round %d, %s, %s, warm-up: %w", round+1, sc.Name, t.Name, err)
		}
	}
	time.Sleep(settle)
	before, err := b.cpuTimes()
	if err != nil {
		return runResult{}, err
	}
	n := int(o.Rate * o.Duration.Seconds())
	start := time.Now()
	outs := openLoop(ctx, t, bodies, sc.Stream, b.reply, o.Rate, n)
	elapsed := time.Since(start)
	if err := firstError(outs); err != nil {
		return runResult{}, fmt.Errorf("round %d, %s, %s: %w", round+1, sc.Name, t.Name, err)
	}
	time.Sleep(settle)
	after, err := b.cpuTimes()
	if err != nil {
		return runResult{}, err
	}
	if err := b.alive(); err != nil {
		return runResult{}, err
	}
	res := measure(outs, elapsed, sc.Stream)
	res.Round, res.Scenario, res.Target = round+1, sc.Name, t.Name
	res.CPUPerReqUS = map[string]float64{}
	for name, c := range after {
		res.CPUPerReqUS[name] = float64((c - before[name]).Microseconds()) / float64(n)
	}
	return res, nil
}

// cpuTimes reads the CPU time of every server.
func (b *bench) cpuTimes() (map[string]time.Duration, error) {
	out := make(map[string]time.Duration, len(b.procs))
	for name, p := range b.procs {
		c, err := p.cpu()
		if err != nil {
			if aerr := p.alive(); aerr != nil {
				return nil, aerr
			}
			return nil, err
		}
		out[name] = c
	}
	return out, nil
}

// firstError returns the first failed request's error, with a count.
func firstError(outs []outcome) error {
	var first error
	n := 0
	for _, o := range outs {
		if o.Err != nil {
			if first == nil {
				first = o.Err
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d requests failed; the first: %w", n, len(outs), first)
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuModel returns the model name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// machine describes where the benchmark ran.
type machine struct {
	CPUs         int    `json:"cpus"`
	CPUModel     string `json:"cpu_model"`
	GoVersion    string `json:"go_version"`
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
	Time         string `json:"time"`
}

func thisMachine() machine {
	return machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version(),
		LoadAvgStart: loadAvg(), Time: time.Now().UTC().Format(time.RFC3339)}
}
