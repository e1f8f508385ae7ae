package config

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/secretref"
)

// ValidateOptions tunes validation.
type ValidateOptions struct {
	// DetectorTypes lists the detector types that exist. Nil means the
	// types registered in detect.Default at validation time; when that
	// list is empty too (no detector package linked in), detector types
	// are not checked.
	DetectorTypes []string
	// CheckDetector, when set, is called for each detector with its type
	// and options, and its error is reported at the detector's options:
	// pass a function that builds the detector (detect.Default.New) to
	// catch bad options at load time.
	CheckDetector func(typ string, options map[string]any) error
}

// The allowed values of enumerated keys.
var (
	storeDrivers  = []string{"sqlite", "postgres"}
	limitBackends = []string{"memory", "redis"}
	ruleActions   = []string{"block", "redact", "anonymize", "flag", "log"}
	redactStyles  = []string{"mask", "hash", "synthetic"}
	failModes     = []string{"block", "allow"}
	auditPrompts  = []string{"none", "redacted", "full"}
	logLevels     = []string{"debug", "info", "warn", "error"}
	logFormats    = []string{"json", "text"}
	secretSchemes = []string{"env", "file", "vault"}
)

// credentialHeaders are upstream header names whose values are
// credentials: they must be secret references.
var credentialHeaders = []string{
	"authorization", "proxy-authorization", "api-key", "x-api-key",
	"cookie", "x-goog-api-key", "ocp-apim-subscription-key",
}

// Validate checks a configuration built in code (Load and Parse validate
// already). Call ApplyDefaults first: Validate does not. Errors name the key
// path; without the file they cannot name a line.
func (c *Config) Validate(opts ValidateOptions) error {
	errs := &errorSet{}
	v := &validator{errs: errs}
	v.validate(c, opts)
	return errs.result()
}

// validator checks a decoded, defaulted Config.
type validator struct {
	errs         *errorSet
	pos          map[string]position // key path → position in the file
	interpolated map[string][]string // key path → variables interpolated
	skip         map[string]bool     // key paths that failed to decode
}

