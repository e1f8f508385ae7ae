package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampartsec/rampart/anonymize"
	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/gateway/openai"
	"github.com/rampartsec/rampart/limit"
	"github.com/rampartsec/rampart/policy"
	"github.com/rampartsec/rampart/redact"
	"github.com/rampartsec/rampart/tokens"
)

type routeSpec struct {
	route openai.Route
	path  string
}

var (
	routeChat        = routeSpec{openai.ChatCompletions, "/v1/chat/completions"}
	routeCompletions = routeSpec{openai.Completions, "/v1/completions"}
	routeEmbeddings  = routeSpec{openai.Embeddings, "/v1/embeddings"}
	routeResponses   = routeSpec{openai.Responses, "/v1/responses"}
)

// Decisions recorded in metrics and audit records.
const (
	decAllow  = "allow"
	decRedact = "redact"
	decFlag   = "flag"
	decBlock  = "block"
	decLimit  = "limit"
	decDenied = "denied"
	decError  = "error"
)

// call is the state of one API request.
type call struct {
	g     *Gateway
	st    *state
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	spec  routeSpec
	id    string
	start time.Time

	principal *auth.Principal
	clientIP  string
	req       *openai.Request
	up        *upstream
	upModel   string
	pol       *policy.Policy
	enc       *tokens.Encoding

	// sess holds the request's placeholders (the vault), hashes and fakes;
	// nil when the policy needs none. It is never logged or audited.
	sess *anonymize.Session
	// outRules are the policy's output rules bound to this request (the
	// canary detector needs its system prompt and token).
	outRules []*policy.Rule
	// canary is the token added to the system prompt ("" without one);
	// strip lists what is removed from every output text.
	canary string
	strip  []string

	checks   []limit.Check
	ticket   string
	admitted bool

	promptTokens     int
	promptEstimate   int
	completionTokens int
	estimated        bool
	usageSeen        bool

	upstreamDur time.Duration
	decision    string
	status      int
	errMsg      string
	findings    []audit.Finding
	prompt      string
	audited     bool
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newRequestID returns "req_" and 26 random base32 characters (128 bits).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "req_" + idEncoding.EncodeToString(b[:])
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (g *Gateway) api(spec routeSpec) http.HandlerFunc {
	return g.handle(spec, (*call).serve)
}

// handle wraps a route: request id, in-flight gauge, panic recovery, and
// the audit record, metrics and log line of every request.
func (g *Gateway) handle(spec routeSpec, serve func(*call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{
			g: g, st: g.state.Load(), w: w, r: r, ctx: r.Context(), spec: spec,
			id: newRequestID(), start: time.Now(), decision: decAllow,
		}
		w.Header().Set("X-Request-Id", c.id)
		g.metrics.inflight.Inc()
		defer g.metrics.inflight.Dec()
		defer c.finish()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				g.log.Error("panic serving request", "request_id", c.id, "panic", fmt.Sprint(v))
				c.fail(&openai.APIError{Status: http.StatusInternalServerError, Type: openai.TypeServer, Code: "internal_error",
					Message: "internal error"}, decError)
			}
		}()
		c.clientIP = clientIP(r, c.st.trusted)
		serve(c)
	}
}

// authenticate authenticates the caller and checks the route; it answers
// the error itself and returns false when the request may not go on.
func (c *call) authenticate() bool {
	p, err := c.st.auth.Authenticate(c.ctx, c.r)
	if err != nil {
		typ := openai.TypeAuthentication
		status := auth.HTTPStatus(err)
		if status >= 500 {
			typ = openai.TypeServer
			c.g.log.Error("authentication backend failed", "request_id", c.id, "err", err)
		}
		c.fail(&openai.APIError{Status: status, Type: typ, Code: auth.ClientCode(err), Message: auth.ClientMessage(err)}, decDenied)
		return false
	}
	c.principal = p
	if !p.AllowsRoute(c.spec.path) {
		c.fail(&openai.APIError{Status: http.StatusForbidden, Type: openai.TypePermission, Code: "route_not_allowed",
			Message: fmt.Sprintf("this key may not use %s", c.spec.path)}, decDenied)
		return false
	}
	return true
}

