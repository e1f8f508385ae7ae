package limit

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix starts every key a Redis limiter writes.
const DefaultRedisPrefix = "rampart:limit:"

// RedisOptions configure a Redis limiter. The zero value is ready to use.
type RedisOptions struct {
	// Prefix starts every key; "" means DefaultRedisPrefix. Replicas that
	// share limits must share the prefix.
	Prefix string
	// LeaseTTL is how long a concurrency slot stays held when Finish is
	// never called (a replica crashed); 0 means DefaultLeaseTTL. It must
	// be longer than the longest request.
	LeaseTTL time.Duration
}

// Redis is a Limiter whose state lives in Redis, so that every gateway
// replica sharing the Redis and the prefix enforces one set of limits. It
// is safe for concurrent use.
//
// Admit and Finish are one round trip each: a Lua script (EVALSHA, falling
// back to EVAL when the server has not cached it) that reads the time with
// Redis TIME, so replicas whose clocks disagree still agree on the limits.
// Admit evaluates every check and charges them only if all have room.
// Requires Redis 5 or later (or a compatible server with Lua scripting).
//
// Keys, each with a TTL so that nothing outlives its use:
//
//	PREFIX rpm: SUBJECT   string, GCRA arrival time in µs; expires when the bucket is full again
//	PREFIX tpm: SUBJECT   the same for tokens
//	PREFIX conc: SUBJECT  sorted set of tickets scored by lease expiry (µs); expired leases are
//	                      purged on Admit; the key expires a second after its newest lease
//	PREFIX usd: SUBJECT   hash d (UTC day number), s (USD spent that day); expires an hour after the day
//
// The keys of one Admit span several subjects. On Redis Cluster a script
// may only touch keys of one hash slot, so give a Prefix with a hash tag
// (e.g. "{rampart-limit}:"), which puts every limiter key on one node; a
// single Redis or Sentinel needs nothing.
//
// Errors from Redis are returned wrapped; whether to admit when Redis is
// down (fail open) or refuse (fail closed) is the caller's decision. A
// client that retries commands (go-redis does by default) may run a script
// twice when a reply is lost, charging twice; set MaxRetries to -1 for
// exact accounting. Call
// Finish with a context that the client's disconnect does not cancel
// (context.WithoutCancel and a timeout), or the slot waits for its lease
// to expire.
type Redis struct {
	client   redis.UniversalClient
	prefix   string
	leaseTTL time.Duration
	// instance makes tickets unique across replicas.
	instance string
	seq      atomic.Uint64
}

var _ Limiter = (*Redis)(nil)

var (
	//go:embed admit.lua
	admitLua    string
	admitScript = redis.NewScript(admitLua)

	//go:embed finish.lua
	finishLua    string
	finishScript = redis.NewScript(finishLua)
)

// NewRedis returns a limiter that keeps its state in the Redis behind
// client. Close does not close the client: the caller owns it.
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if client == nil {
		return nil, errors.New("limit: new redis limiter: nil client")
	}
	if opts.LeaseTTL < 0 || (opts.LeaseTTL > 0 && opts.LeaseTTL < time.Millisecond) {
		return nil, fmt.Errorf("limit: new redis limiter: lease TTL %v, want 0 (default) or at least 1ms", opts.LeaseTTL)
	}
	r := &Redis{client: client, prefix: opts.Prefix, leaseTTL: opts.LeaseTTL}
	if r.prefix == "" {
		r.prefix = DefaultRedisPrefix
	}
	if r.leaseTTL == 0 {
		r.leaseTTL = DefaultLeaseTTL
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	r.instance = hex.EncodeToString(b[:])
	return r, nil
}

// key is the Redis key of a check.
func (r *Redis) key(c *Check) string {
	var kind string
	switch c.Kind {
	case Requests:
		kind = "rpm:"
	case Tokens:
		kind = "tpm:"
	case Concurrent:
		kind = "conc:"
	case Budget:
		kind = "usd:"
	}
	return r.prefix + kind + c.Subject
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Admit evaluates checks atomically in one round trip; see Limiter.
func (r *Redis) Admit(ctx context.Context, checks []Check) (Result, error) {
	if err := validate(checks); err != nil {
		return Result{}, err
	}
	keys := make([]string, 0, len(checks))
	index := make([]int, 0, len(checks))
	args := make([]any, 2, 2+3*len(checks))
	conc := false
	for i := range checks {
		c := &checks[i]
		if c.Limit <= 0 {
			continue
		}
		keys = append(keys, r.key(c))
		index = append(index, i)
		args = append(args, int(c.Kind), formatFloat(c.Limit), formatFloat(cost(c)))
		conc = conc || c.Kind == Concurrent
	}
	if len(keys) == 0 {
		return Result{Allowed: true}, nil
	}
	var ticket string
	if conc {
		ticket = r.instance + "-" + strconv.FormatUint(r.seq.Add(1), 36)
	}
	args[0] = ticket
	args[1] = r.leaseTTL.Microseconds()
	v, err := admitScript.Run(ctx, r.client, keys, args...).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("limit: redis admit: %w", err)
	}
	if len(v) != 3 || v[1] < 0 || v[1] > int64(len(index)) {
		return Result{}, fmt.Errorf("limit: redis admit: unexpected script reply %v", v)
	}
	if v[0] == 1 {
		return Result{Allowed: true, Ticket: ticket}, nil
	}
	if v[1] == 0 {
		return Result{}, fmt.Errorf("limit: redis admit: unexpected script reply %v", v)
	}
	retry := Never
	if v[2] >= 0 {
		retry = time.Duration(v[2]) * time.Microsecond
	}
	return Result{Denied: checks[index[v[1]-1]], RetryAfter: retry}, nil
}

// Finish releases the ticket's concurrency leases and charges usage in one
// round trip; see Limiter. Releasing is idempotent: a second Finish with
// the same ticket releases nothing (but charges its usage again). A
// Concurrent check is released whatever its Limit.
func (r *Redis) Finish(ctx context.Context, checks []Check, ticket string, u Usage) error {
	if err := validate(checks); err != nil {
		return err
	}
	if err := validateUsage(u); err != nil {
		return err
	}
	keys := make([]string, 0, len(checks))
	args := make([]any, 3, 3+2*len(checks))
	for i := range checks {
		c := &checks[i]
		switch {
		case c.Kind == Concurrent && ticket != "",
			c.Kind == Tokens && c.Limit > 0 && u.ExtraTokens != 0,
			c.Kind == Budget && c.Limit > 0 && u.CostUSD > 0:
			keys = append(keys, r.key(c))
			args = append(args, int(c.Kind), formatFloat(c.Limit))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	args[0] = ticket
	args[1] = formatFloat(u.ExtraTokens)
	args[2] = formatFloat(u.CostUSD)
	if err := finishScript.Run(ctx, r.client, keys, args...).Err(); err != nil {
		return fmt.Errorf("limit: redis finish: %w", err)
	}
	return nil
}

// Close releases nothing: the Redis client belongs to the caller.
func (r *Redis) Close() error { return nil }
