// Package gateway is Rampart's OpenAI-compatible security proxy. A request
// goes through: authenticate → route and model checks → body parsing →
// limits (requests, tokens, concurrency, spend) → input detectors → policy
// → upstream → output detectors (streamed chunks too) → policy → audit
// record → response. Blocks and failures are answered in OpenAI's error
// shape with a request id, so every OpenAI SDK surfaces them as API errors.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampartsec/rampart/anonymize"
	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
	// The canary detector type, whose tokens the gateway adds to system
	// prompts.
	_ "github.com/rampartsec/rampart/detect/canary"
	"github.com/rampartsec/rampart/limit"
	"github.com/rampartsec/rampart/policy"
	"github.com/rampartsec/rampart/secretref"
	"github.com/rampartsec/rampart/store"
	"github.com/rampartsec/rampart/tokens"
)

// Deps are the long-lived parts a Gateway uses; they outlive reloads.
type Deps struct {
	Store   store.Store
	Limiter limit.Limiter
	// Audit receives one record per request; nil when the audit log is
	// disabled. Append must return only once the record is durable (an
	// audit.Journal or an audit.Writer).
	Audit Appender
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the gateway's metrics; nil uses a private
	// registry (see Gateway.Gatherer).
	Registerer prometheus.Registerer
	// Detectors defaults to detect.Default.
	Detectors *detect.Registry
	// Clock defaults to time.Now.
	Clock func() time.Time
	// Version is reported in the Server header and /healthz.
	Version string
}

// Appender stores audit records.
type Appender interface {
	Append(ctx context.Context, rec audit.Record) error
}

// Gateway serves the OpenAI-compatible API.
type Gateway struct {
	deps    Deps
	log     *slog.Logger
	metrics *metrics
	state   atomic.Pointer[state]
	reg     *prometheus.Registry
	ready   atomic.Bool
	mu      sync.Mutex // serializes reloads
	// prod is the model registry's production list
	// (registry.require_production).
	prod production
}

// state is everything derived from one configuration. Requests take a
// snapshot at their start, so a reload never changes a request midway.
type state struct {
	cfg       *config.Config
	upstreams []*upstream
	aliases   map[string]config.Alias
	policies  *policy.Set
	auth      *auth.Authenticator
	trusted   []netip.Prefix
	prices    []pricePattern
	// stopRefresh stops the goroutines that refresh the upstreams'
	// credentials; nil until they are started.
	stopRefresh context.CancelFunc
}

type pricePattern struct {
	pattern string
	price   config.Price
}

// New builds a Gateway for cfg. cfg must have been validated and have its
// defaults applied (config.Load does both).
func New(ctx context.Context, cfg *config.Config, deps Deps) (*Gateway, error) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Detectors == nil {
		deps.Detectors = detect.Default
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.Store == nil || deps.Limiter == nil {
		return nil, errors.New("gateway: a store and a limiter are required")
	}
	g := &Gateway{deps: deps, log: deps.Logger}
	g.prod.store = deps.Store
	reg := deps.Registerer
	if reg == nil {
		g.reg = prometheus.NewRegistry()
		reg = g.reg
	}
	g.metrics = newMetrics(reg)
	st, err := g.build(ctx, cfg)
	if err != nil {
		return nil, err
	}
	g.state.Store(st)
	g.startRefresh(st)
	if cfg.Registry.RequireProduction {
		if _, err := g.prod.load(ctx); err != nil {
			return nil, fmt.Errorf("gateway: registry.require_production: %w", err)
		}
	}
	// Load the token vocabularies now rather than in the first request.
	tokens.O200kBase().Load()
	tokens.Cl100kBase().Load()
	g.ready.Store(true)
	return g, nil
}

// Gatherer returns the private metrics registry when Deps.Registerer was
// nil, else nil.
func (g *Gateway) Gatherer() prometheus.Gatherer {
	if g.reg == nil {
		return nil
	}
	return g.reg
}

// Reload swaps in a new configuration. Requests in flight finish with the
// configuration they started with. On error the old configuration stays.
// Listener addresses, the store and the limiter backend are not reloaded.
func (g *Gateway) Reload(ctx context.Context, cfg *config.Config) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, err := g.build(ctx, cfg)
	if err != nil {
		g.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	old := g.state.Swap(st)
	g.startRefresh(st)
	old.stopRefresh()
	g.metrics.reloads.WithLabelValues("ok").Inc()
	// Let idle upstream connections of the old configuration go once the
	// requests using them are done.
	go func() {
		time.Sleep(time.Minute)
		for _, u := range old.upstreams {
			u.transport.CloseIdleConnections()
		}
	}()
	return nil
}

// Close stops the gateway's background work (refreshing upstream
// credentials). It does not stop serving requests.
func (g *Gateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st := g.state.Load(); st != nil {
		st.stopRefresh()
	}
}

// startRefresh starts one goroutine per upstream of st whose credentials
// are refreshed (upstreams[].refresh), stopped by st.stopRefresh.
func (g *Gateway) startRefresh(st *state) {
	ctx, cancel := context.WithCancel(context.Background())
	st.stopRefresh = cancel
	for _, u := range st.upstreams {
		if u.refresh > 0 {
			go g.refreshLoop(ctx, u)
		}
	}
}