// errorf records an error at a key path, with the line of the path or of
// its closest ancestor that appears in the file.
func (v *validator) errorf(path, format string, args ...any) {
	if v.skipped(path) {
		return
	}
	var p position
	for q := path; q != ""; q = parentPath(q) {
		if pp, ok := v.pos[q]; ok {
			p = pp
			break
		}
	}
	v.errs.add(&Error{Line: p.line, Column: p.col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// skipped reports whether path or an ancestor already had a decoding error.
func (v *validator) skipped(path string) bool {
	for q := path; q != ""; q = parentPath(q) {
		if v.skip[q] {
			return true
		}
	}
	return false
}

func (v *validator) oneOf(path, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		v.errorf(path, "unknown value %s (want %s)", quoteShort(value), orList(allowed))
	}
}

// orList formats ["a","b","c"] as "a, b or c".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func (v *validator) validate(c *Config, opts ValidateOptions) {
	v.server(c)
	v.admin(c)
	if c.DataDir == "" {
		v.errorf("data_dir", "must not be empty")
	}
	v.store(c)
	upstreams := v.upstreams(c)
	v.aliases(c, upstreams)
	v.auth(c)
	v.limits(c)
	v.prices(c)
	v.detectors(c, opts)
	v.policies(c)
	v.oneOf("audit.prompts", c.Audit.Prompts, auditPrompts)
	v.patterns("registry.models", c.Registry.Models)
	if c.Registry.Refresh < 0 {
		v.errorf("registry.refresh", "must not be negative")
	}
	v.oneOf("log.level", c.Log.Level, logLevels)
	v.oneOf("log.format", c.Log.Format, logFormats)
	if c.Metrics.Listen != "" {
		v.listenAddr("metrics.listen", c.Metrics.Listen)
	}
	v.tracing(c)
}

func (v *validator) server(c *Config) {
	s := &c.Server
	v.listenAddr("server.listen", s.Listen)
	v.positiveSize("server.max_body_bytes", s.MaxBodyBytes)
	v.positiveSize("server.max_response_bytes", s.MaxResponseBytes)
	v.nonNegative("server.read_header_timeout", int64(s.ReadHeaderTimeout))
	v.nonNegative("server.idle_timeout", int64(s.IdleTimeout))
	v.nonNegative("server.shutdown_timeout", int64(s.ShutdownTimeout))
	for i, p := range s.TrustedProxies {
		path := joinIndex("server.trusted_proxies", i)
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err == nil {
			continue
		}
		v.errorf(path, "want a CIDR such as 10.0.0.0/8 or an IP address, got %s", quoteShort(p))
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		if s.TLSCertFile == "" {
			v.errorf("server.tls_cert_file", "tls_key_file is set but tls_cert_file is not; set both to serve HTTPS, or neither")
		} else {
			v.errorf("server.tls_key_file", "tls_cert_file is set but tls_key_file is not; set both to serve HTTPS, or neither")
		}
	}
}

func (v *validator) admin(c *Config) {
	v.secret("admin.token", "token", c.Admin.Token, "RAMPART_ADMIN_TOKEN")
	if c.Admin.Listen != "" {
		v.listenAddr("admin.listen", c.Admin.Listen)
		if c.Admin.Listen == c.Server.Listen {
			v.errorf("admin.listen", "is the same address as server.listen; leave it empty to serve the admin API on the public listener")
		}
	}
	if c.Metrics.Listen != "" && c.Metrics.Listen == c.Server.Listen {
		v.errorf("metrics.listen", "is the same address as server.listen; leave it empty to serve /metrics on the public listener")
	}
}

func (v *validator) store(c *Config) {
	st := &c.Store
	v.oneOf("store.driver", st.Driver, storeDrivers)
	if st.Driver == "postgres" && st.PostgresDSN == "" {
		v.errorf("store.postgres_dsn", `is required when store.driver is "postgres" (write postgres_dsn: env:RAMPART_POSTGRES_DSN)`)
	}
	if st.PostgresDSN != "" && !isSecretRef(st.PostgresDSN) && dsnHasPassword(st.PostgresDSN) {
		v.errorf("store.postgres_dsn", "holds a password; a literal credential in the config file is not allowed: write postgres_dsn: env:RAMPART_POSTGRES_DSN (or file:PATH, vault:PATH)%s", v.interpHint("store.postgres_dsn"))
	}
	v.nonNegative("store.max_conns", int64(st.MaxConns))
}

// upstreams validates the upstreams and returns their names.
func (v *validator) upstreams(c *Config) map[string]bool {
	names := make(map[string]bool, len(c.Upstreams))
	if len(c.Upstreams) == 0 {
		v.errorf("upstreams", "at least one upstream is required")
	}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		p := joinIndex("upstreams", i)
		switch {
		case u.Name == "":
			v.errorf(p+".name", "is required")
		case !validName(u.Name):
			v.errorf(p+".name", "%s: want letters, digits, '.', '_' and '-' only", quoteShort(u.Name))
		case names[u.Name]:
			v.errorf(p+".name", "duplicate upstream name %s", quoteShort(u.Name))
		}
		names[u.Name] = true
		v.httpURL(p+".base_url", u.BaseURL, false)
		v.secret(p+".api_key", "api_key", u.APIKey, envName(u.Name)+"_API_KEY")
		if !validHeaderName(u.AuthHeader) {
			v.errorf(p+".auth_header", "%s is not a valid HTTP header name", quoteShort(u.AuthHeader))
		}
		for j, m := range u.Models {
			if strings.TrimSpace(m) == "" {
				v.errorf(joinIndex(p+".models", j), "must not be empty")
			}
		}
		v.nonNegative(p+".timeout", int64(u.Timeout))
		v.nonNegative(p+".connect_timeout", int64(u.ConnectTimeout))
		v.nonNegative(p+".header_timeout", int64(u.HeaderTimeout))
		if u.Refresh > 0 && u.Refresh < time.Second {
			v.errorf(p+".refresh", "%s is shorter than 1s (a negative value turns refreshing off)", u.Refresh)
		}
		for _, h := range sortedKeys(u.Headers) {
			hp := joinKey(p+".headers", h)
			if !validHeaderName(h) {
				v.errorf(hp, "%s is not a valid HTTP header name", quoteShort(h))
				continue
			}
			if slices.Contains(credentialHeaders, strings.ToLower(h)) {
				v.secret(hp, h, u.Headers[h], envName(u.Name)+"_"+envName(h))
			}
		}
		for _, q := range sortedKeys(u.QueryParams) {
			if q == "" {
				v.errorf(joinKey(p+".query_params", q), "a query parameter needs a name")
			}
		}
	}
	return names
}

