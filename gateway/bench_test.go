package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/fakeupstream"
)

// BenchmarkChat measures a whole request through the gateway (client, fake
// upstream and gateway in one process: use it with -cpuprofile to find the
// gateway's hot spots; the load benchmark in bench/ measures the gateway
// process alone).
func BenchmarkChat(b *testing.B) {
	for _, tc := range []struct {
		name   string
		size   int
		stream bool
	}{{"1KB", 1 << 10, false}, {"1KB-stream", 1 << 10, true}, {"8KB", 8 << 10, false}} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b, func(c *config.Config) {
				// Limits high enough not to interfere; they are still checked.
				c.Limits.Key = config.LimitSet{RequestsPerMinute: 1e9, TokensPerMinute: 1e12, Concurrent: 1e6, MaxTokens: 32768}
				c.Limits.IP = config.LimitSet{RequestsPerMinute: 1e9, Concurrent: 1e6}
			})
			body := chatBody(strings.Repeat("Please summarise the weather in Paris. ", tc.size/39), tc.stream)
			benchChat(b, e, body, len(body))
		})
	}
}

// BenchmarkAnonymizeCanary measures a 4 KiB prompt with PII and a streamed
// 4 KiB answer that repeats it with placeholders, with the default policy
// ("off": the placeholders are plain text) and with the PII anonymized and
// restored and a canary added, checked and stripped ("on"). The output
// policy has the same work either way: no PII reaches it.
func BenchmarkAnonymizeCanary(b *testing.B) {
	var sb, rb strings.Builder
	for sb.Len() < 4<<10 {
		sb.WriteString("Write to jane.doe@corp-mail.example about card 4111 1111 1111 1111 and the invoice. ")
		rb.WriteString("Write to <EMAIL_1> about card <CREDIT_CARD_1> and the invoice. ")
	}
	prompt := sb.String()
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, func(c *config.Config) {
				c.Limits.Key = config.LimitSet{RequestsPerMinute: 1e9, TokensPerMinute: 1e12, Concurrent: 1e6, MaxTokens: 32768}
				c.Limits.IP = config.LimitSet{RequestsPerMinute: 1e9, Concurrent: 1e6}
				if on {
					for i := range c.Policies[0].Input {
						if c.Policies[0].Input[i].Detector == "pii" {
							c.Policies[0].Input[i].Action = "anonymize"
						}
					}
					c.Detectors["leak"] = config.Detector{Type: "canary"}
					c.Policies[0].Output = append(c.Policies[0].Output, config.Rule{Detector: "leak", Action: "block"})
				}
			})
			e.up.Set(fakeupstream.Behaviour{Reply: rb.String(), ChunkSize: 16})
			body := systemChat("You are a helpful assistant for the finance team. Answer concisely.", prompt, true)
			benchChat(b, e, body, len(prompt))
		})
	}
}

// benchChat posts body to the chat endpoint once per b.Loop iteration,
// counting n bytes per request, and fails on any status but 200.
func benchChat(b *testing.B, e *env, body string, n int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
