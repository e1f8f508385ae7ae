package gateway

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/gateway/openai"
)

// production is the model registry's list of production versions, as the
// gateway last read it (registry.require_production). Requests read the
// list in memory; once it is older than registry.refresh, the request that
// notices starts one background refresh and goes on with the list it has,
// so a request waits for the store only when no list was ever read.
type production struct {
	store interface {
		ProductionModels(ctx context.Context) (map[string]string, error)
	}
	mu      sync.Mutex // serialises loads
	snap    atomic.Pointer[prodSnapshot]
	loading atomic.Bool
	// failures counts failed background refreshes (for the log).
	failures atomic.Int64
}

type prodSnapshot struct {
	models map[string]string
	at     time.Time
}

// load reads the list from the store.
func (p *production) load(ctx context.Context) (*prodSnapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	if s := p.snap.Load(); s != nil && !s.at.Before(start.Add(-time.Millisecond)) {
		return s, nil // another caller loaded it just now
	}
	models, err := p.store.ProductionModels(ctx)
	if err != nil {
		return nil, err
	}
	s := &prodSnapshot{models: models, at: start}
	p.snap.Store(s)
	return s, nil
}

// models returns the production models as of at most ttl ago (older while
// a refresh is running or failing), loading them first if needed.
func (p *production) models(ctx context.Context, g *Gateway, now time.Time, ttl time.Duration) (map[string]string, error) {
	s := p.snap.Load()
	if s == nil {
		s, err := p.load(ctx)
		if err != nil {
			return nil, err
		}
		return s.models, nil
	}
	if now.Sub(s.at) >= ttl && p.loading.CompareAndSwap(false, true) {
		go func() {
			defer p.loading.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := p.load(ctx); err != nil {
				n := p.failures.Add(1)
				g.log.Error("model registry refresh failed; using the production versions read before", "err", err, "failures", n)
				return
			}
			p.failures.Store(0)
		}()
	}
	return s.models, nil
}

// registryAllows answers the request itself and returns false when
// registry.require_production applies to the upstream model and the model
// has no production version in the registry.
func (c *call) registryAllows() bool {
	rc := &c.st.cfg.Registry
	if !rc.RequireProduction || !matchesModel(rc.Models, c.upModel) {
		return true
	}
	models, err := c.g.prod.models(c.ctx, c.g, c.start, rc.Refresh)
	if err != nil {
		c.g.log.Error("model registry unavailable; refusing (registry.require_production)", "request_id", c.id, "err", err)
		c.fail(&openai.APIError{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "registry_unavailable",
			Message: "the model registry is unavailable, so the request was refused"}, decError)
		return false
	}
	if _, ok := models[c.upModel]; ok {
		return true
	}
	c.fail(&openai.APIError{Status: http.StatusForbidden, Type: openai.TypePermission, Param: "model", Code: "model_not_approved",
		Message: fmt.Sprintf("the model %q is not approved: it has no production version in the model registry", c.req.Model)}, decDenied)
	return false
}

// matchesModel reports whether model matches one of the patterns; no
// pattern matches every model.
func matchesModel(patterns []string, model string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, model); ok || p == model {
			return true
		}
	}
	return false
}