func (v *validator) aliases(c *Config, upstreams map[string]bool) {
	for _, name := range sortedKeys(c.Aliases) {
		a := c.Aliases[name]
		p := joinKey("aliases", name)
		if name == "" {
			v.errorf(p, "an alias needs a name")
		}
		if a.Model == "" {
			v.errorf(p+".model", "is required: the upstream's model name")
		}
		if a.Upstream != "" && !upstreams[a.Upstream] {
			v.errorf(p+".upstream", "unknown upstream %s (known: %s)", quoteShort(a.Upstream), strings.Join(sortedKeys(upstreams), ", "))
		}
	}
}

func (v *validator) auth(c *Config) {
	j := c.Auth.JWT
	if j == nil {
		return
	}
	const p = "auth.jwt"
	switch {
	case j.JWKSFile == "" && j.JWKSURL == "":
		v.errorf(p, "set one of jwks_file or jwks_url")
	case j.JWKSFile != "" && j.JWKSURL != "":
		v.errorf(p+".jwks_url", "set jwks_file or jwks_url, not both")
	case j.JWKSURL != "":
		v.httpURL(p+".jwks_url", j.JWKSURL, true)
	}
	if j.Issuer == "" {
		v.errorf(p+".issuer", "is required: the iss every token must carry")
	}
	if j.Audience == "" {
		v.errorf(p+".audience", "is required: the aud every token must carry")
	}
	v.nonNegative(p+".refresh_interval", int64(j.RefreshInterval))
	v.nonNegative(p+".leeway", int64(j.Leeway))
	if j.SubjectClaim == "" {
		v.errorf(p+".subject_claim", "must not be empty")
	}
	switch {
	case len(j.Groups) > 0 && j.GroupClaim == "":
		v.errorf(p+".group_claim", "is required when groups is set: the claim whose values groups maps")
	case j.GroupClaim == "" && j.DefaultGroup == "":
		v.errorf(p, "set group_claim (with groups) or default_group: every token needs a key group")
	}
	for _, k := range sortedKeys(j.Groups) {
		if j.Groups[k] == "" {
			v.errorf(joinKey(p+".groups", k), "must name a key group")
		}
	}
	v.routes(p+".routes", j.Routes)
}

