package limit

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for Memory.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 4, 10, 11, 12, 13, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func memoryHarness(shards int) newHarness {
	return func(t *testing.T, leaseTTL time.Duration) *harness {
		clock := newFakeClock()
		m := NewMemory(MemoryOptions{Clock: clock.Now, LeaseTTL: leaseTTL, Shards: shards})
		t.Cleanup(func() { _ = m.Close() })
		return &harness{
			l:       m,
			fake:    true,
			advance: clock.Advance,
			now:     func(*testing.T) time.Time { return clock.Now() },
			nextDay: func(*testing.T) {
				now := clock.Now()
				clock.Advance(now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now))
			},
		}
	}
}

func TestMemory(t *testing.T) {
	for _, shards := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			testLimiter(t, memoryHarness(shards))
		})
	}
}

func TestMemoryOptions(t *testing.T) {
	tests := []struct {
		opts       MemoryOptions
		wantShards int
		wantLease  time.Duration
	}{
		{MemoryOptions{}, defaultShards, DefaultLeaseTTL},
		{MemoryOptions{Shards: 1, LeaseTTL: time.Second}, 1, time.Second},
		{MemoryOptions{Shards: 5, LeaseTTL: -1}, 8, DefaultLeaseTTL},
		{MemoryOptions{Shards: 1 << 30}, maxShards, DefaultLeaseTTL},
	}
	for _, tt := range tests {
		m := NewMemory(tt.opts)
		if len(m.shards) != tt.wantShards || time.Duration(m.leaseTTL) != tt.wantLease {
			t.Errorf("NewMemory(%+v): %d shards, lease %v; want %d, %v",
				tt.opts, len(m.shards), time.Duration(m.leaseTTL), tt.wantShards, tt.wantLease)
		}
	}
}

func TestMemoryTickets(t *testing.T) {
	m := NewMemory(MemoryOptions{})
	c := Check{Kind: Concurrent, Subject: "k", Limit: 1e9}
	seen := make(map[string]bool)
	for range 3 * ticketBatch {
		r, err := m.Admit(context.Background(), []Check{c})
		if err != nil || !r.Allowed {
			t.Fatalf("Admit = %+v, %v", r, err)
		}
		if seen[r.Ticket] {
			t.Fatalf("ticket %q issued twice", r.Ticket)
		}
		seen[r.Ticket] = true
		if id, err := parseTicket(r.Ticket); err != nil || id == 0 {
			t.Fatalf("parseTicket(%q) = %d, %v", r.Ticket, id, err)
		}
	}
	// A straggler from an old batch still gets its own ticket.
	if got, want := m.tickets.get(1), "0000000000000001"; got != want {
		t.Errorf("tickets.get(1) = %q, want %q", got, want)
	}
	for _, bad := range []string{"x", "000000000000000g", "000000000000000A", "00000000000000001"} {
		if err := m.Finish(context.Background(), []Check{c}, bad, Usage{}); err == nil {
			t.Errorf("Finish with ticket %q: no error", bad)
		}
	}
	// A ticket nobody was issued releases nothing.
	if err := m.Finish(context.Background(), []Check{c}, "ffffffffffffffff", Usage{}); err != nil {
		t.Errorf("Finish with an unknown ticket: %v", err)
	}
}

// TestMemoryEviction checks that idle subjects are dropped: rates a window
// after their bucket is full again, concurrency when no lease is left,
// budgets after their day.
func TestMemoryEviction(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryOptions{Clock: clock.Now, LeaseTTL: time.Minute, Shards: 16})
	ctx := context.Background()
	const clients = 5000
	for i := range clients {
		ip := "ip:198.51.100." + strconv.Itoa(i)
		checks := []Check{
			{Kind: Requests, Subject: ip, Limit: 60, Cost: 1},
			{Kind: Tokens, Subject: ip, Limit: 1000, Cost: 100},
			{Kind: Concurrent, Subject: ip, Limit: 5},
			{Kind: Budget, Subject: ip, Limit: 1},
		}
		r, err := m.Admit(ctx, checks)
		if err != nil || !r.Allowed {
			t.Fatalf("Admit = %+v, %v", r, err)
		}
		if i%2 == 0 {
			if err := m.Finish(ctx, checks, r.Ticket, Usage{CostUSD: 0.01}); err != nil {
				t.Fatal(err)
			}
		} // the others are never finished: their leases expire
	}
	if got, want := m.entries(), clients; got != want {
		t.Fatalf("%d entries, want %d", got, want)
	}
	touch := func() {
		for i := range 256 { // reaches every shard, which sweeps itself
			c := Check{Kind: Requests, Subject: "ip:203.0.113." + strconv.Itoa(i), Limit: 60, Cost: 1}
			if _, err := m.Admit(ctx, []Check{c}); err != nil {
				t.Fatal(err)
			}
		}
	}

	clock.Advance(30 * time.Second) // buckets not yet full, leases live
	touch()
	if got, want := m.entries(), clients+256; got != want {
		t.Errorf("after 30 seconds: %d entries, want %d", got, want)
	}
	clock.Advance(90 * time.Second) // buckets full, leases expired
	touch()
	if got, want := m.entries(), clients/2+256; got != want {
		t.Errorf("after 2 minutes: %d entries, want %d (the subjects with spend today, and the new ones)", got, want)
	}
	// Budgets outlive idleness until their day is over.
	r, err := m.Admit(ctx, []Check{{Kind: Budget, Subject: "ip:198.51.100.0", Limit: 0.01}})
	if err != nil || r.Allowed {
		t.Errorf("budget spent before the sweep: Admit = %+v, %v; want denied", r, err)
	}
	clock.Advance(24 * time.Hour)
	touch()
	if got, want := m.entries(), 256; got != want {
		t.Errorf("the next day: %d entries, want %d", got, want)
	}
}