func (c *call) serve() {
	st := c.st
	if !c.authenticate() {
		return
	}
	p := c.principal

	body, ok := c.readBody()
	if !ok {
		return
	}
	defer bodyPool.Put(body)
	raw := body.Bytes()

	req, err := openai.ParseRequest(c.spec.route, raw)
	if err != nil {
		var oe *openai.Error
		msg, param := err.Error(), ""
		if errors.As(err, &oe) {
			msg, param = oe.Message, oe.Param
			if param != "" {
				msg = param + ": " + msg
			}
		}
		c.fail(&openai.APIError{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: param, Code: "invalid_request", Message: msg}, decError)
		return
	}
	c.req = req
	if max := st.cfg.Limits.MaxMessages; max > 0 && req.Messages > max {
		c.fail(&openai.APIError{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "messages", Code: "too_many_messages",
			Message: fmt.Sprintf("the request has %d messages; the limit is %d (limits.max_messages)", req.Messages, max)}, decError)
		return
	}

	up, upModel, ok := st.route(req.Model)
	if !ok || !p.AllowsModel(req.Model) {
		status, code, typ := http.StatusNotFound, "model_not_found", openai.TypeNotFound
		msg := fmt.Sprintf("the model %q is not served by this gateway", req.Model)
		if ok {
			status, code, typ = http.StatusForbidden, "model_not_allowed", openai.TypePermission
			msg = fmt.Sprintf("this key may not use the model %q", req.Model)
		}
		c.fail(&openai.APIError{Status: status, Type: typ, Param: "model", Code: code, Message: msg}, decDenied)
		return
	}
	c.up, c.upModel = up, upModel
	c.enc = tokens.ForModel(upModel)
	if !c.registryAllows() {
		return
	}

	ls := c.limits()
	if ls.MaxTokens > 0 && req.MaxTokens > ls.MaxTokens {
		c.fail(&openai.APIError{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "max_tokens", Code: "max_tokens_exceeded",
			Message: fmt.Sprintf("max_tokens %d exceeds the cap of %d for this key", req.MaxTokens, ls.MaxTokens)}, decLimit)
		return
	}

	c.promptEstimate = c.countPrompt()
	c.promptTokens = c.promptEstimate
	c.estimated = true
	if !c.admit(ls) {
		return
	}

	c.pol = st.policies.Select(c.spec.path, p.Group)
	var edits []openai.Edit
	var redacted map[int]string
	if c.pol != nil {
		c.outRules = c.pol.Output
		if needsSession(c.pol) {
			c.sess = st.policies.NewSession()
		}
	}
	if c.pol != nil && len(c.pol.Input) > 0 {
		inputs := make([]detect.Input, len(req.Texts))
		for i, t := range req.Texts {
			inputs[i] = detect.Input{Text: t.Text, Role: t.Role, Surface: detect.SurfacePrompt}
		}
		out := policy.CheckSession(c.ctx, c.pol.Input, inputs, c.sess)
		c.record("input", out, func(i int) string { return req.Texts[i].Field }, func(i int) string { return req.Texts[i].Text })
		if !c.enforce(out, "input", func(i int) string { return req.Texts[i].Field }) {
			return
		}
		redacted = out.Redacted
		c.keepPrompt(out)
	} else {
		c.keepPrompt(policy.Outcome{})
	}
	canaryAt := -1
	if c.pol != nil && c.pol.Canary {
		canaryAt = c.planCanary(redacted)
	}
	for i, s := range redacted {
		if i != canaryAt {
			edits = append(edits, openai.Edit{Path: req.Texts[i].Path(), Value: s})
		}
	}
	if canaryAt >= 0 {
		s, ok := redacted[canaryAt]
		if !ok {
			s = req.Texts[canaryAt].Text
		}
		edits = append(edits, openai.Edit{Path: req.Texts[canaryAt].Path(), Value: s + "\n\n" + canaryLine(c.canary)})
	}
	if upModel != req.Model {
		edits = append(edits, openai.Edit{Path: []openai.PathElem{{Key: "model"}}, Value: upModel})
	}
	if len(edits) > 0 {
		if raw, ok = c.rewrite(raw, edits, "request", "not sent"); !ok {
			return
		}
	}
	if c.canary != "" && canaryAt < 0 {
		if raw, ok = c.insertCanary(raw); !ok {
			return
		}
	}
	c.forward(raw)
}