func (v *validator) limits(c *Config) {
	l := &c.Limits
	v.oneOf("limits.backend", l.Backend, limitBackends)
	if l.Backend == "redis" && l.Redis.Addr == "" {
		v.errorf("limits.redis.addr", `is required when limits.backend is "redis"`)
	}
	if a := l.Redis.Addr; a != "" && !isSecretRef(a) {
		if strings.Contains(a, "://") {
			u, err := url.Parse(a)
			switch {
			case err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "":
				v.errorf("limits.redis.addr", "want host:port, a redis:// or rediss:// URL, or a secret reference")
			case hasPassword(u):
				v.errorf("limits.redis.addr", "holds a password; write it as limits.redis.password: env:RAMPART_REDIS_PASSWORD instead%s", v.interpHint("limits.redis.addr"))
			}
		} else if _, _, err := net.SplitHostPort(a); err != nil {
			v.errorf("limits.redis.addr", "want host:port, a redis:// or rediss:// URL, or a secret reference, got %s", quoteShort(a))
		}
	}
	v.secret("limits.redis.password", "password", l.Redis.Password, "RAMPART_REDIS_PASSWORD")
	v.secret("redaction.hash_key", "hash_key", c.Redaction.HashKey, "RAMPART_HASH_KEY")
	v.nonNegative("limits.redis.db", int64(l.Redis.DB))
	v.limitSet("limits.key", l.Key)
	v.limitSet("limits.ip", l.IP)
	for _, g := range sortedKeys(l.Groups) {
		v.limitSet(joinKey("limits.groups", g), l.Groups[g])
	}
	v.nonNegative("limits.max_messages", int64(l.MaxMessages))
}

func (v *validator) limitSet(p string, s LimitSet) {
	v.nonNegative(p+".requests_per_minute", int64(s.RequestsPerMinute))
	v.nonNegative(p+".tokens_per_minute", int64(s.TokensPerMinute))
	v.nonNegative(p+".concurrent", int64(s.Concurrent))
	v.nonNegative(p+".max_tokens", int64(s.MaxTokens))
	v.money(p+".daily_budget_usd", s.DailyBudgetUSD)
}

func (v *validator) prices(c *Config) {
	for _, m := range sortedKeys(c.Prices) {
		p := joinKey("prices", m)
		v.money(p+".input", c.Prices[m].Input)
		v.money(p+".output", c.Prices[m].Output)
	}
}

func (v *validator) detectors(c *Config, opts ValidateOptions) {
	types := opts.DetectorTypes
	if types == nil {
		types = detect.Default.Types()
	}
	for _, name := range sortedKeys(c.Detectors) {
		d := c.Detectors[name]
		p := joinKey("detectors", name)
		if !validName(name) {
			v.errorf(p, "detector name %s: want letters, digits, '.', '_' and '-' only", quoteShort(name))
		}
		switch {
		case d.Type == "":
			v.errorf(p+".type", "is required (one of: %s)", strings.Join(types, ", "))
			continue
		case len(types) > 0 && !slices.Contains(types, d.Type):
			v.errorf(p+".type", "unknown detector type %s (known: %s)", quoteShort(d.Type), strings.Join(types, ", "))
			continue
		}
		if opts.CheckDetector != nil {
			if err := opts.CheckDetector(d.Type, d.Options); err != nil {
				v.errorf(p+".options", "%v", err)
			}
		}
	}
}

func (v *validator) policies(c *Config) {
	names := make(map[string]bool, len(c.Policies))
	catchAll := -1
	for i := range c.Policies {
		pol := &c.Policies[i]
		p := joinIndex("policies", i)
		switch {
		case pol.Name == "":
			v.errorf(p+".name", "is required")
		case names[pol.Name]:
			v.errorf(p+".name", "duplicate policy name %s", quoteShort(pol.Name))
		}
		names[pol.Name] = true
		if catchAll >= 0 {
			v.errorf(p, "is never used: policies[%d] (%s) matches every route and group and comes first; move the catch-all policy last", catchAll, quoteShort(c.Policies[catchAll].Name))
		} else if matchesAll(pol.Routes) && matchesAll(pol.Groups) {
			catchAll = i
		}
		v.routes(p+".routes", pol.Routes)
		v.patterns(p+".groups", pol.Groups)
		v.oneOf(p+".on_error", pol.OnError, failModes)
		for _, part := range []struct {
			name  string
			rules []Rule
		}{{"input", pol.Input}, {"output", pol.Output}} {
			for j := range part.rules {
				v.rule(joinIndex(p+"."+part.name, j), &part.rules[j], c.Detectors, part.name == "output")
			}
		}
	}
}

