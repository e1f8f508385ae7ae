package limit

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// harness is one Limiter implementation under the shared tests.
type harness struct {
	l Limiter
	// fake reports whether time is a fake clock: advance is free and
	// exact, and RetryAfter values are exact.
	fake bool
	// advance lets d pass: moves the fake clock (Memory) or sleeps (Redis).
	advance func(d time.Duration)
	// now is the limiter's present: the fake clock or Redis TIME.
	now func(t *testing.T) time.Time
	// nextDay moves budgets to the next UTC day: the fake clock to
	// midnight (Memory), or the stored day of every budget back by one
	// (Redis, which runs on server time).
	nextDay func(t *testing.T)
}

// newHarness makes a fresh limiter with the given concurrency lease TTL.
type newHarness func(t *testing.T, leaseTTL time.Duration) *harness

func (h *harness) admit(t *testing.T, checks ...Check) Result {
	t.Helper()
	r, err := h.l.Admit(context.Background(), checks)
	if err != nil {
		t.Fatalf("Admit(%v): %v", checks, err)
	}
	if r.Allowed && r.Denied != (Check{}) {
		t.Fatalf("Admit(%v) = %+v: allowed with a denied check", checks, r)
	}
	return r
}

func (h *harness) mustAdmit(t *testing.T, checks ...Check) Result {
	t.Helper()
	r := h.admit(t, checks...)
	if !r.Allowed {
		t.Fatalf("Admit(%v) denied by %v (retry after %v), want allowed", checks, r.Denied, r.RetryAfter)
	}
	return r
}

func (h *harness) mustDeny(t *testing.T, by Check, checks ...Check) Result {
	t.Helper()
	r := h.admit(t, checks...)
	if r.Allowed {
		t.Fatalf("Admit(%v) allowed, want denied by %v", checks, by)
	}
	if r.Denied != by {
		t.Fatalf("Admit(%v) denied by %v, want %v", checks, r.Denied, by)
	}
	return r
}

func (h *harness) finish(t *testing.T, ticket string, u Usage, checks ...Check) {
	t.Helper()
	if err := h.l.Finish(context.Background(), checks, ticket, u); err != nil {
		t.Fatalf("Finish(%v, %q, %+v): %v", checks, ticket, u, err)
	}
}

// retryNear checks a RetryAfter: exactly want on a fake clock; on real
// time, want less up to the time passed since start (the bucket refilled
// meanwhile).
func (h *harness) retryNear(t *testing.T, got, want time.Duration, start time.Time) {
	t.Helper()
	lo, hi := want, want
	if !h.fake {
		lo = want - time.Since(start) - 2*time.Millisecond
		hi = want + 2*time.Millisecond
	}
	if got < lo || got > hi {
		t.Errorf("RetryAfter = %v, want %v (in [%v, %v])", got, want, lo, hi)
	}
}

// drain admits c until it is denied and returns how many were admitted
// and the denial.
func (h *harness) drain(t *testing.T, c Check) (int, Result) {
	t.Helper()
	for n := 0; n < 100000; n++ {
		r := h.admit(t, c)
		if !r.Allowed {
			return n, r
		}
	}
	t.Fatalf("drain(%v): never denied", c)
	return 0, Result{}
}

// perUnit is the GCRA emission interval of limit per minute.
func perUnit(limit float64) time.Duration { return time.Duration(float64(time.Minute) / limit) }

