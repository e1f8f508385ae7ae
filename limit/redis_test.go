package limit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/testenv"
)

// redisClient connects to the test Redis and closes the client after the
// test.
func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping test Redis: %v", err)
	}
	return c
}

// testPrefix returns a key prefix of the test's own and deletes its keys
// after the test.
func testPrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "rampart-test:limit:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := scanKeys(ctx, c, prefix+"*")
		if err == nil && len(keys) > 0 {
			err = c.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("clean up %s*: %v", prefix, err)
		}
	})
	return prefix
}

func scanKeys(ctx context.Context, c *redis.Client, match string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, match, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

func newRedisLimiter(t testing.TB, c *redis.Client, prefix string, leaseTTL time.Duration) *Redis {
	t.Helper()
	r, err := NewRedis(c, RedisOptions{Prefix: prefix, LeaseTTL: leaseTTL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func redisHarness(t *testing.T, leaseTTL time.Duration) *harness {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	return &harness{
		l:       newRedisLimiter(t, c, prefix, leaseTTL),
		advance: time.Sleep,
		now: func(t *testing.T) time.Time {
			now, err := c.Time(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			return now
		},
		nextDay: func(t *testing.T) {
			keys, err := scanKeys(ctx, c, prefix+"usd:*")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if err := c.HIncrBy(ctx, k, "d", -1).Err(); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
}

func TestRedis(t *testing.T) {
	testLimiter(t, redisHarness)
}

// TestRedisReplicasShareRate is the product's acceptance test for shared
// limits: two gateway replicas (two clients, two limiters) hammer one key
// in one Redis, and together they admit what the rate allows — not the
// rate times the number of replicas.
//
// The script evaluates each call at an unknown moment between sending and
// receiving, so the expected counts are taken over the widest and the
// narrowest spans the evaluations can have covered; on an idle machine
// the two differ by well under a millisecond.
func TestRedisReplicasShareRate(t *testing.T) {
	const (
		limit      = 1200 // per minute: 20/s
		run        = 4 * time.Second
		goroutines = 8 // per replica
	)
	c1, c2 := redisClient(t), redisClient(t)
	prefix := testPrefix(t, c1)
	replicas := []*Redis{
		newRedisLimiter(t, c1, prefix, 0),
		newRedisLimiter(t, c2, prefix, 0),
	}
	check := []Check{{Kind: Requests, Subject: "key:shared", Limit: limit, Cost: 1}}

	type call struct {
		sent, done time.Time
		allowed    bool
	}
	var mu sync.Mutex
	var calls []call
	admitted := [2]int{}
	ctx := context.Background()
	start := time.Now()
	deadline := start.Add(run)
	var wg sync.WaitGroup
	for i, l := range replicas {
		for range goroutines {
			wg.Go(func() {
				var mine []call
				n := 0
				for {
					sent := time.Now()
					if !sent.Before(deadline) {
						break
					}
					r, err := l.Admit(ctx, check)
					if err != nil {
						t.Error(err)
						break
					}
					mine = append(mine, call{sent, time.Now(), r.Allowed})
					if r.Allowed {
						n++
					}
				}
				mu.Lock()
				calls = append(calls, mine...)
				admitted[i] += n
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if len(calls) == 0 {
		t.Fatal("no calls")
	}

	// Bounds of the moments: the first evaluation, the first denial, the
	// last evaluation.
	firstDone, lastSent, lastDone := calls[0].done, calls[0].sent, calls[0].done
	var denySent, denyDone time.Time
	for _, c := range calls {
		if c.done.Before(firstDone) {
			firstDone = c.done
		}
		if c.sent.After(lastSent) {
			lastSent = c.sent
		}
		if c.done.After(lastDone) {
			lastDone = c.done
		}
		if !c.allowed {
			if denySent.IsZero() || c.sent.Before(denySent) {
				denySent = c.sent
			}
			if denyDone.IsZero() || c.done.Before(denyDone) {
				denyDone = c.done
			}
		}
	}
	if denySent.IsZero() {
		t.Fatal("never denied")
	}
	rate := float64(limit) / time.Minute.Seconds()
	total := admitted[0] + admitted[1]
	elapsed := lastDone.Sub(start)
	t.Logf("%d calls in %v (%.0f/s); admitted %d (replica 1: %d, replica 2: %d); burst + rate × elapsed = %.1f",
		len(calls), elapsed.Round(time.Millisecond), float64(len(calls))/elapsed.Seconds(),
		total, admitted[0], admitted[1], limit+rate*elapsed.Seconds())
	if admitted[0] == 0 || admitted[1] == 0 {
		t.Errorf("a replica admitted nothing: %d, %d", admitted[0], admitted[1])
	}
	// Burst + rate × elapsed, within 10%.
	hi := float64(limit) + rate*lastDone.Sub(start).Seconds()
	lo := float64(limit) + rate*lastSent.Sub(firstDone).Seconds()
	if got := float64(total); got > 1.1*hi+1 || got < 0.9*lo-1 {
		t.Errorf("admitted %d, want between %.1f and %.1f ± 10%%", total, lo, hi)
	}

	// The burst hides the rate in the total; after the first denial only
	// the rate admits.
	var afterLo, afterHi int // certainly after the first denial; possibly
	for _, c := range calls {
		if c.allowed && c.sent.After(denyDone) {
			afterLo++
		}
		if c.allowed && c.done.After(denySent) {
			afterHi++
		}
	}
	wantHi := rate * lastDone.Sub(denySent).Seconds()
	wantLo := rate * lastSent.Sub(denyDone).Seconds()
	t.Logf("after the burst: admitted %d..%d in %v, rate × elapsed = %.1f..%.1f",
		afterLo, afterHi, lastDone.Sub(denySent).Round(time.Millisecond), wantLo, wantHi)
	if float64(afterLo) > 1.1*wantHi+1 || float64(afterHi) < 0.9*wantLo-1 {
		t.Errorf("after the burst admitted %d..%d, want %.1f..%.1f ± 10%%", afterLo, afterHi, wantLo, wantHi)
	}
}

// TestRedisServerTime checks that replicas agree because time comes from
// Redis TIME. The Redis limiter never reads the local clock, so a replica
// whose clock is off cannot be simulated from outside; instead this pins
// down that the stored state is in server time and that two replicas see
// one bucket, with the same RetryAfter.
func TestRedisServerTime(t *testing.T) {
	ctx := context.Background()
	c1, c2 := redisClient(t), redisClient(t)
	prefix := testPrefix(t, c1)
	a := newRedisLimiter(t, c1, prefix, 0)
	b := newRedisLimiter(t, c2, prefix, 0)
	check := []Check{{Kind: Requests, Subject: "key:clock", Limit: 6, Cost: 1}}

	for i := range 6 {
		l := a
		if i%2 == 1 {
			l = b
		}
		r, err := l.Admit(ctx, check)
		if err != nil || !r.Allowed {
			t.Fatalf("Admit %d = %+v, %v; want allowed", i, r, err)
		}
	}
	ra, err := a.Admit(ctx, check)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Admit(ctx, check)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Allowed || rb.Allowed {
		t.Fatalf("after 6 of 6: replica A %+v, replica B %+v; want both denied", ra, rb)
	}
	if d := ra.RetryAfter - rb.RetryAfter; d < 0 || d > 50*time.Millisecond {
		t.Errorf("RetryAfter: replica A %v, replica B (later) %v; want B at most 50ms less", ra.RetryAfter, rb.RetryAfter)
	}

	// The bucket's arrival time is 6 intervals of ten seconds after the
	// first admission, by the server's clock.
	server, err := c1.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	tat, err := c1.Get(ctx, prefix+"rpm:key:clock").Int64()
	if err != nil {
		t.Fatal(err)
	}
	ahead := time.UnixMicro(tat).Sub(server)
	if ahead < time.Minute-5*time.Second || ahead > time.Minute {
		t.Errorf("stored arrival time is %v ahead of Redis TIME, want just under 1m", ahead)
	}
	for _, script := range []string{admitLua, finishLua} {
		if !strings.Contains(script, "redis.call('TIME')") {
			t.Error("a script does not read Redis TIME")
		}
	}
}

// TestRedisConcurrencyAcrossReplicas checks that the lease set bounds the
// requests in flight across replicas.
func TestRedisConcurrencyAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	c1, c2 := redisClient(t), redisClient(t)
	prefix := testPrefix(t, c1)
	replicas := []*Redis{newRedisLimiter(t, c1, prefix, 0), newRedisLimiter(t, c2, prefix, 0)}
	const limit = 4
	check := []Check{{Kind: Concurrent, Subject: "key:conc", Limit: limit}}
	var inFlight, peak, admitted atomic.Int64
	var wg sync.WaitGroup
	for _, l := range replicas {
		for range 6 {
			wg.Go(func() {
				for range 40 {
					r, err := l.Admit(ctx, check)
					if err != nil {
						t.Error(err)
						return
					}
					if !r.Allowed {
						continue
					}
					admitted.Add(1)
					n := inFlight.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					time.Sleep(time.Millisecond)
					inFlight.Add(-1)
					if err := l.Finish(ctx, check, r.Ticket, Usage{}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if p := peak.Load(); p > limit || p < 1 {
		t.Errorf("peak in flight %d, want 1..%d", p, limit)
	}
	n, err := c1.ZCard(ctx, prefix+"conc:key:conc").Result()
	if err != nil || n != 0 {
		t.Errorf("leases left: %d, %v; want 0", n, err)
	}
	t.Logf("admitted %d of %d", admitted.Load(), 2*6*40)
}

// TestRedisKeysExpire checks that every key the limiter writes has a TTL.
func TestRedisKeysExpire(t *testing.T) {
	ctx := context.Background()
	c := redisClient(t)
	prefix := testPrefix(t, c)
	l := newRedisLimiter(t, c, prefix, 0)
	checks := []Check{
		{Kind: Requests, Subject: "key:ttl", Limit: 60, Cost: 1},
		{Kind: Tokens, Subject: "key:ttl", Limit: 1000, Cost: 100},
		{Kind: Concurrent, Subject: "key:ttl", Limit: 5},
		{Kind: Budget, Subject: "key:ttl", Limit: 10},
	}
	r, err := l.Admit(ctx, checks)
	if err != nil || !r.Allowed {
		t.Fatalf("Admit = %+v, %v", r, err)
	}
	if _, err := l.Admit(ctx, checks); err != nil { // a lease left held
		t.Fatal(err)
	}
	if err := l.Finish(ctx, checks, r.Ticket, Usage{ExtraTokens: 50, CostUSD: 0.25}); err != nil {
		t.Fatal(err)
	}
	keys, err := scanKeys(ctx, c, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{prefix + "conc:key:ttl", prefix + "rpm:key:ttl", prefix + "tpm:key:ttl", prefix + "usd:key:ttl"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	server, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	endOfDay := server.UTC().Truncate(24 * time.Hour).Add(25 * time.Hour).Sub(server)
	maxTTL := map[string]time.Duration{
		"rpm:":  time.Minute,
		"tpm:":  time.Minute,
		"conc:": DefaultLeaseTTL + time.Second,
		"usd:":  endOfDay,
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		kind := strings.TrimPrefix(k, prefix)
		kind = kind[:strings.Index(kind, ":")+1]
		if ttl <= 0 || ttl > maxTTL[kind]+time.Second {
			t.Errorf("%s: TTL %v, want in (0, %v]", k, ttl, maxTTL[kind])
		}
	}
	spent, err := c.HGet(ctx, prefix+"usd:key:ttl", "s").Float64()
	if err != nil || spent != 0.25 {
		t.Errorf("spent %v, %v; want 0.25", spent, err)
	}
}

func TestRedisErrors(t *testing.T) {
	if _, err := NewRedis(nil, RedisOptions{}); err == nil {
		t.Error("NewRedis(nil): no error")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	if _, err := NewRedis(c, RedisOptions{LeaseTTL: -time.Second}); err == nil {
		t.Error("NewRedis with a negative lease TTL: no error")
	}
	l, err := NewRedis(c, RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checks := []Check{{Kind: Requests, Subject: "k", Limit: 1, Cost: 1}, {Kind: Budget, Subject: "k", Limit: 1}}
	_, err = l.Admit(ctx, checks)
	if err == nil || !strings.HasPrefix(err.Error(), "limit: redis admit: ") {
		t.Errorf("Admit with Redis down: error %v, want one starting %q", err, "limit: redis admit: ")
	}
	err = l.Finish(ctx, checks, "", Usage{CostUSD: 1})
	if err == nil || !strings.HasPrefix(err.Error(), "limit: redis finish: ") {
		t.Errorf("Finish with Redis down: error %v, want one starting %q", err, "limit: redis finish: ")
	}
	// Nothing to do means no round trip, hence no error.
	if r, err := l.Admit(ctx, []Check{{Kind: Requests, Subject: "k", Limit: 0}}); err != nil || !r.Allowed {
		t.Errorf("Admit with only ignored checks = %+v, %v; want allowed", r, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Admit(cctx, checks); !errors.Is(err, context.Canceled) {
		t.Errorf("Admit with a cancelled context: %v, want context.Canceled", err)
	}
}

// BenchmarkRedisAdmit measures the Admit round trip (and Admit+Finish)
// against the test Redis from a few concurrent goroutines, reporting
// latency percentiles and throughput.
func BenchmarkRedisAdmit(b *testing.B) {
	c := redisClient(b)
	prefix := testPrefix(b, c)
	l := newRedisLimiter(b, c, prefix, 0)
	ctx := context.Background()
	for _, finish := range []bool{false, true} {
		for _, g := range []int{1, 4, 16} {
			name := fmt.Sprintf("admit/goroutines=%d", g)
			if finish {
				name = fmt.Sprintf("admit+finish/goroutines=%d", g)
			}
			b.Run(name, func(b *testing.B) {
				lat := make([][]time.Duration, g)
				var next atomic.Int64
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for w := range g {
					wg.Go(func() {
						checks := benchChecks("key:bench" + strconv.Itoa(w))
						if !finish {
							checks = slices.DeleteFunc(checks, func(c Check) bool { return c.Kind == Concurrent })
						}
						for next.Add(1) <= int64(b.N) {
							t0 := time.Now()
							r, err := l.Admit(ctx, checks)
							if err == nil && finish {
								err = l.Finish(ctx, checks, r.Ticket, Usage{ExtraTokens: 300, CostUSD: 0.001})
							}
							lat[w] = append(lat[w], time.Since(t0))
							if err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				all := slices.Concat(lat...)
				slices.Sort(all)
				if len(all) == 0 {
					return
				}
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
			})
		}
	}
}
