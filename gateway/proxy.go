package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/gateway/openai"
	"github.com/rampartsec/rampart/policy"
)

// forwardedRequestHeaders are the client headers passed to the upstream.
// Everything else — the client's credential, cookies, its organization or
// project headers (which belong with the gateway's upstream credential) —
// stays behind.
var forwardedRequestHeaders = []string{"Openai-Beta", "Idempotency-Key", "Accept-Language"}

// forward sends the (possibly rewritten) body upstream and relays the
// answer.
func (c *call) forward(body []byte) {
	ctx := c.ctx
	if c.up.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.up.timeout)
		defer cancel()
	}
	ureq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.up.url(c.spec.route), bytes.NewReader(body))
	if err != nil {
		c.fail(&openai.APIError{Status: http.StatusInternalServerError, Type: openai.TypeServer, Code: "internal_error",
			Message: "could not build the upstream request"}, decError)
		return
	}
	h := ureq.Header
	h.Set("Content-Type", "application/json")
	if c.req.Stream {
		h.Set("Accept", "text/event-stream")
	} else {
		h.Set("Accept", "application/json")
	}
	for _, k := range forwardedRequestHeaders {
		if v := c.r.Header.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	h.Set("X-Request-Id", c.id)
	h.Set("User-Agent", "rampart/"+c.g.deps.Version)
	c.up.setAuth(h)

	upStart := time.Now()
	resp, err := c.up.client.Do(ureq)
	if err != nil {
		c.upstreamDur = time.Since(upStart)
		e := c.up.classify(c.ctx, err)
		c.g.metrics.upErrors.WithLabelValues(c.up.name, e.Code).Inc()
		if e.Status != 499 {
			c.g.log.Warn("upstream request failed", "request_id", c.id, "upstream", c.up.name, "code", e.Code, "err", redactURLError(err))
		}
		c.fail(e, decError)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		c.upstreamError(resp, upStart)
		return
	}
	if c.req.Stream && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		c.stream(resp, upStart)
		return
	}
	c.unary(resp, upStart)
}

// readLimited reads at most max bytes of r; tooBig reports a longer body.
func readLimited(r io.Reader, max int64) (b []byte, tooBig bool, err error) {
	b, err = io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(b)) > max {
		return nil, true, nil
	}
	return b, false, err
}

// unary relays a non-streamed upstream response after checking its
// output.
func (c *call) unary(resp *http.Response, upStart time.Time) {
	max := int64(c.st.cfg.Server.MaxResponseBytes)
	if max <= 0 {
		max = 32 << 20
	}
	body, tooBig, err := readLimited(resp.Body, max)
	c.upstreamDur = time.Since(upStart)
	if err != nil {
		e := c.up.classify(c.ctx, err)
		e.Message += " while sending its response"
		c.g.metrics.upErrors.WithLabelValues(c.up.name, e.Code).Inc()
		c.fail(e, decError)
		return
	}
	if tooBig {
		c.g.metrics.upErrors.WithLabelValues(c.up.name, "response_too_large").Inc()
		c.fail(&openai.APIError{Status: http.StatusBadGateway, Type: openai.TypeUpstream, Code: "upstream_response_too_large",
			Message: fmt.Sprintf("upstream %q sent a response larger than %d bytes (server.max_response_bytes)", c.up.name, max)}, decError)
		return
	}
	parsed, err := openai.ParseResponse(c.spec.route, body)
	if err != nil {
		c.g.metrics.upErrors.WithLabelValues(c.up.name, "malformed_response").Inc()
		c.fail(&openai.APIError{Status: http.StatusBadGateway, Type: openai.TypeUpstream, Code: "upstream_malformed_response",
			Message: fmt.Sprintf("upstream %q sent a malformed response: %v", c.up.name, err)}, decError)
		return
	}
	if parsed.Usage.Present {
		if parsed.Usage.PromptTokens > 0 {
			c.promptTokens = parsed.Usage.PromptTokens
		}
		c.completionTokens = parsed.Usage.CompletionTokens
		c.estimated = false
	} else {
		for _, t := range parsed.Texts {
			c.completionTokens += c.enc.Count(t.Text)
		}
	}
	// Output rules run on the answer as the upstream wrote it, with the
	// placeholders in it; then the values are restored and the canary
	// removed, so restored values are not taken for leaked data.
	var out policy.Outcome
	if len(c.outRules) > 0 && len(parsed.Texts) > 0 {
		inputs := make([]detect.Input, len(parsed.Texts))
		for i, t := range parsed.Texts {
			inputs[i] = detect.Input{Text: t.Text, Role: detect.RoleAssistant, Surface: detect.SurfaceResponse}
		}
		out = policy.CheckSession(c.ctx, c.outRules, inputs, c.sess)
		fieldOf := func(i int) string { return parsed.Texts[i].Field }
		c.record("output", out, fieldOf, func(i int) string { return parsed.Texts[i].Text })
		if !c.enforce(out, "output", fieldOf) {
			return
		}
	}
	if len(out.Redacted) > 0 || c.restoring() {
		var edits []openai.Edit
		for i, t := range parsed.Texts {
			s, red := out.Redacted[i]
			if !red {
				s = t.Text
			}
			if c.restoring() {
				s = c.restore(s)
			}
			if red || s != t.Text {
				edits = append(edits, openai.Edit{Path: t.Path(), Value: s})
			}
		}
		if len(edits) > 0 {
			var ok bool
			if body, ok = c.rewrite(body, edits, "response", "withheld"); !ok {
				return
			}
		}
	}
	body = c.restoreEcho(body)
	c.status = resp.StatusCode
	c.auditNow()
	h := c.w.Header()
	copyResponseHeaders(h, resp.Header)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	c.w.WriteHeader(resp.StatusCode)
	_, _ = c.w.Write(body)
	c.sent()
}