// TestMemoryReleasesMemory checks that a wave of clients does not keep its
// memory after the clients go idle (Go maps never shrink on delete).
func TestMemoryReleasesMemory(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryOptions{Clock: clock.Now, Shards: 8})
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var s runtime.MemStats
		runtime.ReadMemStats(&s)
		return s.HeapAlloc
	}
	base := heap()
	const clients = 300000
	for i := range clients {
		c := Check{Kind: Requests, Subject: "ip:" + strconv.Itoa(i), Limit: 60, Cost: 1}
		if _, err := m.Admit(ctx, []Check{c}); err != nil {
			t.Fatal(err)
		}
	}
	peak := heap() - base
	clock.Advance(2 * time.Minute)
	for i := range 64 {
		c := Check{Kind: Requests, Subject: "after:" + strconv.Itoa(i), Limit: 60, Cost: 1}
		if _, err := m.Admit(ctx, []Check{c}); err != nil {
			t.Fatal(err)
		}
	}
	after := int64(heap()) - int64(base)
	t.Logf("heap for %d clients: %d KiB; after they went idle: %d KiB", clients, peak>>10, after>>10)
	if m.entries() > 64 {
		t.Errorf("%d entries after the sweep, want at most 64", m.entries())
	}
	if after > int64(peak/10) {
		t.Errorf("heap after eviction %d KiB, want under a tenth of the peak %d KiB", after>>10, peak>>10)
	}
}

func FuzzParseTicket(f *testing.F) {
	for _, s := range []string{"", "0000000000000001", "ffffffffffffffff", "000000000000000g", "x", "FFFFFFFFFFFFFFFF", "00000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseTicket(s)
		if err != nil {
			return
		}
		if s == "" {
			if id != 0 {
				t.Fatalf("parseTicket(\"\") = %d", id)
			}
			return
		}
		var buf [ticketLen]byte
		putHex(buf[:], id)
		if string(buf[:]) != s {
			t.Fatalf("parseTicket(%q) = %d, which formats as %q", s, id, buf)
		}
	})
}

func TestMemoryZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	m := NewMemory(MemoryOptions{})
	checks := benchChecks("key:bench")
	ctx := context.Background()
	var failed error
	allocs := testing.AllocsPerRun(10000, func() {
		r, err := m.Admit(ctx, checks)
		if err == nil && !r.Allowed {
			err = fmt.Errorf("denied by %v", r.Denied)
		}
		if err == nil {
			err = m.Finish(ctx, checks, r.Ticket, Usage{ExtraTokens: 300, CostUSD: 0.001})
		}
		if err != nil {
			failed = err
		}
	})
	if failed != nil {
		t.Fatal(failed)
	}
	// Tickets are cut from a shared batch: one allocation per 256.
	if allocs > 0.05 {
		t.Errorf("Admit+Finish: %.3f allocations per call, want 0", allocs)
	}
}

// benchChecks are a typical request's checks, with limits that never deny.
func benchChecks(subject string) []Check {
	return []Check{
		{Kind: Requests, Subject: subject, Limit: 1e12, Cost: 1},
		{Kind: Tokens, Subject: subject, Limit: 1e15, Cost: 500},
		{Kind: Concurrent, Subject: subject, Limit: 1e6},
		{Kind: Budget, Subject: subject, Limit: 1e12},
	}
}

func BenchmarkMemoryAdmitFinish(b *testing.B) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		m := NewMemory(MemoryOptions{})
		checks := benchChecks("key:bench")
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			r, err := m.Admit(ctx, checks)
			if err != nil || !r.Allowed {
				b.Fatalf("Admit = %+v, %v", r, err)
			}
			if err := m.Finish(ctx, checks, r.Ticket, Usage{ExtraTokens: 300, CostUSD: 0.001}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, shards := range []int{1, defaultShards} {
		for _, keys := range []int{1, 1000} {
			b.Run(fmt.Sprintf("parallel/shards=%d/keys=%d", shards, keys), func(b *testing.B) {
				m := NewMemory(MemoryOptions{Shards: shards})
				sets := make([][]Check, keys)
				for i := range sets {
					sets[i] = benchChecks("key:" + strconv.Itoa(i))
				}
				var next atomic.Int64
				b.ReportAllocs()
				defer reportCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(1))
					for pb.Next() {
						checks := sets[i%keys]
						i += 7
						r, err := m.Admit(ctx, checks)
						if err != nil || !r.Allowed {
							b.Errorf("Admit = %+v, %v", r, err)
							return
						}
						if err := m.Finish(ctx, checks, r.Ticket, Usage{ExtraTokens: 300, CostUSD: 0.001}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// reportCPU reports the process CPU time per operation (all goroutines,
// garbage collection included) when the returned function is called at
// the end of a benchmark.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if used := processCPU() - start; used > 0 && b.N > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}
