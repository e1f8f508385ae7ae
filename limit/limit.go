// Package limit enforces request rates, token rates, concurrency and daily
// spend budgets, in process (Memory) or shared by several gateway replicas
// through Redis (Redis). Both apply the same algorithms: GCRA for rates, a
// lease set for concurrency, and a per-day counter for spend.
//
// A request is admitted by one Admit call that evaluates all of its checks
// atomically — either every check has room and all are charged, or none is
// charged — and finished by one Finish call that releases concurrency slots,
// reconciles tokens and records spend.
package limit

import (
	"context"
	"fmt"
	"time"
)

// Kind is what a check limits.
type Kind uint8

// The kinds of check.
const (
	// Requests limits requests per minute: Cost is 1.
	Requests Kind = iota + 1
	// Tokens limits tokens per minute: Cost is the tokens to charge now
	// (prompt tokens); Finish charges the rest.
	Tokens
	// Concurrent limits requests in flight: Limit is the maximum.
	Concurrent
	// Budget limits spend per UTC day in USD: admitted while spent < Limit;
	// Finish adds the request's cost.
	Budget
)

func (k Kind) String() string {
	switch k {
	case Requests:
		return "requests_per_minute"
	case Tokens:
		return "tokens_per_minute"
	case Concurrent:
		return "concurrent"
	case Budget:
		return "daily_budget_usd"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Check is one limit to evaluate.
type Check struct {
	Kind Kind
	// Subject identifies who is limited, e.g. "key:key_123" or
	// "ip:192.0.2.1". Checks of different kinds may share a subject.
	Subject string
	// Limit is per minute (Requests, Tokens), a maximum (Concurrent) or USD
	// per day (Budget). Checks with Limit <= 0 are ignored.
	Limit float64
	// Cost is what Admit charges (Requests: 1; Tokens: the estimate;
	// Concurrent and Budget: ignored).
	Cost float64
}

// Result is Admit's answer.
type Result struct {
	// Allowed is true when every check had room.
	Allowed bool
	// Denied is the first check that had no room (when !Allowed).
	Denied Check
	// RetryAfter is when the denied check would have room again (rounded
	// up to whole seconds by the HTTP layer).
	RetryAfter time.Duration
	// Ticket identifies the admission for Finish (concurrency leases).
	Ticket string
}

// Usage is what a finished request actually consumed.
type Usage struct {
	// ExtraTokens is charged to every Tokens check on top of its Cost
	// (completion tokens, and prompt tokens the estimate missed); it may be
	// negative to refund an over-estimate.
	ExtraTokens float64
	// CostUSD is added to every Budget check.
	CostUSD float64
}

// Limiter is implemented by Memory and Redis.
type Limiter interface {
	// Admit evaluates checks atomically: either all have room and all are
	// charged, or none is charged and Result names the first that had none.
	Admit(ctx context.Context, checks []Check) (Result, error)
	// Finish releases the admission's concurrency slots and charges usage.
	// It is called exactly once per admitted request.
	Finish(ctx context.Context, checks []Check, ticket string, u Usage) error
	// Close releases resources.
	Close() error
}
