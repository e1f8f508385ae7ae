package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testenv"
	"github.com/rampartsec/rampart/store/storetest"
)

// TestReplicasShareLimitsAndRevocation runs two gateways over one
// PostgreSQL store and one Redis limiter. Clients split across both hammer
// one key: together they are admitted what the key's requests_per_minute
// allows (GCRA: a burst of one minute's allowance, then the rate), every
// refusal says when to retry, and a revocation made with the CLI refuses
// the very next request on each replica.
func TestReplicasShareLimitsAndRevocation(t *testing.T) {
	t.Parallel()
	redisAddr := testenv.RedisAddr(t)
	dsn := storetest.NewPostgresDatabase(t)
	up := newUpstream(t)
	dir := t.TempDir()

	const rpm = 1200
	cfg := fmt.Sprintf(`# two replicas: shared store and limits
data_dir: %s
store:
  driver: postgres
  postgres_dsn: env:%s
upstreams:
  - name: fake
    base_url: %s
    api_key: env:%s
    models: ["*"]
limits:
  backend: redis
  redis:
    addr: %s
    prefix: "rampart-e2e-%s:"
detectors:
  secrets: {type: secrets}
policies:
  - name: e2e
    input:
      - {detector: secrets, action: flag}
audit:
  prompts: none
log:
  level: info # the tests read the "listening" line
  format: json
`, filepath.Join(dir, "data"), envPostgresDSN, up.URL, envUpstreamKey, redisAddr, randomHex(6))
	cfgPath := writeFile(t, dir, "rampart.yaml", cfg)
	env := []string{envPostgresDSN + "=" + dsn, envUpstreamKey + "=" + up.Key}
	store := []string{"--config", cfgPath}
	mustRampart(t, env, "config", "check", cfgPath)
	// The CLI creates the schema; then both replicas start on it.
	key, keyID := createKey(t, env, store, "--name", "replicated", "--rpm", strconv.Itoa(rpm))
	gws := []*gateway{startGateway(t, env, store...), startGateway(t, env, store...)}

	type call struct {
		sent, done time.Time
		status     int
		retryAfter string
		replica    int
	}
	const (
		clientsPerReplica = 12
		afterBurst        = 6 * time.Second  // measured after the first refusal
		hardStop          = 90 * time.Second // however slow the machine
	)
	var (
		mu        sync.Mutex
		calls     []call
		firstDeny atomic.Int64 // Unix nanoseconds of the first 429 seen
		errs      atomic.Int64
		firstErr  atomic.Value
	)
	start := time.Now()
	body := chatBody("hello", false)
	var wg sync.WaitGroup
	for i := range 2 * clientsPerReplica {
		replica := i % 2
		wg.Go(func() {
			var mine []call
			for {
				now := time.Now()
				if fd := firstDeny.Load(); (fd != 0 && now.Sub(time.Unix(0, fd)) > afterBurst) || now.Sub(start) > hardStop {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				r, err := send(ctx, "POST", gws[replica].URL+"/v1/chat/completions", key, body)
				cancel()
				done := time.Now()
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, call{now, done, r.Status, r.Header.Get("Retry-After"), replica})
				if r.Status == 429 {
					firstDeny.CompareAndSwap(0, done.UnixNano())
				}
			}
			mu.Lock()
			calls = append(calls, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := errs.Load(); n > 0 {
		t.Fatalf("%d requests failed; first: %v", n, firstErr.Load())
	}
	if firstDeny.Load() == 0 {
		t.Fatalf("%d requests in %v and none refused", len(calls), time.Since(start))
	}

	// Bounds of the moments that matter: the first answer, the last
	// request sent and answered, the first refusal sent and answered.
	firstDone, lastSent, lastDone := calls[0].done, calls[0].sent, calls[0].done
	var denySent, denyDone time.Time
	admitted := [2]int{}
	statuses := map[int]int{}
	for _, c := range calls {
		statuses[c.status]++
		firstDone = minTime(firstDone, c.done)
		lastSent = maxTime(lastSent, c.sent)
		lastDone = maxTime(lastDone, c.done)
		switch c.status {
		case 200:
			admitted[c.replica]++
		case 429:
			if denySent.IsZero() || c.sent.Before(denySent) {
				denySent = c.sent
			}
			if denyDone.IsZero() || c.done.Before(denyDone) {
				denyDone = c.done
			}
			if n, err := strconv.Atoi(c.retryAfter); err != nil || n < 1 {
				t.Errorf("a 429 carries Retry-After %q, want a whole number of seconds >= 1", c.retryAfter)
			}
		}
	}
	if len(statuses) != 2 || statuses[200] == 0 || statuses[429] == 0 {
		t.Errorf("statuses %v, want only 200 and 429", statuses)
	}
	rate := float64(rpm) / time.Minute.Seconds()
	total := admitted[0] + admitted[1]
	elapsed := lastDone.Sub(start)
	t.Logf("%d requests in %v (%.0f/s); admitted %d (replica 1: %d, replica 2: %d); burst + rate × elapsed = %.0f",
		len(calls), elapsed.Round(time.Millisecond), float64(len(calls))/elapsed.Seconds(),
		total, admitted[0], admitted[1], rpm+rate*elapsed.Seconds())
	if admitted[0] == 0 || admitted[1] == 0 {
		t.Errorf("a replica admitted nothing: %v", admitted)
	}
	// All admissions: a minute's allowance at once, then the rate.
	hi := rpm + rate*lastDone.Sub(start).Seconds()
	lo := rpm + rate*lastSent.Sub(firstDone).Seconds()
	if got := float64(total); got > 1.1*hi || got < 0.9*lo {
		t.Errorf("admitted %d in all, want %.0f..%.0f ± 10%%", total, lo, hi)
	}
	// After the first refusal only the rate admits; the burst no longer
	// hides it. Requests straddling the refusal count as possibly after.
	var afterLo, afterHi int
	for _, c := range calls {
		if c.status == 200 && c.sent.After(denyDone) {
			afterLo++
		}
		if c.status == 200 && c.done.After(denySent) {
			afterHi++
		}
	}
	wantHi := rate * lastDone.Sub(denySent).Seconds()
	wantLo := rate * lastSent.Sub(denyDone).Seconds()
	t.Logf("after the first refusal: admitted %d..%d, rate × elapsed = %.1f..%.1f", afterLo, afterHi, wantLo, wantHi)
	if float64(afterLo) > 1.1*wantHi+1 || float64(afterHi) < 0.9*wantLo-1 {
		t.Errorf("after the first refusal admitted %d..%d, want %.1f..%.1f ± 10%%", afterLo, afterHi, wantLo, wantHi)
	}

	// Revocation with the CLI: the very next request on each replica is
	// refused, with 401 (authentication comes before limits).
	mustRampart(t, env, append([]string{"keys", "revoke", keyID}, store...)...)
	for i, gw := range gws {
		r := mustSend(t, "POST", gw.URL+"/v1/chat/completions", key, body)
		if r.Status != 401 {
			t.Errorf("replica %d: the request after the revocation got %d, want 401: %s", i+1, r.Status, r.Body)
		}
	}
	// Both replicas wrote to the one audit log, and it verifies.
	if res := rampart(t, env, append([]string{"audit", "verify"}, store...)...); res.Code != 0 {
		t.Errorf("audit verify over PostgreSQL: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
