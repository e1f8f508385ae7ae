package limit

import (
	"fmt"
	"math"
	"time"
)

// Never is the RetryAfter of a denial that waiting cannot lift: the
// check's cost is larger than its whole per-minute limit.
const Never time.Duration = -1

// DefaultLeaseTTL is how long a concurrency slot is held when Finish is
// never called (a crashed replica, a lost request) before it frees itself.
const DefaultLeaseTTL = 10 * time.Minute

const (
	// window is the rate period. It is also the GCRA burst tolerance: a
	// full minute's allowance may be used at once.
	window = time.Minute
	// day is the budget period (UTC days).
	day = 24 * time.Hour
	// concurrencyRetry is the RetryAfter of a concurrency denial: when a
	// slot frees depends on other requests, so this is only a hint.
	concurrencyRetry = time.Second
	// maxDebt bounds how far a rate's theoretical arrival time may run
	// ahead of the present, so huge token counts cannot overflow.
	maxDebt = 100 * 365 * day
)

// validate reports the first malformed check. Checks with Limit <= 0 are
// validated too: a NaN or an unknown kind is a bug in the caller either
// way.
func validate(checks []Check) error {
	for i := range checks {
		c := &checks[i]
		if c.Kind < Requests || c.Kind > Budget {
			return fmt.Errorf("limit: check %d: unknown kind %d", i, uint8(c.Kind))
		}
		if c.Subject == "" {
			return fmt.Errorf("limit: check %d (%s): empty subject", i, c.Kind)
		}
		if math.IsNaN(c.Limit) || math.IsInf(c.Limit, 0) {
			return fmt.Errorf("limit: check %d (%s): limit is %v", i, c.Kind, c.Limit)
		}
		if math.IsNaN(c.Cost) || math.IsInf(c.Cost, 0) || c.Cost < 0 {
			return fmt.Errorf("limit: check %d (%s): cost is %v, want a finite number >= 0", i, c.Kind, c.Cost)
		}
	}
	return nil
}

// validateUsage reports malformed usage.
func validateUsage(u Usage) error {
	if math.IsNaN(u.ExtraTokens) || math.IsInf(u.ExtraTokens, 0) {
		return fmt.Errorf("limit: usage: extra tokens is %v", u.ExtraTokens)
	}
	if math.IsNaN(u.CostUSD) || math.IsInf(u.CostUSD, 0) || u.CostUSD < 0 {
		return fmt.Errorf("limit: usage: cost is %v USD, want a finite number >= 0", u.CostUSD)
	}
	return nil
}

// cost is what a rate check charges at admission: Requests cost 1 unless
// the caller gave a weight.
func cost(c *Check) float64 {
	if c.Kind == Requests && c.Cost <= 0 {
		return 1
	}
	return c.Cost
}

// rateStep is the GCRA increment of n units against limit per minute, in
// nanoseconds: n emission intervals of window/limit each. It may be
// negative (refunds) and is clamped to ±maxDebt.
func rateStep(n, limit float64) int64 {
	v := math.Round(n * float64(window) / limit)
	switch {
	case v > float64(maxDebt):
		return int64(maxDebt)
	case v < -float64(maxDebt):
		return -int64(maxDebt)
	}
	return int64(v)
}
