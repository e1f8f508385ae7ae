package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/fakeupstream"
)

func TestParseScenarios(t *testing.T) {
	tests := []struct {
		in      string
		want    []scenario
		wantErr string
	}{
		{in: "1k,8k-stream", want: []scenario{{"1k", 1024, false}, {"8k-stream", 8192, true}}},
		{in: " 500 , 2k ", want: []scenario{{"500", 500, false}, {"2k", 2048, false}}},
		{in: "", wantErr: "no scenarios"},
		{in: "big", wantErr: `scenario "big"`},
		{in: "0k", wantErr: `scenario "0k"`},
		{in: "1k-streaming", wantErr: `scenario "1k-streaming"`},
		{in: "1k,1k", wantErr: "given twice"},
	}
	for _, tt := range tests {
		got, err := parseScenarios(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseScenarios(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseScenarios(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "direct,proxy,gateway", want: []string{"direct", "proxy", "gateway"}},
		{in: "gateway,proxy", want: []string{"direct", "proxy", "gateway"}},
		{in: "gateway", want: []string{"direct", "gateway"}},
		{in: "", want: []string{"direct"}},
		{in: "nginx", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTargets(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("parseTargets(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// Field 2 may hold spaces and parentheses; utime=150, stime=25.
	line := "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 7 0 1000 12345678 2000"
	got, err := parseStatCPU([]byte(line), 10*time.Millisecond)
	if err != nil || got != 1750*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 1.75s", got, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 eleven 12"} {
		if _, err := parseStatCPU([]byte(bad), 10*time.Millisecond); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded, want an error", bad)
		}
	}
	// This process's own figure is readable and grows with work.
	c, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); {
	}
	c2, err := procCPU(os.Getpid())
	if err != nil || c2 <= c {
		t.Errorf("CPU time did not grow over 200 ms of busy work: %v then %v (%v)", c, c2, err)
	}
}

func TestParseStream(t *testing.T) {
	chunk := func(content string) string {
		return `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":` + jsonString(content) + `}}]}` + "\n\n"
	}
	role := `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n"
	good := role + chunk("Hel") + chunk("lo.") + "data: [DONE]\n\n"
	tests := []struct {
		name    string
		stream  string
		wantErr string
	}{
		{name: "good", stream: good},
		{name: "crlf", stream: strings.ReplaceAll(good, "\n", "\r\n")},
		{name: "no done", stream: role + chunk("Hello."), wantErr: "without [DONE]"},
		{name: "wrong text", stream: role + chunk("Help.") + "data: [DONE]\n\n", wantErr: "differs"},
		{name: "bad json", stream: role + "data: {\"object\n\n" + chunk("Hello.") + "data: [DONE]\n\n", wantErr: "not JSON"},
		{name: "wrong object", stream: `data: {"object":"chat.completion","choices":[]}` + "\n\n" + "data: [DONE]\n\n", wantErr: "not a chat.completion.chunk"},
		{name: "after done", stream: good + chunk("x"), wantErr: "after [DONE]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			now := func() time.Duration { calls++; return time.Duration(calls) * time.Millisecond }
			first, err := parseStream(strings.NewReader(tt.stream), now, "Hello.")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The first non-empty content is the second event.
			if first != time.Millisecond || calls != 1 {
				t.Errorf("first content at %v after %d clock reads, want 1ms after 1", first, calls)
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestReadUnary(t *testing.T) {
	ok := `{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi."}}]}`
	if err := readUnary(strings.NewReader(ok), "Hi."); err != nil {
		t.Errorf("good completion: %v", err)
	}
	for _, bad := range []string{
		`{"object":"chat.completion","choices":[{"message":{"content":"Hi!"}}]}`,
		`{"object":"chat.completion","choices":[]}`,
		`{"error":{"message":"no"}}`,
		`{"object":"chat.completion","choices":[`,
	} {
		if err := readUnary(strings.NewReader(bad), "Hi."); err == nil {
			t.Errorf("readUnary(%s) succeeded, want an error", bad)
		}
	}
}

func TestChatBody(t *testing.T) {
	for _, size := range []int{1024, 8192} {
		for _, stream := range []bool{false, true} {
			b, err := chatBody(size, stream, 7)
			if err != nil {
				t.Fatal(err)
			}
			var req struct {
				Model    string
				Stream   bool
				Messages []struct{ Role, Content string }
			}
			if err := json.Unmarshal(b, &req); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, m := range req.Messages {
				n += len(m.Content)
			}
			if n != size || req.Stream != stream || len(req.Messages) != 2 || req.Messages[1].Role != "user" {
				t.Errorf("chatBody(%d, %v): %d bytes of text in %d messages, stream %v", size, stream, n, len(req.Messages), req.Stream)
			}
		}
	}
	if _, err := chatBody(100, false, 1); err == nil {
		t.Error("chatBody(100) succeeded; the system message alone is longer")
	}
	if a, b := prose(500, 1), prose(500, 1); a != b {
		t.Error("prose is not deterministic")
	}
}

// TestOpenLoopCountsQueueing drives a server that answers one request at
// a time, slower than they arrive: an open loop keeps sending on schedule
// and its latencies grow with the queue; a closed loop would hide it.
func TestOpenLoopCountsQueueing(t *testing.T) {
	fake := fakeupstream.New("k", false)
	fake.Set(fakeupstream.Behaviour{Reply: "Hello."})
	var mu sync.Mutex
	var served int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		served++
		time.Sleep(20 * time.Millisecond)
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	tg := &target{Name: "t", URL: srv.URL + "/v1/chat/completions", Auth: "k", client: newClient()}
	body, err := chatBody(1024, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	start := time.Now()
	outs := openLoop(context.Background(), tg, [][]byte{body}, false, "Hello.", 100, n) // every 10 ms
	took := time.Since(start)
	if err := firstError(outs); err != nil {
		t.Fatal(err)
	}
	if served != n {
		t.Errorf("served %d requests, want %d", served, n)
	}
	// Serial service takes n × 20 ms = 400 ms however they are sent.
	if took < 380*time.Millisecond {
		t.Errorf("took %v for %d requests of 20 ms each, served one at a time", took, n)
	}
	// The last request was due at 190 ms but could finish only at about
	// 400 ms: its latency counts the ~200 ms it waited.
	if last := outs[n-1].Total; last < 150*time.Millisecond {
		t.Errorf("last latency %v: queueing is not counted", last)
	}
	if first := outs[0].Total; first < 20*time.Millisecond || first > 150*time.Millisecond {
		t.Errorf("first latency %v, want about 20 ms", first)
	}
}

// TestOpenLoopDoesNotWait checks that requests leave on schedule while
// earlier ones are still in flight.
func TestOpenLoopDoesNotWait(t *testing.T) {
	fake := fakeupstream.New("", false)
	fake.Set(fakeupstream.Behaviour{Reply: "Hi.", Delay: 300 * time.Millisecond})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	tg := &target{Name: "t", URL: srv.URL + "/v1/chat/completions", client: newClient()}
	body, err := chatBody(1024, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	outs := openLoop(context.Background(), tg, [][]byte{body}, true, "Hi.", 50, 10) // 20 ms apart
	took := time.Since(start)
	if err := firstError(outs); err != nil {
		t.Fatal(err)
	}
	// Closed-loop this would take 10 × 300 ms; open-loop 180 ms + 300 ms.
	if took > 1500*time.Millisecond {
		t.Errorf("10 requests of 300 ms, 20 ms apart, took %v: the loop waits for answers", took)
	}
	for i, o := range outs {
		if o.Total < 300*time.Millisecond || o.First < 300*time.Millisecond || o.First > o.Total {
			t.Errorf("request %d: first content %v, total %v; want both ≥ 300 ms, first ≤ total", i, o.First, o.Total)
		}
	}
}

func TestQuantile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}, {0.001, 1}} {
		if got := quantile(ds, tt.q); got != tt.want {
			t.Errorf("quantile(1..100, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile of nothing = %v", got)
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
}

func TestSummarise(t *testing.T) {
	r := &report{Settings: settings{Rounds: 2, Scenarios: []scenario{{"1k", 1024, false}}, Targets: allTargets}}
	add := func(round int, target string, p50, p99 float64, cpu map[string]float64) {
		r.Runs = append(r.Runs, runResult{Round: round, Scenario: "1k", Target: target, RPS: 200, P50US: p50, P99US: p99, CPUPerReqUS: cpu})
	}
	add(1, "direct", 1000, 3000, map[string]float64{"upstream": 100})
	add(1, "proxy", 1200, 3500, map[string]float64{"upstream": 100, "proxy": 50})
	add(1, "gateway", 1400, 4000, map[string]float64{"upstream": 100, "gateway": 150})
	add(2, "direct", 2000, 5000, map[string]float64{"upstream": 100})
	add(2, "proxy", 2300, 5600, map[string]float64{"upstream": 100, "proxy": 60})
	add(2, "gateway", 2700, 8000, map[string]float64{"upstream": 100, "gateway": 60})
	// A disturbed run, repeated: left out of the medians.
	r.Runs = append(r.Runs, runResult{Round: 2, Scenario: "1k", Target: "gateway", RPS: 20, P50US: 90000, P99US: 900000,
		CPUPerReqUS: map[string]float64{"gateway": 9000}, Discarded: true})
	r.summarise()
	if r.Discarded != 1 {
		t.Errorf("Discarded = %d, want 1", r.Discarded)
	}
	if len(r.Summary) != 3 {
		t.Fatalf("%d summary rows, want 3", len(r.Summary))
	}
	gw := r.Summary[2]
	// Added latency is per round against that round's direct run.
	if gw.Target != "gateway" || gw.AddedP50US != 550 || gw.AddedP99US != 2000 || gw.CPUPerReqUS != 105 || gw.CPUVsProxy != 2 {
		t.Errorf("gateway row = %+v; want added p50 550, added p99 2000, CPU 105, ratio median(3, 1) = 2", gw)
	}
	if d := r.Summary[0]; d.CPUPerReqUS != 100 || d.AddedP50US != 0 {
		t.Errorf("direct row = %+v; want the upstream's CPU and nothing added", d)
	}
	want := []bool{false, true, true} // 550 > 500; 2000 ≤ 2000; 2 ≤ 2
	if len(r.Verdicts) != 3 {
		t.Fatalf("verdicts = %+v", r.Verdicts)
	}
	for i, v := range r.Verdicts {
		if v.Pass != want[i] {
			t.Errorf("verdict %q pass = %v, want %v", v.Criterion, v.Pass, want[i])
		}
	}
	var buf bytes.Buffer
	if err := r.writeTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"+0.550", "+2.000", "2.00×", "FAIL  gateway added latency p50", "PASS  gateway CPU"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, buf.String())
		}
	}
}

// TestGatewayConfig checks that the benchmark's gateway runs the embedded
// default's policy: same detectors, policies and audit settings, with only
// the upstream, listener, data directory and limits changed.
func TestGatewayConfig(t *testing.T) {
	def, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := gatewayConfig(config.DefaultYAML(), "http://127.0.0.1:9", dir, false)
	if err != nil {
		t.Fatal(err)
	}
	path := dir + "/rampart.yaml"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(path)
	if err != nil {
		t.Fatalf("the generated configuration does not load: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(got.Detectors, def.Detectors) || !reflect.DeepEqual(got.Policies, def.Policies) ||
		!reflect.DeepEqual(got.Audit, def.Audit) || !reflect.DeepEqual(got.Log, def.Log) || !reflect.DeepEqual(got.Prices, def.Prices) {
		t.Errorf("policy differs from the default's:\n%s", b)
	}
	if len(got.Upstreams) != 1 || got.Upstreams[0].BaseURL != "http://127.0.0.1:9/v1" || got.Upstreams[0].APIKey != "env:"+upstreamKeyEnv ||
		!reflect.DeepEqual(got.Upstreams[0].Models, def.Upstreams[0].Models) {
		t.Errorf("upstreams = %+v", got.Upstreams)
	}
	if got.Server.Listen != "127.0.0.1:0" || got.DataDir != dir {
		t.Errorf("listen %q, data_dir %q", got.Server.Listen, got.DataDir)
	}
	k, ip := got.Limits.Key, got.Limits.IP
	if k.RequestsPerMinute != highLimit || k.TokensPerMinute != highLimit || k.Concurrent != highLimit || k.DailyBudgetUSD != highLimit ||
		ip.RequestsPerMinute != highLimit || ip.Concurrent != highLimit {
		t.Errorf("limits not raised: key %+v, ip %+v", k, ip)
	}
	// Limits stay on (so the limiter runs), and the token cap stays.
	if k.MaxTokens != def.Limits.Key.MaxTokens || got.Limits.Backend != def.Limits.Backend {
		t.Errorf("limits changed beyond their values: %+v", got.Limits)
	}
	if got.Audit.Disabled {
		t.Error("audit disabled without -no-audit")
	}
	b, err = gatewayConfig(config.DefaultYAML(), "http://127.0.0.1:9", dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := config.Load(path); err != nil || !got.Audit.Disabled || got.Audit.Prompts != def.Audit.Prompts {
		t.Errorf("-no-audit: audit = %+v, %v; want disabled, the rest unchanged", got.Audit, err)
	}
	if _, err := gatewayConfig([]byte("server: [1"), "http://x", dir, false); err == nil {
		t.Error("gatewayConfig accepted malformed YAML")
	}
	if _, err := gatewayConfig([]byte("server: {}\nupstreams: []\n"), "http://x", dir, false); err == nil {
		t.Error("gatewayConfig accepted a configuration without an upstream")
	}
}

// TestEndToEnd runs the whole benchmark briefly: it builds the binaries,
// starts the servers and drives every target.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway for about 15 s")
	}
	scen, err := parseScenarios("1k,1k-stream")
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	o := options{
		Rate: 100, Duration: time.Second, Warmup: 200 * time.Millisecond, Rounds: 1,
		Scenarios: scen, Targets: allTargets, ReplyBytes: 256, ChunkBytes: 4,
		ProbeDuration: 300 * time.Millisecond, ProbeConcurrency: 4,
		Out: &bytes.Buffer{}, Progress: &progress,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := run(ctx, o)
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	if len(rep.Summary) != 6 || len(rep.Runs) != 6 || len(rep.MaxRPS) != 3 {
		t.Fatalf("%d summary rows, %d runs, %d probes; want 6, 6, 3", len(rep.Summary), len(rep.Runs), len(rep.MaxRPS))
	}
	for _, x := range rep.Runs {
		if x.Requests != 100 || x.RPS < 50 || x.P50US <= 0 || x.P99US < x.P50US {
			t.Errorf("run %s/%s: %+v", x.Scenario, x.Target, x)
		}
		if strings.HasSuffix(x.Scenario, "-stream") && (x.FirstP50US <= 0 || x.FirstP50US > x.P99US) {
			t.Errorf("run %s/%s: first content p50 %v", x.Scenario, x.Target, x.FirstP50US)
		}
		for _, p := range []string{"upstream", "proxy", "gateway"} {
			if _, ok := x.CPUPerReqUS[p]; !ok {
				t.Errorf("run %s/%s: no CPU figure for %s", x.Scenario, x.Target, p)
			}
		}
	}
	if len(rep.Verdicts) != 3 {
		t.Errorf("verdicts = %+v, want 3 for 1k", rep.Verdicts)
	}
	var table, js bytes.Buffer
	if err := rep.writeTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := rep.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(table.String(), "gateway"); n < 2 {
		t.Errorf("table has %d gateway rows:\n%s", n, table.String())
	}
	var back report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Summary) != 6 {
		t.Errorf("JSON report does not read back: %v", err)
	}
}