func (v *validator) rule(p string, r *Rule, detectors map[string]Detector, output bool) {
	d, ok := detectors[r.Detector]
	switch {
	case r.Detector == "":
		v.errorf(p+".detector", "is required: the name of an entry under detectors")
	case !ok:
		known := sortedKeys(detectors)
		if len(known) == 0 {
			v.errorf(p+".detector", "unknown detector %s: no detectors are defined (add it under detectors)", quoteShort(r.Detector))
		} else {
			v.errorf(p+".detector", "unknown detector %s (defined: %s)", quoteShort(r.Detector), strings.Join(known, ", "))
		}
	}
	if r.Action == "" {
		v.errorf(p+".action", "is required (want %s)", orList(ruleActions))
	} else if !slices.Contains(ruleActions, r.Action) {
		v.errorf(p+".action", "unknown action %s (want %s)", quoteShort(r.Action), orList(ruleActions))
	}
	if r.Threshold != nil && !(*r.Threshold >= 0 && *r.Threshold <= 1) {
		v.errorf(p+".threshold", "%s is out of range: want a number from 0 to 1", formatFloat(*r.Threshold))
	}
	if r.OnError != "" {
		v.oneOf(p+".on_error", r.OnError, failModes)
	}
	if r.Redact != "" {
		if r.Action != "redact" {
			v.errorf(p+".redact", "applies only to action: redact (this rule's action is %s)", quoteShort(r.Action))
		} else {
			v.oneOf(p+".redact", r.Redact, redactStyles)
		}
	}
	if r.Action == "anonymize" && output {
		v.errorf(p+".action", "anonymize applies to input rules only: the gateway restores the anonymized values in the output itself")
	}
	if ok && d.Type == "canary" && !output {
		v.errorf(p+".detector", "%s is a canary detector, which checks outputs: use it in output rules", quoteShort(r.Detector))
	}
}

func (v *validator) tracing(c *Config) {
	t := &c.Tracing
	if t.Enabled {
		if t.Endpoint == "" {
			v.errorf("tracing.endpoint", "is required when tracing is enabled, e.g. http://localhost:4318")
		}
	}
	if t.Endpoint != "" {
		v.httpURL("tracing.endpoint", t.Endpoint, false)
	}
	if r := t.SampleRatio; r != nil && !(*r >= 0 && *r <= 1) {
		v.errorf("tracing.sample_ratio", "%s is out of range: want a number from 0 to 1", formatFloat(*r))
	}
}

// routes checks route patterns: "*", or a request path that may hold
// path.Match wildcards ("/v1/chat/completions", "/v1/*").
func (v *validator) routes(p string, routes []string) {
	for i, r := range routes {
		if r != "*" && !strings.HasPrefix(r, "/") {
			v.errorf(joinIndex(p, i), "want a request path such as /v1/chat/completions (wildcards allowed, e.g. /v1/*), or *; got %s", quoteShort(r))
			continue
		}
		if _, err := path.Match(r, ""); err != nil {
			v.errorf(joinIndex(p, i), "bad pattern %s: %v", quoteShort(r), err)
		}
	}
}

// patterns checks non-empty path.Match patterns (key groups).
func (v *validator) patterns(p string, pats []string) {
	for i, g := range pats {
		if g == "" {
			v.errorf(joinIndex(p, i), "must not be empty")
			continue
		}
		if _, err := path.Match(g, ""); err != nil {
			v.errorf(joinIndex(p, i), "bad pattern %s: %v", quoteShort(g), err)
		}
	}
}

// matchesAll reports whether a routes or groups list matches anything.
func matchesAll(pats []string) bool {
	return len(pats) == 0 || slices.Contains(pats, "*")
}

