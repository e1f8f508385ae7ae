package gateway

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampartsec/rampart/gateway/openai"
)

var routeModels = routeSpec{openai.Models, "/v1/models"}

// modelCacheTTL is how long a wildcard upstream's model list is reused.
const modelCacheTTL = time.Minute

// modelList caches the models a wildcard upstream reports.
type modelList struct {
	mu      sync.Mutex
	ids     []string
	fetched time.Time
}

type modelEntry struct {
	id, owner string
}

func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	g.handle(routeModels, (*call).serveModels)(w, r)
}

func (g *Gateway) model(w http.ResponseWriter, r *http.Request) {
	g.handle(routeModels, (*call).serveModel)(w, r)
}

// serveModels answers GET /v1/models with the models the caller's key may
// use: the upstreams' listed models, the aliases, and what wildcard
// upstreams report, filtered by the key's model patterns.
func (c *call) serveModels() {
	if !c.authenticate() {
		return
	}
	entries := c.st.listModels(c.ctx, c)
	buf := []byte(`{"object":"list","data":[`)
	n := 0
	for _, e := range entries {
		if !c.principal.AllowsModel(e.id) {
			continue
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = appendModel(buf, e)
		n++
	}
	buf = append(buf, "]}"...)
	c.writeJSON(buf)
}

// serveModel answers GET /v1/models/{model}.
func (c *call) serveModel() {
	if !c.authenticate() {
		return
	}
	id := c.r.PathValue("model")
	up, _, ok := c.st.route(id)
	if !ok || !c.principal.AllowsModel(id) {
		c.fail(&openai.APIError{Status: http.StatusNotFound, Type: openai.TypeNotFound, Param: "model", Code: "model_not_found",
			Message: "the model " + strings.TrimSpace(id) + " does not exist or this key may not use it"}, decDenied)
		return
	}
	c.writeJSON(appendModel(nil, modelEntry{id: id, owner: up.name}))
}

func appendModel(buf []byte, e modelEntry) []byte {
	buf = append(buf, `{"id":`...)
	buf = openai.AppendString(buf, e.id)
	buf = append(buf, `,"object":"model","created":0,"owned_by":`...)
	buf = openai.AppendString(buf, e.owner)
	return append(buf, '}')
}

func (c *call) writeJSON(body []byte) {
	c.status = http.StatusOK
	c.auditNow()
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body)
	c.sent()
}

// listModels returns every model the gateway routes, sorted by id.
func (st *state) listModels(ctx context.Context, c *call) []modelEntry {
	seen := map[string]bool{}
	var out []modelEntry
	add := func(id, owner string) {
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		out = append(out, modelEntry{id, owner})
	}
	for alias, a := range st.aliases {
		owner := a.Upstream
		if owner == "" {
			if u, _, ok := st.route(a.Model); ok {
				owner = u.name
			}
		}
		add(alias, owner)
	}
	for _, u := range st.upstreams {
		for _, m := range u.models {
			if !strings.ContainsAny(m, "*?[") {
				add(m, u.name)
			}
		}
	}
	for _, u := range st.upstreams {
		if !u.wildcard {
			continue
		}
		ids, err := u.fetchModels(ctx, c)
		if err != nil {
			c.g.log.Warn("could not list an upstream's models", "request_id", c.id, "upstream", u.name, "err", err)
			continue
		}
		for _, id := range ids {
			add(id, u.name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// fetchModels asks a wildcard upstream for its models, reusing the answer
// for modelCacheTTL.
func (u *upstream) fetchModels(ctx context.Context, c *call) ([]string, error) {
	u.modelCache.mu.Lock()
	defer u.modelCache.mu.Unlock()
	if time.Since(u.modelCache.fetched) < modelCacheTTL {
		return u.modelCache.ids, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url(openai.Models), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Request-Id", c.id)
	u.setAuth(req.Header)
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, u.classify(ctx, err)
	}
	defer resp.Body.Close()
	body, tooBig, err := readLimited(resp.Body, 4<<20)
	if err != nil || tooBig || resp.StatusCode != http.StatusOK {
		return nil, &openai.APIError{Message: "upstream model list unavailable (HTTP " + resp.Status + ")"}
	}
	var ids []string
	for i := 0; ; i++ {
		a, b, ok := openai.Locate(body, []openai.PathElem{{Key: "data"}, {Index: i}, {Key: "id"}})
		if !ok {
			break
		}
		if id, err := openai.DecodeString(body[a:b]); err == nil {
			ids = append(ids, id)
		}
	}
	u.modelCache.ids, u.modelCache.fetched = ids, time.Now()
	return ids, nil
}