// readBody reads the request body within server.max_body_bytes.
func (c *call) readBody() (*bytes.Buffer, bool) {
	max := int64(c.st.cfg.Server.MaxBodyBytes)
	if max <= 0 {
		max = 4 << 20
	}
	if c.r.ContentLength > max {
		c.fail(tooLarge(max), decError)
		return nil, false
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	if c.r.ContentLength > 0 {
		buf.Grow(int(c.r.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(c.r.Body, max+1))
	if err != nil {
		bodyPool.Put(buf)
		c.fail(&openai.APIError{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Code: "invalid_request",
			Message: "could not read the request body: " + err.Error()}, decError)
		return nil, false
	}
	if int64(buf.Len()) > max {
		bodyPool.Put(buf)
		c.fail(tooLarge(max), decError)
		return nil, false
	}
	return buf, true
}

func tooLarge(max int64) *openai.APIError {
	return &openai.APIError{Status: http.StatusRequestEntityTooLarge, Type: openai.TypeInvalidRequest, Code: "request_too_large",
		Message: fmt.Sprintf("the request body exceeds %d bytes (server.max_body_bytes)", max)}
}

// limits returns the caller's effective limits: its own, else its
// group's, else the defaults, field by field.
func (c *call) limits() config.LimitSet {
	cfg := &c.st.cfg.Limits
	ls := c.principal.Limits
	merge := func(d config.LimitSet) {
		if ls.RequestsPerMinute == 0 {
			ls.RequestsPerMinute = d.RequestsPerMinute
		}
		if ls.TokensPerMinute == 0 {
			ls.TokensPerMinute = d.TokensPerMinute
		}
		if ls.Concurrent == 0 {
			ls.Concurrent = d.Concurrent
		}
		if ls.DailyBudgetUSD == 0 {
			ls.DailyBudgetUSD = d.DailyBudgetUSD
		}
		if ls.MaxTokens == 0 {
			ls.MaxTokens = d.MaxTokens
		}
	}
	if g, ok := cfg.Groups[c.principal.Group]; ok {
		merge(g)
	}
	merge(cfg.Key)
	return ls
}

// countPrompt counts the request's prompt tokens offline.
func (c *call) countPrompt() int {
	req := c.req
	n := req.TokenInputs
	if req.Route == openai.ChatCompletions {
		n += tokens.ReplyPrimingTokens
		last := -1
		for _, t := range req.Texts {
			if t.Message != last {
				last = t.Message
				n += tokens.TokensPerMessage + 1 // role
				if t.Name != "" {
					n += tokens.TokensPerName + c.enc.Count(t.Name)
				}
			}
			n += c.enc.Count(t.Text)
		}
		return n
	}
	for _, t := range req.Texts {
		n += c.enc.Count(t.Text)
	}
	return n
}

// admit applies the limits. It answers 429 (or 503) itself and returns
// false when the request may not go on.
func (c *call) admit(ls config.LimitSet) bool {
	subject := "key:" + c.principal.KeyID
	ipSubject := "ip:" + c.clientIP
	ip := c.st.cfg.Limits.IP
	add := func(k limit.Kind, subj string, lim float64, cost float64) {
		if lim > 0 {
			c.checks = append(c.checks, limit.Check{Kind: k, Subject: subj, Limit: lim, Cost: cost})
		}
	}
	pt := float64(c.promptTokens)
	add(limit.Requests, subject, float64(ls.RequestsPerMinute), 1)
	add(limit.Tokens, subject, float64(ls.TokensPerMinute), pt)
	add(limit.Concurrent, subject, float64(ls.Concurrent), 1)
	add(limit.Budget, subject, ls.DailyBudgetUSD, 0)
	add(limit.Requests, ipSubject, float64(ip.RequestsPerMinute), 1)
	add(limit.Tokens, ipSubject, float64(ip.TokensPerMinute), pt)
	add(limit.Concurrent, ipSubject, float64(ip.Concurrent), 1)
	add(limit.Budget, ipSubject, ip.DailyBudgetUSD, 0)
	if len(c.checks) == 0 {
		return true
	}
	res, err := c.g.deps.Limiter.Admit(c.ctx, c.checks)
	if err != nil {
		if c.st.cfg.Limits.Redis.FailOpen {
			c.g.log.Warn("limiter unavailable; admitting (limits.redis.fail_open)", "request_id", c.id, "err", err)
			c.checks = nil
			return true
		}
		c.g.log.Error("limiter unavailable; refusing", "request_id", c.id, "err", err)
		c.checks = nil
		c.fail(&openai.APIError{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "limiter_unavailable",
			Message: "the rate limiter is unavailable, so the request was refused"}, decError)
		return false
	}
	if !res.Allowed {
		d := res.Denied
		c.checks = nil
		c.g.metrics.limited.WithLabelValues(d.Kind.String()).Inc()
		who := "this key"
		if strings.HasPrefix(d.Subject, "ip:") {
			who = "this client address"
		}
		retry := int(math.Ceil(res.RetryAfter.Seconds()))
		if retry < 1 {
			retry = 1
		}
		msg := fmt.Sprintf("rate limit exceeded: %s limit of %s for %s; retry after %ds", d.Kind, formatLimit(d), who, retry)
		if d.Kind == limit.Concurrent {
			msg = fmt.Sprintf("too many concurrent requests: the limit is %s for %s", formatLimit(d), who)
		}
		if d.Kind == limit.Tokens && d.Cost > d.Limit {
			msg = fmt.Sprintf("the request's %d prompt tokens exceed the tokens_per_minute limit of %s for %s", int(d.Cost), formatLimit(d), who)
		}
		c.fail(&openai.APIError{Status: http.StatusTooManyRequests, Type: openai.TypeRateLimit, Code: "rate_limit_exceeded",
			Message: msg, RetryAfter: retry}, decLimit)
		return false
	}
	c.ticket = res.Ticket
	c.admitted = true
	return true
}

func formatLimit(ch limit.Check) string {
	if ch.Kind == limit.Budget {
		return fmt.Sprintf("$%.2f per day", ch.Limit)
	}
	return strconv.FormatFloat(ch.Limit, 'f', -1, 64)
}

// record adds policy hits to the audit findings and metrics.
func (c *call) record(dir string, out policy.Outcome, fieldOf func(int) string, textOf func(int) string) {
	// Anonymized values leave no trace in excerpts: when a request has any,
	// no excerpt shows a hint of a value or another hit in its context.
	var byText map[int][]detect.Hit
	for _, h := range out.Hits {
		if h.Rule.Action == policy.Anonymize {
			byText = make(map[int][]detect.Hit)
			for _, o := range out.Hits {
				byText[o.Text] = append(byText[o.Text], o.Hit)
			}
			break
		}
	}
	for _, h := range out.Hits {
		text := textOf(h.Text)
		f := audit.Finding{
			Detector: h.Rule.Name, Direction: dir, Field: fieldOf(h.Text),
			Start: h.Start, End: h.End, Score: h.Score, Action: h.Rule.Action.String(),
		}
		if h.Hit.Rule != nil {
			f.RuleID = h.Hit.Rule.ID
		}
		if h.End <= len(text) && h.Start >= 0 && h.Start <= h.End {
			if hs := byText[h.Text]; hs != nil {
				f.Excerpt = redact.ExcerptHitNoHint(text, hs, indexOf(hs, h.Hit))
			} else {
				f.Excerpt = redact.Excerpt(text, h.Start, h.End)
			}
		}
		c.findings = append(c.findings, f)
		c.g.metrics.hits.WithLabelValues(h.Rule.Name, f.RuleID, dir, f.Action).Inc()
	}
	for _, err := range out.Errors {
		c.g.log.Warn("detector failed; continuing (on_error: allow)", "request_id", c.id, "err", err)
	}
	if out.Failed != nil {
		c.g.metrics.detErrs.WithLabelValues(out.Failed.Name).Inc()
	}
	switch {
	case out.Action >= policy.Redact && c.decision != decBlock:
		c.decision = decRedact
		if out.Action == policy.Block {
			c.decision = decBlock
		}
	case out.Action == policy.Flag && c.decision == decAllow:
		c.decision = decFlag
	}
}

// enforce answers a block. It returns false when the request must stop.
func (c *call) enforce(out policy.Outcome, dir string, fieldOf func(int) string) bool {
	if out.Failed != nil {
		c.g.log.Error("detector failed; blocking (fail closed)", "request_id", c.id, "detector", out.Failed.Name, "err", out.Err)
		c.fail(&openai.APIError{Status: http.StatusServiceUnavailable, Type: openai.TypePolicy, Code: "detector_failed",
			Detector: out.Failed.Name, Policy: c.pol.Name,
			Message: fmt.Sprintf("blocked by Rampart: detector %q failed and policy %q fails closed (request id %s)", out.Failed.Name, c.pol.Name, c.id)}, decBlock)
		return false
	}
	if out.Blocked == nil {
		return true
	}
	b := out.Blocked
	rule := ""
	title := ""
	if b.Hit.Rule != nil {
		rule, title = b.Hit.Rule.ID, b.Hit.Rule.Title
	}
	what := rule
	if title != "" {
		what = fmt.Sprintf("%s (%s)", title, rule)
	}
	c.fail(&openai.APIError{Status: http.StatusBadRequest, Type: openai.TypePolicy, Code: "content_blocked",
		Detector: b.Rule.Name, Rule: rule, Policy: c.pol.Name,
		Message: fmt.Sprintf("blocked by Rampart policy %q: detector %q found %s in the %s at %s (request id %s)",
			c.pol.Name, b.Rule.Name, what, dir, fieldOf(b.Text), c.id)}, decBlock)
	return false
}

// maxAuditPrompt bounds the prompt text kept in an audit record.
const maxAuditPrompt = 64 << 10

// keepPrompt stores the prompt in the audit record as audit.prompts says:
// "redacted" masks every input hit whatever its action.
func (c *call) keepPrompt(out policy.Outcome) {
	mode := c.st.cfg.Audit.Prompts
	if mode == "none" || c.req == nil {
		return
	}
	var b strings.Builder
	byText := make(map[int][]detect.Hit)
	for _, h := range out.Hits {
		// "full" keeps everything but anonymized values, which the
		// provider never saw either.
		if mode != "full" || h.Rule.Action == policy.Anonymize {
			byText[h.Text] = append(byText[h.Text], h.Hit)
		}
	}
	for i, t := range c.req.Texts {
		if b.Len() >= maxAuditPrompt {
			break
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(string(t.Role))
		b.WriteString(": ")
		s := t.Text
		if hs := byText[i]; len(hs) > 0 {
			s = redact.Apply(s, hs, redact.StyleLabel)
		}
		b.WriteString(s)
	}
	p := b.String()
	if len(p) > maxAuditPrompt {
		p = truncateUTF8(p, maxAuditPrompt) + "…[truncated]"
	}
	c.prompt = p
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// rewrite applies edits to a request or response body. When it cannot, it
// answers a 500 saying the body was withheld (fail closed: an unredacted
// body is never sent instead) and returns false.
func (c *call) rewrite(doc []byte, edits []openai.Edit, what, outcome string) ([]byte, bool) {
	out, err := openai.Rewrite(doc, edits)
	if err != nil {
		c.g.log.Error(what+" rewrite failed", "request_id", c.id, "err", err)
		c.fail(&openai.APIError{Status: http.StatusInternalServerError, Type: openai.TypeServer, Code: "internal_error",
			Message: fmt.Sprintf("the gateway could not apply its redactions to the %s, so it was %s", what, outcome)}, decError)
		return nil, false
	}
	return out, true
}

// fail answers an error, unless a response has already started.
func (c *call) fail(e *openai.APIError, decision string) {
	c.decision = decision
	c.status = e.Status
	c.errMsg = e.Message
	e.RequestID = c.id
	c.auditNow()
	e.Write(c.w)
	c.sent()
}

// sent pushes a complete response to the client at once, so that the
// bookkeeping in finish (limits, metrics, the log line) runs after the
// client has its answer rather than before the server flushes it.
func (c *call) sent() {
	_ = http.NewResponseController(c.w).Flush()
}

// auditNow writes the audit record and waits until it is durable, so that
// every response a client receives has its record. It runs once.
func (c *call) auditNow() {
	if c.audited {
		return
	}
	c.audited = true
	w := c.g.deps.Audit
	if w == nil {
		return
	}
	total := time.Since(c.start)
	rec := audit.Record{
		ID: c.id, Time: c.start.UTC(), Kind: audit.KindRequest, ClientIP: c.clientIP, Route: c.spec.path,
		Decision: c.decision, Status: c.status, Error: c.errMsg, Findings: c.findings,
		PromptTokens: c.promptTokens, CompletionTokens: c.completionTokens, TokensEstimated: c.estimated,
		TotalMicros: total.Microseconds(), UpstreamMicros: c.upstreamDur.Microseconds(),
		OverheadMicros: (total - c.upstreamDur).Microseconds(), Prompt: c.prompt,
	}
	if rec.Status == 0 {
		rec.Status = http.StatusOK
	}
	if p := c.principal; p != nil {
		rec.KeyID, rec.Subject, rec.Group = p.KeyID, p.Subject, p.Group
	}
	if c.req != nil {
		rec.Model, rec.Stream = c.req.Model, c.req.Stream
	}
	if c.up != nil {
		rec.Upstream = c.up.name
	}
	if c.pol != nil {
		rec.Policy = c.pol.Name
	}
	rec.CostUSD = c.cost()
	// The client may be gone; the record is still written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	if err := w.Append(ctx, rec); err != nil {
		c.g.metrics.auditErrs.Inc()
		c.g.log.Error("audit record not written", "request_id", c.id, "err", err)
	}
}

// cost prices the request with the price table.
func (c *call) cost() float64 {
	if c.upModel == "" {
		return 0
	}
	p, ok := c.st.price(c.upModel)
	if !ok {
		return 0
	}
	return (float64(c.promptTokens)*p.Input + float64(c.completionTokens)*p.Output) / 1e6
}

// finish releases the limits, records metrics and logs the request.
func (c *call) finish() {
	c.auditNow()
	total := time.Since(c.start)
	m := c.g.metrics
	if c.admitted && len(c.checks) > 0 {
		u := limit.Usage{
			ExtraTokens: float64(c.completionTokens + c.promptTokens - c.promptEstimate),
			CostUSD:     c.cost(),
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
		if err := c.g.deps.Limiter.Finish(ctx, c.checks, c.ticket, u); err != nil {
			c.g.log.Error("limiter finish failed", "request_id", c.id, "err", err)
		}
		cancel()
	}
	model := ""
	if c.up != nil && c.req != nil {
		model = m.modelLabel(c.req.Model)
	}
	m.requests.WithLabelValues(c.spec.path, model, c.decision).Inc()
	m.total.WithLabelValues(c.spec.path).Observe(total.Seconds())
	if c.upstreamDur > 0 {
		m.upstream.WithLabelValues(c.spec.path, c.up.name).Observe(c.upstreamDur.Seconds())
		m.overhead.WithLabelValues(c.spec.path).Observe((total - c.upstreamDur).Seconds())
		if c.promptTokens > 0 {
			m.tokens.WithLabelValues(model, "prompt").Add(float64(c.promptTokens))
		}
		if c.completionTokens > 0 {
			m.tokens.WithLabelValues(model, "completion").Add(float64(c.completionTokens))
		}
	}
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	if c.g.log.Enabled(c.ctx, slog.LevelInfo) {
		attrs := []slog.Attr{
			slog.String("request_id", c.id), slog.String("route", c.spec.path), slog.Int("status", status),
			slog.String("decision", c.decision), slog.String("client_ip", c.clientIP),
			slog.Int64("duration_us", total.Microseconds()),
		}
		if c.principal != nil {
			attrs = append(attrs, slog.String("key_id", c.principal.KeyID))
		}
		if c.req != nil {
			attrs = append(attrs, slog.String("model", c.req.Model), slog.Bool("stream", c.req.Stream),
				slog.Int("prompt_tokens", c.promptTokens), slog.Int("completion_tokens", c.completionTokens))
		}
		if c.up != nil {
			attrs = append(attrs, slog.String("upstream", c.up.name), slog.Int64("upstream_us", c.upstreamDur.Microseconds()))
		}
		if len(c.findings) > 0 {
			attrs = append(attrs, slog.Int("findings", len(c.findings)))
		}
		if c.errMsg != "" {
			attrs = append(attrs, slog.String("error", c.errMsg))
		}
		c.g.log.LogAttrs(c.ctx, slog.LevelInfo, "request", attrs...)
	}
}

// indexOf returns the index of h in hs (by span and rule), or -1.
func indexOf(hs []detect.Hit, h detect.Hit) int {
	for i, o := range hs {
		if o.Start == h.Start && o.End == h.End && o.Rule == h.Rule {
			return i
		}
	}
	return -1
}
