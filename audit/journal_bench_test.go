package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/store/sqlite"
)

// cpuTime returns the process's user+system CPU time so far (every
// goroutine: appenders, the journal's shipper, SQLite, the GC).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchAppender opens an appender of the given kind on a new SQLite file:
// "writer" (audit.Writer), "journal" or "journal-fsync". flush returns
// once every appended record is in the store.
func benchAppender(b *testing.B, kind string, opts audit.JournalOptions) (a audit.Appender, flush func()) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	switch kind {
	case "writer":
		w := audit.NewWriter(s, audit.WriterOptions{})
		b.Cleanup(func() { w.Close(context.Background()) })
		return w, func() {}
	case "journal", "journal-fsync":
		opts.Fsync = kind == "journal-fsync"
		opts.Logger = quiet
		j, err := audit.OpenJournal(context.Background(), b.TempDir(), s, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { j.Close(context.Background()) })
		return j, func() {
			if err := j.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Fatalf("unknown appender %q", kind)
	return nil, nil
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkAppendOnly measures what a request pays in Append: the
// journal with shipping held off (ShipInterval an hour, MaxBatch above
// b.N), so cpu-µs/op is the CPU of encoding and writing the record (and,
// with fsync, of the fsyncs), allocations included. The Writer is the
// comparison: its Append includes the commit.
func BenchmarkAppendOnly(b *testing.B) {
	rec := benchRecord()
	for _, kind := range []string{"journal", "journal-fsync", "writer"} {
		b.Run(kind, func(b *testing.B) {
			a, _ := benchAppender(b, kind, audit.JournalOptions{ShipInterval: never, MaxBatch: 1 << 30})
			ctx := context.Background()
			b.ReportAllocs()
			cpu := cpuTime(b)
			b.ResetTimer()
			for b.Loop() {
				if err := a.Append(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkAppendEndToEnd measures records/s into the SQLite chain with
// 1 and 64 concurrent appenders, timing until every record is in the
// store (the journal's final Flush included), the process CPU per record
// (shipping included), and the latency of Append.
func BenchmarkAppendEndToEnd(b *testing.B) {
	rec := benchRecord()
	for _, kind := range []string{"journal", "journal-fsync", "writer"} {
		for _, appenders := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/appenders=%d", kind, appenders), func(b *testing.B) {
				a, flush := benchAppender(b, kind, audit.JournalOptions{})
				lat := make([]time.Duration, b.N)
				var (
					next atomic.Int64
					wg   sync.WaitGroup
				)
				cpu := cpuTime(b)
				b.ResetTimer()
				for range appenders {
					wg.Go(func() {
						for {
							i := next.Add(1) - 1
							if i >= int64(b.N) {
								return
							}
							start := time.Now()
							if err := a.Append(context.Background(), rec); err != nil {
								b.Error(err)
								return
							}
							lat[i] = time.Since(start)
						}
					})
				}
				wg.Wait()
				flush()
				b.StopTimer()
				b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
				reportLatency(b, lat)
			})
		}
	}
}

// BenchmarkPaced200 appends one record every 5 ms (200 requests/s, the
// gateway load benchmark's rate, where group commit cannot help) and
// reports the process CPU per record, shipping included, and Append's
// latency. "none" only waits for the ticks: subtract its cpu-µs/op to get
// the audit's own cost. Run with -benchtime=400x or more.
func BenchmarkPaced200(b *testing.B) {
	rec := benchRecord()
	for _, kind := range []string{"none", "journal", "journal-fsync", "writer"} {
		b.Run(kind, func(b *testing.B) {
			var (
				a     audit.Appender
				flush = func() {}
			)
			if kind != "none" {
				a, flush = benchAppender(b, kind, audit.JournalOptions{})
			}
			lat := make([]time.Duration, 0, b.N)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			cpu := cpuTime(b)
			b.ResetTimer()
			for range b.N {
				<-tick.C
				start := time.Now()
				if a != nil {
					if err := a.Append(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				lat = append(lat, time.Since(start))
			}
			flush()
			b.StopTimer()
			b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
			reportLatency(b, lat)
		})
	}
}
