package secrets

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/secrets/secretstest"
)

// mixedParts are pieces of ordinary prompts: prose, code, config and logs.
var mixedParts = []string{
	"Could you review the following handler and tell me why the retry loop never gives up after the deadline? ",
	"The quarterly report shows revenue growing 12% while support tickets fell by a third across all regions. ",
	"import os\nimport json\n\ndef load(path):\n    with open(path) as f:\n        return json.load(f)\n",
	"const server = http.createServer((req, res) => {\n  res.writeHead(200, {'Content-Type': 'text/plain'});\n  res.end('ok');\n});\n",
	"for i := range items {\n\tif err := process(ctx, items[i]); err != nil {\n\t\treturn fmt.Errorf(\"item %d: %w\", i, err)\n\t}\n}\n",
	"server:\n  port: 8080\n  timeout: 30s\nlogging:\n  level: info\n",
	"2024-05-01T12:00:03Z INFO request completed status=200 duration=12ms path=/api/v1/items\n",
	"Please rewrite this paragraph in a friendlier tone, keeping it under one hundred words. ",
	"The migration adds an index on (org_id, created_at) and backfills the new column in batches of 1000. ",
	"Explain the difference between a mutex and a channel in Go, with a short example of each. ",
	"| name | value |\n|------|-------|\n| retries | 3 |\n| backoff | exponential |\n",
	"We deployed build 8d1e4a2 to staging; the smoke tests passed and the canary looks healthy. ",
}

// mixedPrompts returns n prompts of about size bytes; every other one
// carries a credential.
func mixedPrompts(n, size int) []string {
	r := rand.New(rand.NewPCG(4, 4))
	g := secretstest.New(4)
	keys := []func() string{
		g.OpenAI, g.Anthropic, g.GitHub, g.AWSKeyID, g.Stripe, g.HuggingFace, g.JWT, g.Slack,
		func() string { return "password = \"" + g.Password(16) + "\"" },
	}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(mixedParts[r.IntN(len(mixedParts))])
			if i%2 == 1 && b.Len() > size/2 && !strings.Contains(b.String(), "<<") {
				b.WriteString("<< " + keys[r.IntN(len(keys))]() + " >> ")
			}
		}
		out[i] = b.String()[:size]
	}
	return out
}

// BenchmarkMixed4K runs the detector over mixed 4 KiB prompts, half of
// them with a credential, and reports the 99th percentile per call.
func BenchmarkMixed4K(b *testing.B) {
	for _, tc := range []struct {
		name string
		keys bool
	}{{"clean", false}, {"mixed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			d := newDetector(b, nil)
			prompts := mixedPrompts(64, 4<<10)
			if !tc.keys {
				for i := 1; i < len(prompts); i += 2 {
					prompts[i] = prompts[i-1]
				}
			}
			ctx := context.Background()
			b.SetBytes(4 << 10)
			b.ReportAllocs()
			lat := make([]time.Duration, 0, 1024)
			i := 0
			for b.Loop() {
				t0 := time.Now()
				if _, err := d.Detect(ctx, detect.Input{Text: prompts[i%len(prompts)]}); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
				i++
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			}
		})
	}
}
