// Package config is the model of rampart.yaml: the gateway's listeners,
// upstreams, store, limits, detectors, policies, audit and telemetry.
//
// Load reads a file, interpolates ${ENV} references, decodes it strictly
// (unknown keys are errors) and validates it; every error names the line and
// the key. Default returns the embedded default configuration that
// `rampart serve` runs when no file is given.
package config

import (
	"time"
)

// Config is the whole rampart.yaml.
type Config struct {
	// Server is the public, OpenAI-compatible listener.
	Server Server `yaml:"server"`
	// Admin is the admin API for keys.
	Admin Admin `yaml:"admin"`
	// DataDir holds the SQLite store and other local state. Default
	// "./rampart-data".
	DataDir string `yaml:"data_dir"`
	// Store selects where keys and the audit log live.
	Store Store `yaml:"store"`
	// Upstreams are the OpenAI-compatible providers requests go to.
	Upstreams []Upstream `yaml:"upstreams"`
	// Aliases map a model name clients use to an upstream model.
	Aliases map[string]Alias `yaml:"aliases"`
	// Auth configures how clients authenticate.
	Auth Auth `yaml:"auth"`
	// Limits configures rate, token, concurrency and spend limits.
	Limits Limits `yaml:"limits"`
	// Prices is the price table for spend budgets, by model name, in USD
	// per one million tokens.
	Prices map[string]Price `yaml:"prices"`
	// Detectors are the named detector instances policies refer to.
	Detectors map[string]Detector `yaml:"detectors"`
	// Policies choose detectors, thresholds and actions per route and key
	// group. The first policy whose match applies is used.
	Policies []Policy `yaml:"policies"`
	// Redaction configures the value-aware redaction styles.
	Redaction Redaction `yaml:"redaction"`
	// Audit configures the audit log.
	Audit Audit `yaml:"audit"`
	// Registry gates the models the gateway serves on the model registry.
	Registry Registry `yaml:"registry"`
	// Log configures the process log.
	Log Log `yaml:"log"`
	// Metrics configures the Prometheus endpoint.
	Metrics Metrics `yaml:"metrics"`
	// Tracing configures OpenTelemetry traces (off by default).
	Tracing Tracing `yaml:"tracing"`
}

// Server is the public listener.
type Server struct {
	// Listen is the address, default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// MaxBodyBytes bounds a request body, default 4 MiB.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// MaxResponseBytes bounds a non-streamed upstream response, default 32 MiB.
	MaxResponseBytes ByteSize `yaml:"max_response_bytes"`
	// ReadHeaderTimeout bounds reading request headers, default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections, default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful drain on SIGTERM, default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TrustedProxies are CIDRs whose X-Forwarded-For header is believed
	// when deciding the client IP. Empty: the TCP peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLSCertFile and TLSKeyFile, when both are set, serve HTTPS with this
	// PEM certificate chain and key.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
}

// Admin is the admin API.
type Admin struct {
	// Token is a secret reference (env:NAME, file:PATH) to the bearer token
	// that guards /admin/. Empty disables the admin API.
	Token string `yaml:"token"`
	// Listen, when set, serves the admin API on its own address instead of
	// the public listener.
	Listen string `yaml:"listen"`
}

// Store selects the database.
type Store struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// SQLitePath defaults to <data_dir>/rampart.db.
	SQLitePath string `yaml:"sqlite_path"`
	// PostgresDSN is a DSN or a secret reference to one.
	PostgresDSN string `yaml:"postgres_dsn"`
	// MaxConns bounds the PostgreSQL pool, default 16.
	MaxConns int `yaml:"max_conns"`
}

// Upstream is an OpenAI-compatible provider.
type Upstream struct {
	// Name identifies the upstream in logs, metrics and audit records.
	Name string `yaml:"name"`
	// BaseURL includes the API prefix, e.g. "https://api.openai.com/v1".
	BaseURL string `yaml:"base_url"`
	// APIKey is a secret reference (env:NAME, file:PATH); empty sends no
	// credential (local servers such as Ollama).
	APIKey string `yaml:"api_key"`
	// AuthHeader is the header that carries the key: "authorization"
	// (default, as "Bearer KEY") or e.g. "api-key" for Azure OpenAI.
	AuthHeader string `yaml:"auth_header"`
	// Models this upstream serves; "*" matches any model. A model listed by
	// no upstream goes to the first upstream that has "*".
	Models []string `yaml:"models"`
	// Timeout bounds a whole upstream call including a streamed body,
	// default 600s.
	Timeout time.Duration `yaml:"timeout"`
	// ConnectTimeout bounds dialing, default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// HeaderTimeout bounds waiting for the response headers (time to first
	// byte), default 120s.
	HeaderTimeout time.Duration `yaml:"header_timeout"`
	// Headers are added to every upstream request; values may be secret
	// references.
	Headers map[string]string `yaml:"headers"`
	// QueryParams are added to every upstream URL (e.g. Azure's api-version).
	QueryParams map[string]string `yaml:"query_params"`
	// Refresh is how often the credential references (api_key and secret
	// headers) are resolved again, so that a rotated key is used without a
	// restart. Zero (unset) means 5m when one of them is a vault: reference
	// and never otherwise; a negative value turns refreshing off.
	Refresh time.Duration `yaml:"refresh"`
}