// secret checks a secret-bearing field: empty or a secret reference.
// The message never includes the value.
func (v *validator) secret(path, key, value, suggestEnv string) {
	if value == "" {
		return
	}
	if scheme, rest, ok := strings.Cut(value, ":"); ok && slices.Contains(secretSchemes, scheme) {
		switch {
		case scheme == "env" && !validVarName(rest):
			v.errorf(path, "env: needs a variable name (letters, digits and _), such as env:%s", suggestEnv)
		case rest == "":
			v.errorf(path, "%s: needs a path after the colon", scheme)
		}
		return
	}
	if isSecretRef(value) {
		return
	}
	v.errorf(path, "a literal secret in the config file is not allowed: write %s: env:%s (or file:PATH, vault:PATH) so the value stays out of the file%s", key, suggestEnv, v.interpHint(path))
}

// interpHint explains, for an interpolated value, why ${VAR} is not enough.
func (v *validator) interpHint(path string) string {
	refs, ok := v.interpolated[path]
	if !ok {
		return ""
	}
	return fmt.Sprintf("; interpolating %s puts the value itself into the configuration, where it could be printed — a secret reference is resolved only where it is used", refList(refs))
}

// isSecretRef reports whether s is a secret reference: env:NAME,
// file:PATH, vault:PATH or a scheme registered with secretref.
func isSecretRef(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return false
	}
	if slices.Contains(secretSchemes, scheme) {
		return true
	}
	return secretref.IsReference(s)
}

func (v *validator) listenAddr(path, addr string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.errorf(path, "want host:port such as 127.0.0.1:8080 or :8080, got %s", quoteShort(addr))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.errorf(path, "port %s: want a number from 0 to 65535", quoteShort(port))
	}
}

// httpURL checks an absolute http(s) URL without credentials, query or
// fragment. With tlsUnlessLocal it must use https unless the host is a
// loopback address.
func (v *validator) httpURL(path, raw string, tlsUnlessLocal bool) {
	if raw == "" {
		v.errorf(path, "is required, e.g. https://api.openai.com/v1")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path, "want an absolute http:// or https:// URL, got %s", quoteShort(redactURL(raw)))
		return
	}
	if u.User != nil {
		v.errorf(path, "must not hold credentials (user:password@); use a secret reference in the key's own field%s", v.interpHint(path))
		return
	}
	if u.RawQuery != "" || u.Fragment != "" {
		v.errorf(path, "must not have a query or fragment (use query_params for query parameters)")
	}
	if tlsUnlessLocal && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		v.errorf(path, "must use https (http is allowed only for a loopback host): keys fetched over plain HTTP can be forged in transit")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// redactURL drops any userinfo before a URL goes into a message.
func redactURL(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if at := strings.LastIndexByte(strings.SplitN(rest, "/", 2)[0], '@'); at >= 0 {
			return raw[:i+3] + "REDACTED@" + rest[at+1:]
		}
	}
	return raw
}

func hasPassword(u *url.URL) bool {
	if u.User == nil {
		return false
	}
	_, set := u.User.Password()
	return set || u.Query().Has("password")
}

// dsnHasPassword reports whether a PostgreSQL DSN (URL or key=value form)
// carries a password.
func dsnHasPassword(dsn string) bool {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return true // unparseable: assume the worst
		}
		return hasPassword(u)
	}
	for _, f := range strings.Fields(dsn) {
		k, _, _ := strings.Cut(f, "=")
		if strings.EqualFold(strings.TrimSpace(k), "password") {
			return true
		}
	}
	return false
}

func (v *validator) nonNegative(path string, n int64) {
	if n < 0 {
		v.errorf(path, "must not be negative")
	}
}

func (v *validator) positiveSize(path string, n ByteSize) {
	if n <= 0 {
		v.errorf(path, "must be positive")
	}
}

func (v *validator) money(path string, f float64) {
	if !(f >= 0) || math.IsInf(f, 0) {
		v.errorf(path, "%s: want a finite amount, not negative", formatFloat(f))
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// validName reports whether s is a name for an upstream or a detector:
// letters, digits, '.', '_' and '-'.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '.' || c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// envName turns a name into an environment variable name: "openai" →
// "OPENAI", "azure-eu" → "AZURE_EU".
func envName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "UPSTREAM"
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
