package config

import (
	"time"
)

// Defaults; ApplyDefaults documents them and a test keeps
// docs/configuration.md in step.
const (
	defListen            = "127.0.0.1:8080"
	defMaxBodyBytes      = 4 * MiB
	defMaxResponseBytes  = 32 * MiB
	defReadHeaderTimeout = 10 * time.Second
	defIdleTimeout       = 120 * time.Second
	defShutdownTimeout   = 30 * time.Second

	defDataDir       = "./rampart-data"
	defStoreDriver   = "sqlite"
	defPostgresConns = 16
	defLimitsBackend = "memory"
	defRedisPrefix   = "rampart:"
	defMaxMessages   = 1000
	defAuditPrompts  = "redacted"
	defLogLevel      = "info"
	defLogFormat     = "json"
	defPolicyOnError = "block"
	defAuthHeader    = "authorization"
	defUpstreamTO    = 600 * time.Second
	defConnectTO     = 10 * time.Second
	defHeaderTO      = 120 * time.Second
	defJWTLeeway     = 30 * time.Second
	defJWKSRefresh   = 15 * time.Minute
	defSubjectClaim  = "sub"
	defTraceRatio    = 1.0
	defTraceService  = "rampart"
	defRegistryTTL   = 5 * time.Second
	defRequestTTL    = 7 * 24 * time.Hour
)

// ApplyDefaults fills every unset field (the zero value) with its default.
// It is idempotent. The defaults live here and nowhere else:
//
//	server.listen                127.0.0.1:8080
//	server.max_body_bytes        4MiB
//	server.max_response_bytes    32MiB
//	server.read_header_timeout   10s
//	server.idle_timeout          120s
//	server.shutdown_timeout      30s
//	data_dir                     ./rampart-data
//	store.driver                 sqlite
//	store.sqlite_path            <data_dir>/rampart.db
//	store.max_conns              16
//	upstreams[].auth_header      authorization
//	upstreams[].timeout          600s
//	upstreams[].connect_timeout  10s
//	upstreams[].header_timeout   120s
//	auth.jwt.refresh_interval    15m
//	auth.jwt.leeway              30s
//	auth.jwt.subject_claim       sub
//	limits.backend               memory
//	limits.redis.prefix          rampart:
//	limits.max_messages          1000
//	policies[].on_error          block
//	policies[].*[].threshold     the detector's calibrated operating point
//	policies[].*[].on_error      the policy's on_error
//	audit.prompts                redacted
//	registry.refresh             5s
//	log.level                    info
//	log.format                   json
//	tracing.sample_ratio         1
//	tracing.service_name         rampart
//
// Limits (limits.key, limits.ip, limits.groups) have no built-in default:
// zero means unlimited there, and the embedded default file sets them.
func (c *Config) ApplyDefaults() {
	s := &c.Server
	setString(&s.Listen, defListen)
	setSize(&s.MaxBodyBytes, defMaxBodyBytes)
	setSize(&s.MaxResponseBytes, defMaxResponseBytes)
	setDuration(&s.ReadHeaderTimeout, defReadHeaderTimeout)
	setDuration(&s.IdleTimeout, defIdleTimeout)
	setDuration(&s.ShutdownTimeout, defShutdownTimeout)

	setString(&c.DataDir, defDataDir)
	setString(&c.Store.Driver, defStoreDriver)
	setInt(&c.Store.MaxConns, defPostgresConns)

	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		setString(&u.AuthHeader, defAuthHeader)
		setDuration(&u.Timeout, defUpstreamTO)
		setDuration(&u.ConnectTimeout, defConnectTO)
		setDuration(&u.HeaderTimeout, defHeaderTO)
	}

	if j := c.Auth.JWT; j != nil {
		setDuration(&j.RefreshInterval, defJWKSRefresh)
		setDuration(&j.Leeway, defJWTLeeway)
		setString(&j.SubjectClaim, defSubjectClaim)
	}

	setString(&c.Limits.Backend, defLimitsBackend)
	setString(&c.Limits.Redis.Prefix, defRedisPrefix)
	setInt(&c.Limits.MaxMessages, defMaxMessages)

	for i := range c.Policies {
		p := &c.Policies[i]
		setString(&p.OnError, defPolicyOnError)
		for _, rules := range [][]Rule{p.Input, p.Output} {
			for j := range rules {
				r := &rules[j]
				setString(&r.OnError, p.OnError)
			}
		}
	}

	setString(&c.Audit.Prompts, defAuditPrompts)
	setDuration(&c.Registry.Refresh, defRegistryTTL)
	setDuration(&c.Registry.RequestTTL, defRequestTTL)
	setString(&c.Log.Level, defLogLevel)
	setString(&c.Log.Format, defLogFormat)
	if c.Tracing.SampleRatio == nil {
		r := defTraceRatio
		c.Tracing.SampleRatio = &r
	}
	setString(&c.Tracing.ServiceName, defTraceService)
}

func setString(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setSize(p *ByteSize, v ByteSize) {
	if *p == 0 {
		*p = v
	}
}

func setDuration(p *time.Duration, v time.Duration) {
	if *p == 0 {
		*p = v
	}
}