// upstreamError relays an upstream 4xx or turns a 5xx into a gateway
// error; bodies are scrubbed of the upstream credential either way.
func (c *call) upstreamError(resp *http.Response, upStart time.Time) {
	body, _, _ := readLimited(resp.Body, 64<<10)
	c.upstreamDur = time.Since(upStart)
	body = c.up.scrub(body)
	msg := upstreamMessage(body)
	c.g.metrics.upErrors.WithLabelValues(c.up.name, fmt.Sprintf("http_%d", resp.StatusCode)).Inc()
	if resp.StatusCode >= 500 {
		text := fmt.Sprintf("upstream %q returned HTTP %d", c.up.name, resp.StatusCode)
		if msg != "" {
			text += ": " + msg
		}
		c.fail(&openai.APIError{Status: http.StatusBadGateway, Type: openai.TypeUpstream, Code: "upstream_error", Message: text}, decError)
		return
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		// The upstream refused the gateway's own credential: that is the
		// operator's problem, not the client's key, so it must not look
		// like an authentication error of the client.
		c.g.log.Error("upstream refused the gateway's credential", "request_id", c.id, "upstream", c.up.name, "status", resp.StatusCode, "message", msg)
		c.fail(&openai.APIError{Status: http.StatusBadGateway, Type: openai.TypeUpstream, Code: "upstream_auth_error",
			Message: fmt.Sprintf("upstream %q refused the gateway's credential (HTTP %d); the gateway's operator must fix its configuration", c.up.name, resp.StatusCode)}, decError)
		return
	}
	// A client error from the upstream (bad parameters, unknown model,
	// upstream rate limit) is the client's to see, in the upstream's words.
	c.decision = decError
	c.status = resp.StatusCode
	c.errMsg = fmt.Sprintf("upstream %q returned HTTP %d: %s", c.up.name, resp.StatusCode, msg)
	if msg == "" || !isJSONObject(body) {
		c.fail(&openai.APIError{Status: resp.StatusCode, Type: openai.TypeInvalidRequest, Code: "upstream_client_error",
			Message: c.errMsg}, decError)
		return
	}
	c.auditNow()
	h := c.w.Header()
	copyResponseHeaders(h, resp.Header)
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		h.Set("Retry-After", ra)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	c.w.WriteHeader(resp.StatusCode)
	_, _ = c.w.Write(body)
	c.sent()
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// upstreamMessage extracts error.message from an upstream error body, or a
// short plain-text excerpt.
func upstreamMessage(body []byte) string {
	if a, b, ok := openai.Locate(body, []openai.PathElem{{Key: "error"}, {Key: "message"}}); ok {
		if m, err := openai.DecodeString(body[a:b]); err == nil {
			return clip(m, 300)
		}
	}
	if a, b, ok := openai.Locate(body, []openai.PathElem{{Key: "message"}}); ok {
		if m, err := openai.DecodeString(body[a:b]); err == nil {
			return clip(m, 300)
		}
	}
	s := strings.TrimSpace(string(body))
	if isJSONObject(body) || s == "" {
		return ""
	}
	return clip(strings.Join(strings.Fields(s), " "), 200)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "…"
}

// hopHeaders are not relayed from the upstream.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
	"Content-Encoding": true, "Set-Cookie": true, "X-Request-Id": true, "Date": true, "Server": true,
	"Alt-Svc": true, "Strict-Transport-Security": true,
}

// copyResponseHeaders relays the upstream's informative headers
// (openai-processing-ms, x-ratelimit-*, …); the upstream's request id comes
// through as X-Upstream-Request-Id.
func copyResponseHeaders(dst, src http.Header) {
	for k, v := range src {
		if hopHeaders[k] || strings.HasPrefix(k, "Cf-") {
			continue
		}
		dst[k] = v
	}
	if id := src.Get("X-Request-Id"); id != "" {
		dst.Set("X-Upstream-Request-Id", id)
	}
}

// clientIP returns the client's address: the TCP peer, or when the peer is
// a trusted proxy, the right-most address of X-Forwarded-For that is not
// itself a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if len(trusted) == 0 || !isTrusted(peer, trusted) {
		return peer.String()
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer.String()
			}
			a = a.Unmap()
			if !isTrusted(a, trusted) {
				return a.String()
			}
		}
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// notFound answers unknown /v1 paths in OpenAI's shape.
func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	e := &openai.APIError{Status: http.StatusNotFound, Type: openai.TypeNotFound, Code: "unknown_url",
		Message: fmt.Sprintf("unknown URL: %s %s", r.Method, r.URL.Path)}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		e.Status, e.Code = http.StatusMethodNotAllowed, "method_not_allowed"
		e.Message = fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)
	}
	e.Write(w)
}