// Alias maps a client-facing model name to an upstream model.
type Alias struct {
	// Model is the upstream's model name.
	Model string `yaml:"model"`
	// Upstream, when set, pins the alias to one upstream by name.
	Upstream string `yaml:"upstream"`
}

// Auth configures client authentication.
type Auth struct {
	// JWT, when set, accepts JWT bearer tokens besides Rampart keys.
	JWT *JWT `yaml:"jwt"`
}

// JWT configures bearer-token verification against a JWKS.
type JWT struct {
	// JWKSFile or JWKSURL is the key set (exactly one). A URL must be
	// https unless its host is a loopback address.
	JWKSFile string `yaml:"jwks_file"`
	JWKSURL  string `yaml:"jwks_url"`
	// RefreshInterval re-fetches a JWKS URL, default 15m.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// Issuer and Audience must match the token's iss and aud.
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	// Leeway tolerates clock skew on exp/nbf/iat, default 30s.
	Leeway time.Duration `yaml:"leeway"`
	// SubjectClaim identifies the caller, default "sub".
	SubjectClaim string `yaml:"subject_claim"`
	// GroupClaim is the claim mapped to a key group, e.g. "groups" or
	// "role"; a string or an array of strings.
	GroupClaim string `yaml:"group_claim"`
	// Groups maps claim values to key groups; the first value that maps
	// wins. Unmapped tokens get DefaultGroup, or are refused when it is
	// empty.
	Groups       map[string]string `yaml:"groups"`
	DefaultGroup string            `yaml:"default_group"`
	// Models and Routes limit what token holders may use (empty: all).
	Models []string `yaml:"models"`
	Routes []string `yaml:"routes"`
}

// Limits configures limits and their backend.
type Limits struct {
	// Backend is "memory" (default; one process) or "redis" (shared by
	// several gateway replicas).
	Backend string `yaml:"backend"`
	// Redis is used when Backend is "redis".
	Redis Redis `yaml:"redis"`
	// Key holds the default limits of every key; a key's own limits and its
	// group's override them.
	Key LimitSet `yaml:"key"`
	// Groups holds per-group defaults, by group name.
	Groups map[string]LimitSet `yaml:"groups"`
	// IP holds limits per client IP address.
	IP LimitSet `yaml:"ip"`
	// MaxMessages bounds the number of messages (or input items) in one
	// request, default 1000.
	MaxMessages int `yaml:"max_messages"`
}

// LimitSet is one set of limits; zero means unlimited.
type LimitSet struct {
	// RequestsPerMinute bounds requests per minute.
	RequestsPerMinute int `yaml:"requests_per_minute" json:"requests_per_minute,omitempty"`
	// TokensPerMinute bounds prompt plus completion tokens per minute.
	TokensPerMinute int `yaml:"tokens_per_minute" json:"tokens_per_minute,omitempty"`
	// Concurrent bounds requests in flight at once.
	Concurrent int `yaml:"concurrent" json:"concurrent,omitempty"`
	// DailyBudgetUSD bounds spend per day in USD, priced with Config.Prices.
	DailyBudgetUSD float64 `yaml:"daily_budget_usd" json:"daily_budget_usd,omitempty"`
	// MaxTokens caps the completion tokens one request may ask for
	// (max_tokens / max_completion_tokens).
	MaxTokens int `yaml:"max_tokens" json:"max_tokens,omitempty"`
}

// Redis is a Redis server address.
type Redis struct {
	// Addr is host:port, or a secret reference / redis:// URL.
	Addr string `yaml:"addr"`
	// Password is a secret reference.
	Password string `yaml:"password"`
	// DB is the Redis database number.
	DB int `yaml:"db"`
	// Prefix namespaces Rampart's keys, default "rampart:".
	Prefix string `yaml:"prefix"`
	// TLS connects with TLS.
	TLS bool `yaml:"tls"`
	// FailOpen admits requests when Redis is unreachable; default false
	// (refuse with 503).
	FailOpen bool `yaml:"fail_open"`
}

