package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway/openai"
	"github.com/rampartsec/rampart/secretref"
)

// upstream is a configured OpenAI-compatible provider with its resolved
// credential and its own HTTP transport.
type upstream struct {
	name       string
	base       *url.URL
	key        secretref.Secret
	authHeader string
	models     []string
	wildcard   bool
	timeout    time.Duration
	headers    map[string]secretref.Secret
	query      url.Values
	client     *http.Client
	modelCache modelList
	transport  *http.Transport
}

func newUpstream(ctx context.Context, c config.Upstream) (*upstream, error) {
	base, err := url.Parse(strings.TrimSuffix(c.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("upstream %q: base_url %q is not an absolute http(s) URL", c.Name, c.BaseURL)
	}
	u := &upstream{
		name:       c.Name,
		base:       base,
		authHeader: strings.ToLower(c.AuthHeader),
		models:     c.Models,
		timeout:    c.Timeout,
		headers:    make(map[string]secretref.Secret, len(c.Headers)),
	}
	if u.authHeader == "" {
		u.authHeader = "authorization"
	}
	for _, m := range c.Models {
		if m == "*" {
			u.wildcard = true
		}
	}
	if c.APIKey != "" {
		u.key, err = secretref.Resolve(ctx, c.APIKey)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: api_key: %w", c.Name, err)
		}
	}
	for k, v := range c.Headers {
		if secretref.IsReference(v) {
			s, err := secretref.Resolve(ctx, v)
			if err != nil {
				return nil, fmt.Errorf("upstream %q: header %s: %w", c.Name, k, err)
			}
			u.headers[http.CanonicalHeaderKey(k)] = s
		} else {
			u.headers[http.CanonicalHeaderKey(k)] = secretref.New(v)
		}
	}
	if len(c.QueryParams) > 0 {
		u.query = url.Values{}
		for k, v := range c.QueryParams {
			u.query.Set(k, v)
		}
	}
	connect := c.ConnectTimeout
	if connect <= 0 {
		connect = 10 * time.Second
	}
	header := c.HeaderTimeout
	if header <= 0 {
		header = 120 * time.Second
	}
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	u.transport = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: header,
		ExpectContinueTimeout: time.Second,
	}
	u.client = &http.Client{
		Transport: u.transport,
		// Never follow redirects: a redirect could carry the credential
		// to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return u, nil
}

// url returns the upstream URL of a route.
func (u *upstream) url(route openai.Route) string {
	v := *u.base
	v.Path = u.base.Path + route.UpstreamPath()
	if u.query != nil {
		v.RawQuery = u.query.Encode()
	}
	return v.String()
}

// serves reports whether the upstream lists model explicitly (exactly or
// by a glob pattern other than "*").
func (u *upstream) serves(model string) bool {
	for _, m := range u.models {
		if m == "*" {
			continue
		}
		if m == model {
			return true
		}
		if strings.ContainsAny(m, "*?[") {
			if ok, _ := path.Match(m, model); ok {
				return true
			}
		}
	}
	return false
}

// setAuth adds the upstream's credential and configured headers.
func (u *upstream) setAuth(h http.Header) {
	for k, v := range u.headers {
		h.Set(k, v.Reveal())
	}
	if u.key.IsZero() {
		return
	}
	if u.authHeader == "authorization" {
		h.Set("Authorization", "Bearer "+u.key.Reveal())
	} else {
		h.Set(u.authHeader, u.key.Reveal())
	}
}

// scrub removes the upstream's credential from text that came back from it
// (an error body, say), so that it can never be relayed: the whole key,
// and its random part after the last '-' or '_' (providers quote keys in
// several ways), when that part is long enough to be secret.
func (u *upstream) scrub(b []byte) []byte {
	if u.key.IsZero() {
		return b
	}
	k := u.key.Reveal()
	out := string(b)
	for _, s := range secretParts(k) {
		out = strings.ReplaceAll(out, s, secretref.Redacted)
	}
	if len(out) == len(b) && out == string(b) {
		return b
	}
	return []byte(out)
}

// secretParts returns what of a key must never be shown: the key, its
// random tail, and (for long keys) the tail's last 16 characters, which
// error messages quote to identify a key ("…abcd1234").
func secretParts(k string) []string {
	if len(k) < 8 {
		return nil
	}
	parts := []string{k}
	if i := strings.LastIndexAny(k, "-_"); i >= 0 && len(k)-i-1 >= 12 {
		parts = append(parts, k[i+1:])
	}
	if len(k) >= 32 {
		parts = append(parts, k[len(k)-16:])
	}
	return parts
}

// classify turns an upstream transport error into the error the client
// sees. The message names the upstream but never its URL's credentials or
// key.
func (u *upstream) classify(ctx context.Context, err error) *openai.APIError {
	e := &openai.APIError{Status: http.StatusBadGateway, Type: openai.TypeUpstream}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Status = 499
		e.Code = "client_closed_request"
		e.Message = "client closed the request"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		e.Status = http.StatusGatewayTimeout
		e.Code = "upstream_timeout"
		e.Message = fmt.Sprintf("upstream %q timed out", u.name)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Code = "upstream_unreachable"
		e.Message = fmt.Sprintf("upstream %q refused the connection", u.name)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		e.Code = "upstream_connection_reset"
		e.Message = fmt.Sprintf("upstream %q closed the connection", u.name)
	default:
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			e.Code = "upstream_unreachable"
			e.Message = fmt.Sprintf("upstream %q: host not found", u.name)
		} else {
			e.Code = "upstream_unreachable"
			e.Message = fmt.Sprintf("upstream %q failed: %s", u.name, redactURLError(err))
		}
	}
	return e
}

// redactURLError keeps the cause of a *url.Error and drops the URL (which
// may carry query credentials).
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
