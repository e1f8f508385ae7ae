package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store/sqlite"
)

// benchRecord is a typical request record (about 600 bytes encoded).
func benchRecord() audit.Record {
	return audit.Record{
		ID: "req_01JD8Z3W5K2M9Q7R4T6V8X0Y2A", Time: time.Now(), Kind: "request", KeyID: "key_01JD8Z", Group: "team-a",
		ClientIP: "10.1.2.3", Route: "/v1/chat/completions", Model: "gpt-4o", Upstream: "openai", Decision: "redact", Status: 200,
		Policy: "default", PromptTokens: 512, CompletionTokens: 128, CostUSD: 0.0021, TotalMicros: 812345, UpstreamMicros: 810000, OverheadMicros: 2345,
		Findings: []audit.Finding{{Detector: "pii", RuleID: "pii.email", Direction: "output", Field: "choices[0].message.content", Start: 10, End: 31, Score: 0.98, Action: "redact", Excerpt: "j***@e***.com"}},
		Prompt:   strings.Repeat("redacted prompt text ", 8),
	}
}

// BenchmarkWriter measures Append through a Writer on SQLite (synchronous
// = FULL) with 1 and 64 concurrent appenders: records/s and the p50/p99
// latency of an acknowledged Append.
func BenchmarkWriter(b *testing.B) {
	rec := benchRecord()
	for _, appenders := range []int{1, 64} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			w := audit.NewWriter(s, audit.WriterOptions{})
			defer w.Close(context.Background())
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range appenders {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						start := time.Now()
						if err := w.Append(context.Background(), rec); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(start)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func BenchmarkEncodeLink(b *testing.B) {
	rec := benchRecord()
	prev := audit.Genesis()
	b.ReportAllocs()
	for b.Loop() {
		p, err := audit.Encode(rec)
		if err != nil {
			b.Fatal(err)
		}
		_ = audit.Link(prev, 1, p)
	}
}

// BenchmarkVerify measures a full verification of a 20,000-record chain on
// SQLite (read, hash, compare).
func BenchmarkVerify(b *testing.B) {
	const n = 20000
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p, err := audit.Encode(benchRecord())
	if err != nil {
		b.Fatal(err)
	}
	batch := make([][]byte, 500)
	for i := range batch {
		batch[i] = p
	}
	for range n / len(batch) {
		if _, err := s.AppendAudit(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		rep, err := audit.Verify(context.Background(), s)
		if err != nil || rep.Records != n {
			b.Fatalf("Verify = %v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