// refreshLoop resolves u's credential references every u.refresh until
// ctx is done. A failed refresh keeps the credentials in use, is logged
// (the reference and error, never a value) and counted.
func (g *Gateway) refreshLoop(ctx context.Context, u *upstream) {
	t := time.NewTicker(u.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A refresh may take at most the interval (and at most a minute).
		rctx, cancel := context.WithTimeout(ctx, min(u.refresh, time.Minute))
		err := u.reresolve(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			g.metrics.refreshes.WithLabelValues(u.name, "error").Inc()
			g.log.Warn("upstream credential refresh failed; keeping the current credentials",
				"upstream", u.name, "error", err.Error())
			continue
		}
		g.metrics.refreshes.WithLabelValues(u.name, "ok").Inc()
	}
}

// SetReady marks the gateway ready or not (for /readyz during drain).
func (g *Gateway) SetReady(ok bool) { g.ready.Store(ok) }

func (g *Gateway) build(ctx context.Context, cfg *config.Config) (*state, error) {
	st := &state{cfg: cfg, aliases: cfg.Aliases}
	for _, uc := range cfg.Upstreams {
		u, err := newUpstream(ctx, uc)
		if err != nil {
			return nil, err
		}
		st.upstreams = append(st.upstreams, u)
	}
	if len(st.upstreams) == 0 {
		return nil, errors.New("gateway: no upstream configured")
	}
	var err error
	st.policies, err = policy.Build(cfg, g.deps.Detectors)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if ref := cfg.Redaction.HashKey; ref != "" {
		key, err := secretref.Resolve(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("gateway: redaction.hash_key: %w", err)
		}
		if key.IsZero() {
			return nil, errors.New("gateway: redaction.hash_key: the secret is empty")
		}
		st.policies.Hasher = anonymize.NewHasher([]byte(key.Reveal()))
	}
	var jwt *auth.JWTVerifier
	if cfg.Auth.JWT != nil {
		jwt, err = auth.NewJWTVerifier(ctx, cfg.Auth.JWT)
		if err != nil {
			return nil, fmt.Errorf("gateway: jwt: %w", err)
		}
	}
	st.auth = auth.NewAuthenticator(g.deps.Store, jwt, g.deps.Clock)
	for _, c := range cfg.Server.TrustedProxies {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, err2 := netip.ParseAddr(c)
			if err2 != nil {
				return nil, fmt.Errorf("gateway: trusted_proxies: %q is not a CIDR or an address", c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		st.trusted = append(st.trusted, p.Masked())
	}
	for name, p := range cfg.Prices {
		st.prices = append(st.prices, pricePattern{name, p})
	}
	// Exact names first, then longer patterns before shorter ones.
	sortPrices(st.prices)
	return st, nil
}

func sortPrices(ps []pricePattern) {
	less := func(a, b pricePattern) bool {
		ag, bg := strings.ContainsAny(a.pattern, "*?["), strings.ContainsAny(b.pattern, "*?[")
		if ag != bg {
			return !ag
		}
		if len(a.pattern) != len(b.pattern) {
			return len(a.pattern) > len(b.pattern)
		}
		return a.pattern < b.pattern
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && less(ps[j], ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// price returns the price of model, and whether the table has one.
func (st *state) price(model string) (config.Price, bool) {
	for _, p := range st.prices {
		if p.pattern == model {
			return p.price, true
		}
		if ok, _ := path.Match(p.pattern, model); ok {
			return p.price, true
		}
	}
	return config.Price{}, false
}

// route resolves a client-facing model name to an upstream and the model
// name the upstream expects.
func (st *state) route(model string) (*upstream, string, bool) {
	if a, ok := st.aliases[model]; ok {
		if a.Upstream != "" {
			for _, u := range st.upstreams {
				if u.name == a.Upstream {
					return u, a.Model, true
				}
			}
			return nil, "", false
		}
		model = a.Model
	}
	for _, u := range st.upstreams {
		if u.serves(model) {
			return u, model, true
		}
	}
	for _, u := range st.upstreams {
		if u.wildcard {
			return u, model, true
		}
	}
	return nil, "", false
}

// Handler returns the public API: the /v1 routes, /healthz, /readyz, and
// (unless disabled or moved to their own listener) /metrics and the admin
// API, which callers mount themselves (see cmd/rampart).
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", g.api(routeChat))
	mux.HandleFunc("POST /v1/completions", g.api(routeCompletions))
	mux.HandleFunc("POST /v1/embeddings", g.api(routeEmbeddings))
	mux.HandleFunc("POST /v1/responses", g.api(routeResponses))
	mux.HandleFunc("GET /v1/models", g.models)
	mux.HandleFunc("GET /v1/models/{model...}", g.model)
	mux.HandleFunc("GET /healthz", g.healthz)
	mux.HandleFunc("GET /readyz", g.readyz)
	mux.HandleFunc("/v1/", g.notFound)
	return mux
}

func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":"ok","version":%q}`+"\n", g.deps.Version)
}

// readyz answers 200 when the gateway can serve: it is not draining and
// its store answers.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !g.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"draining"}` + "\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := g.deps.Store.Ping(ctx); err != nil {
		g.log.Warn("readiness: store unavailable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"store unavailable"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
}