// testLimiter holds both implementations to the same behaviour.
func testLimiter(t *testing.T, newH newHarness) {
	t.Run("RateBurstThenRefuse", func(t *testing.T) {
		tests := []struct {
			name  string
			check Check
			want  int // admitted at once
		}{
			{"requests 60/min", Check{Kind: Requests, Subject: "k1", Limit: 60, Cost: 1}, 60},
			{"requests cost 0 counts 1", Check{Kind: Requests, Subject: "k1", Limit: 30}, 30},
			{"requests 1/min", Check{Kind: Requests, Subject: "ip:192.0.2.1", Limit: 1, Cost: 1}, 1},
			{"fractional limit", Check{Kind: Requests, Subject: "k1", Limit: 2.5, Cost: 1}, 2},
			{"tokens 120/min cost 2", Check{Kind: Tokens, Subject: "k1", Limit: 120, Cost: 2}, 60},
			{"tokens cost equal to limit", Check{Kind: Tokens, Subject: "k1", Limit: 500, Cost: 500}, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newH(t, 0)
				start := time.Now()
				n, r := h.drain(t, tt.check)
				c := cost(&tt.check)
				step := time.Duration(c * float64(perUnit(tt.check.Limit)))
				hi := tt.want
				if !h.fake { // on a slow machine the bucket refills meanwhile
					hi += int(time.Since(start) / step)
				}
				if n < tt.want || n > hi {
					t.Errorf("admitted %d at once, want %d (at most %d)", n, tt.want, hi)
				}
				if r.Denied != tt.check {
					t.Errorf("Denied = %v, want %v", r.Denied, tt.check)
				}
				// The next unit of cost arrives one interval after the
				// burst's last; what remains of the partial credit
				// (fractional limits) is already there.
				want := time.Duration(float64(n)*c*float64(perUnit(tt.check.Limit))) + step - time.Minute
				h.retryNear(t, r.RetryAfter, want, start)
				if !h.fake && r.RetryAfter <= 0 {
					t.Errorf("RetryAfter = %v, want > 0", r.RetryAfter)
				}
			})
		}
	})

	t.Run("Refill", func(t *testing.T) {
		const limit = 600 // an interval of 100ms, so real time can serve too
		interval := perUnit(limit)
		tests := []struct {
			name string
			wait time.Duration
			want int
		}{
			{"half an interval", interval / 2, 0},
			{"one interval", interval, 1},
			{"three and a half", interval * 7 / 2, 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newH(t, 0)
				c := Check{Kind: Requests, Subject: "k", Limit: limit, Cost: 1}
				_, denied := h.drain(t, c)
				start := time.Now()
				h.advance(tt.wait)
				n, r := h.drain(t, c)
				wall := time.Since(start)
				// k = floor((elapsed + interval - retry) / interval), where
				// retry was the denial's RetryAfter (on a fake clock,
				// exactly one interval).
				count := func(elapsed time.Duration) int {
					return int((elapsed + interval - denied.RetryAfter) / interval)
				}
				lo, hi := count(tt.wait), count(tt.wait)
				if !h.fake {
					hi = count(wall)
				}
				if n < lo || n > hi || (h.fake && n != tt.want) {
					t.Errorf("admitted %d after %v, want %d (in [%d, %d])", n, tt.wait, tt.want, lo, hi)
				}
				if r.RetryAfter <= 0 || r.RetryAfter > interval+2*time.Millisecond {
					t.Errorf("RetryAfter = %v, want in (0, %v]", r.RetryAfter, interval)
				}
			})
		}
	})

	t.Run("TokensCost", func(t *testing.T) {
		h := newH(t, 0)
		perToken := perUnit(10) // 6s
		c := func(n float64) Check { return Check{Kind: Tokens, Subject: "key:1", Limit: 10, Cost: n} }
		start := time.Now()
		h.mustAdmit(t, c(6))
		r := h.mustDeny(t, c(5), c(5))
		h.retryNear(t, r.RetryAfter, perToken, start)
		h.mustAdmit(t, c(4))
		r = h.mustDeny(t, c(1), c(1))
		h.retryNear(t, r.RetryAfter, perToken, start)
		r = h.mustDeny(t, c(3), c(3))
		h.retryNear(t, r.RetryAfter, 3*perToken, start)

		r = h.mustDeny(t, c(11), c(11))
		if r.RetryAfter != Never {
			t.Errorf("cost above the limit: RetryAfter = %v, want Never", r.RetryAfter)
		}
		fresh := Check{Kind: Tokens, Subject: "key:2", Limit: 10, Cost: 10.5}
		r = h.mustDeny(t, fresh, fresh)
		if r.RetryAfter != Never {
			t.Errorf("cost above the limit on a fresh subject: RetryAfter = %v, want Never", r.RetryAfter)
		}
		h.mustAdmit(t, Check{Kind: Tokens, Subject: "key:2", Limit: 10, Cost: 0})
		h.mustAdmit(t, Check{Kind: Tokens, Subject: "key:2", Limit: 10, Cost: 10})
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		h := newH(t, 0)
		req := Check{Kind: Requests, Subject: "key:a", Limit: 3, Cost: 1}
		tok := Check{Kind: Tokens, Subject: "key:a", Limit: 100, Cost: 60}
		conc := Check{Kind: Concurrent, Subject: "key:a", Limit: 1}
		budget := Check{Kind: Budget, Subject: "key:a", Limit: 5}
		h.mustAdmit(t, req, tok)
		// Denied by the last check: none of the earlier ones is charged.
		h.mustDeny(t, tok, req, conc, budget, tok)
		r := h.mustAdmit(t, conc) // the slot is free
		h.finish(t, r.Ticket, Usage{}, conc)
		h.mustAdmit(t, req)
		h.mustAdmit(t, req) // 3 of 3: the denied call took none
		h.mustDeny(t, req, req)

		// The first check without room is the one reported.
		tok2 := Check{Kind: Tokens, Subject: "key:b", Limit: 10, Cost: 10}
		h.mustAdmit(t, tok2)
		h.mustDeny(t, tok2, conc, tok2, req)
		h.mustDeny(t, req, conc, req, tok2)
		r = h.mustAdmit(t, conc) // neither denied call took the slot
		h.finish(t, r.Ticket, Usage{}, conc)
	})

	t.Run("Duplicates", func(t *testing.T) {
		h := newH(t, 0)
		req := Check{Kind: Requests, Subject: "k", Limit: 4, Cost: 1}
		h.mustAdmit(t, req, req)
		h.mustAdmit(t, req, req)
		h.mustDeny(t, req, req, req)

		// A request holds one slot of a subject however many checks name it.
		conc := Check{Kind: Concurrent, Subject: "k", Limit: 2}
		r := h.mustAdmit(t, conc, conc)
		h.mustAdmit(t, conc)
		h.mustDeny(t, conc, conc, conc)
		h.finish(t, r.Ticket, Usage{}, conc, conc)
		h.mustAdmit(t, conc)
	})

	t.Run("Concurrency", func(t *testing.T) {
		h := newH(t, 0)
		c := Check{Kind: Concurrent, Subject: "key:c", Limit: 2}
		other := Check{Kind: Concurrent, Subject: "key:d", Limit: 1}
		t1 := h.mustAdmit(t, c).Ticket
		t2 := h.mustAdmit(t, c).Ticket
		if t1 == "" || t2 == "" || t1 == t2 {
			t.Fatalf("tickets %q and %q: want two distinct tickets", t1, t2)
		}
		r := h.mustDeny(t, c, c)
		if r.RetryAfter != concurrencyRetry {
			t.Errorf("RetryAfter = %v, want %v", r.RetryAfter, concurrencyRetry)
		}
		h.mustAdmit(t, other) // subjects are independent
		h.finish(t, t1, Usage{}, c)
		t3 := h.mustAdmit(t, c).Ticket
		h.finish(t, t1, Usage{}, c) // already released: releases nothing
		h.mustDeny(t, c, c)
		h.finish(t, t2, Usage{}, c)
		h.finish(t, t3, Usage{}, c)
		a := h.mustAdmit(t, c).Ticket
		b := h.mustAdmit(t, c).Ticket
		h.mustDeny(t, c, c)
		// A limit lowered to 0 before Finish still releases.
		zero := c
		zero.Limit = 0
		h.finish(t, a, Usage{}, zero)
		h.finish(t, b, Usage{}, zero)
		h.mustAdmit(t, c)
		h.mustAdmit(t, c)
	})

	t.Run("LeaseExpiry", func(t *testing.T) {
		const ttl = 500 * time.Millisecond
		h := newH(t, ttl)
		c := Check{Kind: Concurrent, Subject: "key:crashed", Limit: 1}
		start := time.Now()
		h.mustAdmit(t, c) // never finished, as if the replica crashed
		h.mustDeny(t, c, c)
		h.advance(ttl / 2)
		if h.fake || time.Since(start) < ttl*9/10 { // not when the machine stalled
			h.mustDeny(t, c, c)
		}
		h.advance(ttl/2 + 50*time.Millisecond)
		r := h.mustAdmit(t, c)
		h.mustDeny(t, c, c)
		h.finish(t, r.Ticket, Usage{}, c)
		h.mustAdmit(t, c)
	})

	t.Run("BudgetByDay", func(t *testing.T) {
		h := newH(t, 0)
		b := Check{Kind: Budget, Subject: "key:b", Limit: 1}
		req := Check{Kind: Requests, Subject: "key:b", Limit: 1000, Cost: 1}
		r := h.mustAdmit(t, b, req)
		h.finish(t, r.Ticket, Usage{CostUSD: 0.6}, b, req)
		r = h.mustAdmit(t, b, req) // 0.6 < 1
		h.finish(t, r.Ticket, Usage{CostUSD: 0.6}, b, req)
		now := h.now(t)
		r = h.mustDeny(t, b, req, b)
		midnight := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		want := midnight.Sub(now)
		if d := r.RetryAfter - want; math.Abs(float64(d)) > float64(time.Second) || (h.fake && d != 0) {
			t.Errorf("RetryAfter = %v, want %v (until UTC midnight)", r.RetryAfter, want)
		}
		// A budget check with no limit is neither enforced nor charged.
		off := Check{Kind: Budget, Subject: "key:off", Limit: 0}
		h.finish(t, "", Usage{CostUSD: 100}, off)
		h.mustAdmit(t, Check{Kind: Budget, Subject: "key:off", Limit: 1})

		h.nextDay(t)
		r = h.mustAdmit(t, b)
		h.finish(t, r.Ticket, Usage{CostUSD: 0.5}, b)
		h.mustAdmit(t, b)
		h.finish(t, "", Usage{CostUSD: 0.5}, b)
		h.mustDeny(t, b, b)
	})

	t.Run("FinishTokens", func(t *testing.T) {
		perToken := perUnit(10) // 6s
		c := func(subject string, n float64) Check {
			return Check{Kind: Tokens, Subject: subject, Limit: 10, Cost: n}
		}
		tests := []struct {
			name  string
			cost  float64 // admitted first
			extra float64 // then finished with
			admit float64 // then admitted at once
			retry time.Duration
		}{
			{"refund frees room", 10, -5, 5, perToken},
			{"refund stops at a full bucket", 1, -100, 10, perToken},
			{"extra tokens go into debt", 1, 10, 0, 2 * perToken},
			{"no extra", 3, 0, 7, perToken},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newH(t, 0)
				start := time.Now()
				r := h.mustAdmit(t, c("s", tt.cost))
				h.finish(t, r.Ticket, Usage{ExtraTokens: tt.extra}, c("s", tt.cost))
				if tt.admit > 0 {
					h.mustAdmit(t, c("s", tt.admit))
				}
				r = h.mustDeny(t, c("s", 1), c("s", 1))
				h.retryNear(t, r.RetryAfter, tt.retry, start)
			})
		}
		t.Run("refund on a subject never seen", func(t *testing.T) {
			h := newH(t, 0)
			h.finish(t, "", Usage{ExtraTokens: -500}, c("new", 0))
			h.mustAdmit(t, c("new", 10))
			h.mustDeny(t, c("new", 1), c("new", 1))
		})
		t.Run("extra on a subject never seen", func(t *testing.T) {
			h := newH(t, 0)
			h.finish(t, "", Usage{ExtraTokens: 10}, c("new", 0))
			h.mustAdmit(t, c("new", 0))
			h.mustDeny(t, c("new", 1), c("new", 1))
		})
	})

	t.Run("Ignored", func(t *testing.T) {
		h := newH(t, 0)
		for range 5 {
			r := h.mustAdmit(t,
				Check{Kind: Requests, Subject: "k", Limit: 0, Cost: 1},
				Check{Kind: Tokens, Subject: "k", Limit: -1, Cost: 1e9},
				Check{Kind: Concurrent, Subject: "k", Limit: 0},
				Check{Kind: Budget, Subject: "k", Limit: 0})
			if r.Ticket != "" {
				t.Errorf("Ticket = %q with no concurrency check, want empty", r.Ticket)
			}
		}
		h.mustAdmit(t)
		h.finish(t, "", Usage{ExtraTokens: 5, CostUSD: 1})
	})

	t.Run("InvalidInput", func(t *testing.T) {
		h := newH(t, 0)
		ok := Check{Kind: Requests, Subject: "k", Limit: 10, Cost: 1}
		tests := []struct {
			name  string
			check Check
		}{
			{"kind zero", Check{Subject: "k", Limit: 1}},
			{"unknown kind", Check{Kind: 9, Subject: "k", Limit: 1}},
			{"empty subject", Check{Kind: Requests, Limit: 1}},
			{"NaN limit", Check{Kind: Requests, Subject: "k", Limit: math.NaN()}},
			{"infinite limit", Check{Kind: Tokens, Subject: "k", Limit: math.Inf(1)}},
			{"negative cost", Check{Kind: Tokens, Subject: "k", Limit: 10, Cost: -1}},
			{"NaN cost", Check{Kind: Tokens, Subject: "k", Limit: 10, Cost: math.NaN()}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := h.l.Admit(context.Background(), []Check{ok, tt.check}); err == nil {
					t.Error("Admit: no error")
				}
				if err := h.l.Finish(context.Background(), []Check{tt.check}, "", Usage{}); err == nil {
					t.Error("Finish: no error")
				}
			})
		}
		for _, u := range []Usage{{ExtraTokens: math.NaN()}, {ExtraTokens: math.Inf(-1)}, {CostUSD: -1}, {CostUSD: math.Inf(1)}} {
			if err := h.l.Finish(context.Background(), []Check{ok}, "", u); err == nil {
				t.Errorf("Finish with usage %+v: no error", u)
			}
		}
		// Nothing was charged by the failed calls.
		for range 10 {
			h.mustAdmit(t, ok)
		}
		h.mustDeny(t, ok, ok)
	})

	t.Run("ConcurrentUse", func(t *testing.T) {
		h := newH(t, 0)
		const limit = 3
		conc := Check{Kind: Concurrent, Subject: "key:hot", Limit: limit}
		req := Check{Kind: Requests, Subject: "key:hot", Limit: 1e6, Cost: 1}
		var inFlight, peak, admitted atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					r, err := h.l.Admit(context.Background(), []Check{req, conc})
					if err != nil {
						t.Error(err)
						return
					}
					if !r.Allowed {
						continue
					}
					admitted.Add(1)
					n := inFlight.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					time.Sleep(100 * time.Microsecond)
					inFlight.Add(-1)
					if err := h.l.Finish(context.Background(), []Check{req, conc}, r.Ticket, Usage{}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if p := peak.Load(); p > limit {
			t.Errorf("%d requests in flight at once, limit %d", p, limit)
		}
		if admitted.Load() < limit {
			t.Errorf("admitted %d, want at least %d", admitted.Load(), limit)
		}
		// Every slot was released.
		for range limit {
			h.mustAdmit(t, conc)
		}
		h.mustDeny(t, conc, conc)
	})
}