// Price is a model's price in USD per one million tokens.
type Price struct {
	// Input is the price of one million prompt tokens.
	Input float64 `yaml:"input"`
	// Output is the price of one million completion tokens.
	Output float64 `yaml:"output"`
}

// Detector is a named detector instance.
type Detector struct {
	// Type is a registered detector type: "secrets", "pii", "length", ….
	Type string `yaml:"type"`
	// Options are passed to the detector's factory.
	Options map[string]any `yaml:"options"`
}

// Policy chooses detectors and actions for the requests it matches.
type Policy struct {
	// Name identifies the policy in logs and audit records; unique.
	Name string `yaml:"name"`
	// Routes and Groups restrict the policy (empty: any). Routes are
	// request paths such as "/v1/chat/completions".
	Routes []string `yaml:"routes"`
	Groups []string `yaml:"groups"`
	// OnError is what happens when a detector fails: "block" (default,
	// fail closed) or "allow".
	OnError string `yaml:"on_error"`
	// Input rules run on every message of the request; Output rules on the
	// response, streamed chunks included.
	Input  []Rule `yaml:"input"`
	Output []Rule `yaml:"output"`
}

// Rule applies one detector with a threshold and an action.
type Rule struct {
	// Detector names an entry of Config.Detectors.
	Detector string `yaml:"detector"`
	// Action is "block", "redact", "flag" or "log".
	Action string `yaml:"action"`
	// Threshold: hits scoring below it are ignored; default the
	// detector's calibrated operating point (detect.ThresholdOf).
	Threshold *float64 `yaml:"threshold"`
	// OnError overrides the policy's fail mode for this rule.
	OnError string `yaml:"on_error"`
	// Redact is how a redact rule replaces a match: "mask" (default,
	// "[REDACTED:LABEL]"), "hash" ("[LABEL:xxxxxxxx]", a keyed hash) or
	// "synthetic" (a realistic fake of the same kind and shape).
	Redact string `yaml:"redact"`
}

// Registry gates requests on the model registry (`rampart registry`).
type Registry struct {
	// RequireProduction refuses (403, code model_not_approved) every
	// request whose upstream model has no production version in the
	// registry.
	RequireProduction bool `yaml:"require_production"`
	// Models limits RequireProduction to the upstream model names
	// matching these patterns (path.Match, e.g. "acme-*"); empty: every
	// model.
	Models []string `yaml:"models"`
	// Refresh is how often the gateway re-reads the production versions
	// from the store, default 5s; requests never wait for the store.
	Refresh time.Duration `yaml:"refresh"`
	// RequestTTL is how long a promotion request waits for an approval
	// before it expires (`rampart registry promote`/`approve`), default
	// 168h; a negative value means requests never expire.
	RequestTTL time.Duration `yaml:"request_ttl"`
}

// Redaction configures the value-aware redaction styles.
type Redaction struct {
	// HashKey is a secret reference (env:NAME, file:PATH, vault:PATH) to
	// the HMAC-SHA-256 key of the "hash" style. Empty: a random key per
	// process, so equal values give equal tokens only until a restart.
	HashKey string `yaml:"hash_key"`
}

// Audit configures the audit log.
type Audit struct {
	// Prompts is "none", "redacted" (default) or "full".
	Prompts string `yaml:"prompts"`
	// Disabled turns the audit log off (not recommended).
	Disabled bool `yaml:"disabled"`
	// Fsync makes every request wait until its record is on disk, so
	// records also survive a power loss; without it (the default) a record
	// is in the local journal before the response is sent and survives a
	// crash or kill of the process.
	Fsync bool `yaml:"fsync"`
}

// Log configures the process log.
type Log struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `yaml:"level"`
	// Format is "json" (default) or "text".
	Format string `yaml:"format"`
}

// Metrics configures Prometheus.
type Metrics struct {
	// Disabled turns /metrics off.
	Disabled bool `yaml:"disabled"`
	// Listen, when set, serves /metrics on its own address.
	Listen string `yaml:"listen"`
}

// Tracing configures OpenTelemetry.
type Tracing struct {
	// Enabled turns tracing on.
	Enabled bool `yaml:"enabled"`
	// Endpoint is the OTLP/HTTP endpoint, e.g. "http://localhost:4318".
	Endpoint string `yaml:"endpoint"`
	// SampleRatio in [0,1], default 1.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ServiceName defaults to "rampart".
	ServiceName string `yaml:"service_name"`
}

// ByteSize is a size in bytes that YAML may write as 4194304, "4MiB" or "4MB".
type ByteSize int64
