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
	"sync/atomic"
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
	creds      atomic.Pointer[credentials]
	refs       credentialRefs
	refresh    time.Duration // 0: never
	authHeader string
	models     []string
	wildcard   bool
	timeout    time.Duration
	query      url.Values
	client     *http.Client
	modelCache modelList
	transport  *http.Transport
}

// credentials are an upstream's resolved key and headers. They are
// replaced as a whole when the references are resolved again, so a request
// that loaded them keeps a consistent set.
type credentials struct {
	key     secretref.Secret
	headers map[string]secretref.Secret
	// prev is the key before the last refresh, still scrubbed from
	// upstream bodies (a request that started with it may be answering).
	prev secretref.Secret
}

// credentialRefs are the references an upstream's credentials come from.
type credentialRefs struct {
	key     string            // secret reference or empty
	headers map[string]string // canonical name -> secret reference
	literal map[string]string // canonical name -> literal value
}

// defaultVaultRefresh is how often credentials from vault: references are
// resolved again when upstreams[].refresh is unset.
const defaultVaultRefresh = 5 * time.Minute

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
		refs: credentialRefs{
			key:     c.APIKey,
			headers: map[string]string{},
			literal: map[string]string{},
		},
	}
	if u.authHeader == "" {
		u.authHeader = "authorization"
	}
	for _, m := range c.Models {
		if m == "*" {
			u.wildcard = true
		}
	}
	for k, v := range c.Headers {
		if secretref.IsReference(v) {
			u.refs.headers[http.CanonicalHeaderKey(k)] = v
		} else {
			u.refs.literal[http.CanonicalHeaderKey(k)] = v
		}
	}
	cr, err := u.refs.resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", c.Name, err)
	}
	u.creds.Store(cr)
	switch {
	case c.Refresh > 0:
		u.refresh = c.Refresh
	case c.Refresh == 0 && u.refs.usesScheme("vault"):
		u.refresh = defaultVaultRefresh
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

// resolve resolves every reference.
func (r *credentialRefs) resolve(ctx context.Context) (*credentials, error) {
	c := &credentials{headers: make(map[string]secretref.Secret, len(r.headers)+len(r.literal))}
	if r.key != "" {
		k, err := secretref.Resolve(ctx, r.key)
		if err != nil {
			return nil, fmt.Errorf("api_key: %w", err)
		}
		c.key = k
	}
	for k, ref := range r.headers {
		s, err := secretref.Resolve(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", k, err)
		}
		c.headers[k] = s
	}
	for k, v := range r.literal {
		c.headers[k] = secretref.New(v)
	}
	return c, nil
}

// usesScheme reports whether the key or a header is a scheme: reference.
func (r *credentialRefs) usesScheme(scheme string) bool {
	if strings.HasPrefix(r.key, scheme+":") {
		return true
	}
	for _, v := range r.headers {
		if strings.HasPrefix(v, scheme+":") {
			return true
		}
	}
	return false
}

// reresolve resolves the credential references again and swaps the new
// credentials in. On error the old ones stay.
func (u *upstream) reresolve(ctx context.Context) error {
	c, err := u.refs.resolve(ctx)
	if err != nil {
		return err
	}
	old := u.creds.Load()
	if old.key.Reveal() != c.key.Reveal() {
		c.prev = old.key
	} else {
		c.prev = old.prev
	}
	u.creds.Store(c)
	return nil
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
	c := u.creds.Load()
	for k, v := range c.headers {
		h.Set(k, v.Reveal())
	}
	if c.key.IsZero() {
		return
	}
	if u.authHeader == "authorization" {
		h.Set("Authorization", "Bearer "+c.key.Reveal())
	} else {
		h.Set(u.authHeader, c.key.Reveal())
	}
}

// scrub removes the upstream's credential from text that came back from it
// (an error body, say), so that it can never be relayed: the whole key,
// and its random part after the last '-' or '_' (providers quote keys in
// several ways), when that part is long enough to be secret.
func (u *upstream) scrub(b []byte) []byte {
	c := u.creds.Load()
	if c.key.IsZero() && c.prev.IsZero() {
		return b
	}
	out := string(b)
	for _, k := range []secretref.Secret{c.key, c.prev} {
		for _, s := range secretParts(k.Reveal()) {
			out = strings.ReplaceAll(out, s, secretref.Redacted)
		}
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
