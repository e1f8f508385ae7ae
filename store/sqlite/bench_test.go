package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkAppendAudit measures one AppendAudit transaction of a batch of
// 600-byte payloads, with synchronous=FULL (what Open uses: every commit
// fsyncs the WAL) against NORMAL (fsync only at checkpoints; a power loss
// may drop the last commits). records/s is the figure to compare.
func BenchmarkAppendAudit(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 600)
	for _, sync := range []string{"FULL", "NORMAL"} {
		for _, batch := range []int{1, 16, 512} {
			b.Run(fmt.Sprintf("sync=%s/batch=%d", sync, batch), func(b *testing.B) {
				s, err := open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sync)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				payloads := make([][]byte, batch)
				for i := range payloads {
					payloads[i] = payload
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.AppendAudit(context.Background(), payloads); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkKeyByPrefix measures the gateway's per-request key lookup.
func BenchmarkKeyByPrefix(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO keys (id, name, prefix, hash, created_at) VALUES ('key_1', 'k', 'rk_benchmark1', zeroblob(32), 0)`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.KeyByPrefix(ctx, "rk_benchmark1"); err != nil {
			b.Fatal(err)
		}
	}
}
