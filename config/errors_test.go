package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// up is a valid first line for error cases, so that they need not repeat
// an upstream; the case's own text starts on line 2.
const up = "upstreams: [{name: a, base_url: 'http://localhost:1/v1'}]\n"

// testTypes are the detector types the tests validate against.
var testTypes = []string{"canary", "exfil", "injection", "length", "pii", "secrets", "toxicity", "unicode"}

func parseTest(src string, env map[string]string) (*Config, error) {
	return ParseWithOptions("t.yaml", []byte(src), ParseOptions{
		Env:             mapEnv(env),
		ValidateOptions: ValidateOptions{DetectorTypes: testTypes},
	})
}

// TestErrors checks the complete error output of bad files: each message
// names the file, the line and the key path, and no error cascades into
// others.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []string
	}{
		{
			name: "unknown top-level key with suggestion",
			src:  up + "sever:\n  listen: x\n",
			want: []string{`t.yaml:2: sever: unknown key "sever" (did you mean server?)`},
		},
		{
			name: "unknown top-level key without suggestion",
			src:  up + "frobnicate: true\n",
			want: []string{`t.yaml:2: frobnicate: unknown key "frobnicate" at the top level`},
		},
		{
			name: "unknown nested key",
			src:  up + "server:\n  listen: :80\n  lisen: :81\n",
			want: []string{`t.yaml:4: server.lisen: unknown key "lisen" (did you mean listen?)`},
		},
		{
			name: "unknown key in a list item",
			src:  "upstreams:\n  - name: a\n    base_ulr: http://x\n",
			want: []string{
				`t.yaml:2: upstreams[0].base_url: is required, e.g. https://api.openai.com/v1`,
				`t.yaml:3: upstreams[0].base_ulr: unknown key "base_ulr" (did you mean base_url?)`,
			},
		},
		{
			name: "integer expected",
			src:  up + "limits:\n  key:\n    concurrent: lots\n",
			want: []string{`t.yaml:4: limits.key.concurrent: want an integer, got "lots"`},
		},
		{
			name: "fraction for an integer",
			src:  up + "limits:\n  key:\n    concurrent: 1.5\n",
			want: []string{`t.yaml:4: limits.key.concurrent: want an integer, got "1.5"`},
		},
		{
			name: "boolean expected (yes is not a boolean in YAML 1.2)",
			src:  up + "audit:\n  disabled: yes\n",
			want: []string{`t.yaml:3: audit.disabled: want true or false, got "yes"`},
		},
		{
			name: "duration without a unit",
			src:  up + "server:\n  idle_timeout: 120\n",
			want: []string{`t.yaml:3: server.idle_timeout: want a duration such as "10s", "1m30s" or "2h", got "120"`},
		},
		{
			name: "bad byte size",
			src:  up + "server:\n  max_body_bytes: 4 megs\n",
			want: []string{`t.yaml:3: server.max_body_bytes: want a size such as 4194304, "512KiB", "4MiB", "1GiB" or "4MB", got "4 megs"`},
		},
		{
			name: "a string where a list goes",
			src:  "upstreams:\n  - name: a\n    base_url: http://x/v1\n    models: \"*\"\n",
			want: []string{`t.yaml:4: upstreams[0].models: want a list, got the string "*"`},
		},
		{
			name: "a scalar where a mapping goes",
			src:  up + "server: 8080\n",
			want: []string{`t.yaml:2: server: want a mapping of keys, got "8080"`},
		},
		{
			name: "a list where a scalar goes",
			src:  up + "log:\n  level: [info]\n",
			want: []string{`t.yaml:3: log.level: want a single value, got a list`},
		},
		{
			name: "top level is not a mapping",
			src:  "- a\n- b\n",
			want: []string{`t.yaml:1: want a mapping of keys, got a list`, `t.yaml: upstreams: at least one upstream is required`},
		},
		{
			name: "unknown action (the documented example)",
			src: up + `detectors:
  pii: {type: pii}
  secrets: {type: secrets}
policies:
  - name: default
    input:
      - detector: secrets
        action: block
      - detector: pii
        action: blok
`,
			want: []string{`t.yaml:11: policies[0].input[1].action: unknown action "blok" (want block, redact, anonymize, flag or log)`},
		},
		{
			name: "redaction styles, anonymize and canary rules",
			src: up + `detectors:
  pii: {type: pii}
  leak: {type: canary}
redaction:
  hash_key: hunter2hunter2
policies:
  - name: p
    input:
      - {detector: pii, action: redact, redact: scramble}
      - {detector: leak, action: block}
    output:
      - {detector: pii, action: anonymize}
      - {detector: leak, action: flag, redact: hash}
`,
			want: []string{
				`t.yaml:6: redaction.hash_key: a literal secret in the config file is not allowed: write hash_key: env:RAMPART_HASH_KEY (or file:PATH, vault:PATH) so the value stays out of the file`,
				`t.yaml:10: policies[0].input[0].redact: unknown value "scramble" (want mask, hash or synthetic)`,
				`t.yaml:11: policies[0].input[1].detector: "leak" is a canary detector, which checks outputs: use it in output rules`,
				`t.yaml:13: policies[0].output[0].action: anonymize applies to input rules only: the gateway restores the anonymized values in the output itself`,
				`t.yaml:14: policies[0].output[1].redact: applies only to action: redact (this rule's action is "flag")`,
			},
		},
		{
			name: "rule errors",
			src: up + `detectors:
  pii: {type: pii}
policies:
  - name: p
    output:
      - detector: nope
        threshold: 1.5
        on_error: ignore
`,
			want: []string{
				`t.yaml:7: policies[0].output[0].detector: unknown detector "nope" (defined: pii)`,
				`t.yaml:7: policies[0].output[0].action: is required (want block, redact, anonymize, flag or log)`,
				`t.yaml:8: policies[0].output[0].threshold: 1.5 is out of range: want a number from 0 to 1`,
				`t.yaml:9: policies[0].output[0].on_error: unknown value "ignore" (want block or allow)`,
			},
		},
		{
			name: "unknown detector type and missing type",
			src:  up + "detectors:\n  a: {type: regexp}\n  b: {options: {x: 1}}\n",
			want: []string{
				`t.yaml:3: detectors.a.type: unknown detector type "regexp" (known: canary, exfil, injection, length, pii, secrets, toxicity, unicode)`,
				`t.yaml:4: detectors.b.type: is required (one of: canary, exfil, injection, length, pii, secrets, toxicity, unicode)`,
			},
		},
		{
			name: "no detectors defined",
			src:  up + "policies:\n  - name: p\n    input: [{detector: pii, action: log}]\n",
			want: []string{`t.yaml:4: policies[0].input[0].detector: unknown detector "pii": no detectors are defined (add it under detectors)`},
		},
		{
			name: "catch-all policy not last, duplicate names, bad patterns",
			src: up + `policies:
  - name: all
  - name: all
    routes: ["/v1/[chat"]
    groups: [""]
    on_error: maybe
`,
			want: []string{
				`t.yaml:4: policies[1].name: duplicate policy name "all"`,
				`t.yaml:4: policies[1]: is never used: policies[0] ("all") matches every route and group and comes first; move the catch-all policy last`,
				`t.yaml:5: policies[1].routes[0]: bad pattern "/v1/[chat": syntax error in pattern`,
				`t.yaml:6: policies[1].groups[0]: must not be empty`,
				`t.yaml:7: policies[1].on_error: unknown value "maybe" (want block or allow)`,
			},
		},
		{
			name: "enumerations",
			src:  up + "audit: {prompts: some}\nlog: {level: verbose, format: xml}\nstore: {driver: mysql}\nlimits: {backend: etcd}\n",
			want: []string{
				`t.yaml:2: audit.prompts: unknown value "some" (want none, redacted or full)`,
				`t.yaml:3: log.level: unknown value "verbose" (want debug, info, warn or error)`,
				`t.yaml:3: log.format: unknown value "xml" (want json or text)`,
				`t.yaml:4: store.driver: unknown value "mysql" (want sqlite or postgres)`,
				`t.yaml:5: limits.backend: unknown value "etcd" (want memory or redis)`,
			},
		},
		{
			name: "postgres without dsn, redis without addr",
			src:  up + "store:\n  driver: postgres\nlimits:\n  backend: redis\n",
			want: []string{
				`t.yaml:2: store.postgres_dsn: is required when store.driver is "postgres" (write postgres_dsn: env:RAMPART_POSTGRES_DSN)`,
				`t.yaml:4: limits.redis.addr: is required when limits.backend is "redis"`,
			},
		},
		{
			name: "upstream names and URLs",
			src: `upstreams:
  - name: a
    base_url: api.openai.com/v1
  - name: a
    base_url: https://user:hunter2@example.com/v1
  - base_url: https://example.com/v1?x=1
    auth_header: "bad header"
  - name: "has space"
    base_url: https://example.com/v1
    models: [""]
`,
			want: []string{
				`t.yaml:3: upstreams[0].base_url: want an absolute http:// or https:// URL, got "api.openai.com/v1"`,
				`t.yaml:4: upstreams[1].name: duplicate upstream name "a"`,
				`t.yaml:5: upstreams[1].base_url: must not hold credentials (user:password@); use a secret reference in the key's own field`,
				`t.yaml:6: upstreams[2].name: is required`,
				`t.yaml:6: upstreams[2].base_url: must not have a query or fragment (use query_params for query parameters)`,
				`t.yaml:7: upstreams[2].auth_header: "bad header" is not a valid HTTP header name`,
				`t.yaml:8: upstreams[3].name: "has space": want letters, digits, '.', '_' and '-' only`,
				`t.yaml:10: upstreams[3].models[0]: must not be empty`,
			},
		},
		{
			name: "no upstreams",
			src:  "server:\n  listen: :8080\n",
			want: []string{`t.yaml: upstreams: at least one upstream is required`},
		},
		{
			name: "empty file",
			src:  "# nothing\n",
			want: []string{`t.yaml: upstreams: at least one upstream is required`},
		},
		{
			name: "aliases",
			src:  up + "aliases:\n  fast: {upstream: nope}\n",
			want: []string{
				`t.yaml:3: aliases.fast.model: is required: the upstream's model name`,
				`t.yaml:3: aliases.fast.upstream: unknown upstream "nope" (known: a)`,
			},
		},
		{
			name: "jwt without key set, issuer, audience or group",
			src:  up + "auth:\n  jwt: {}\n",
			want: []string{
				`t.yaml:3: auth.jwt: set one of jwks_file or jwks_url`,
				`t.yaml:3: auth.jwt.issuer: is required: the iss every token must carry`,
				`t.yaml:3: auth.jwt.audience: is required: the aud every token must carry`,
				`t.yaml:3: auth.jwt: set group_claim (with groups) or default_group: every token needs a key group`,
			},
		},
		{
			name: "jwt with both key sets",
			src:  up + "auth:\n  jwt:\n    jwks_file: /k.json\n    jwks_url: https://idp/jwks\n    issuer: i\n    audience: a\n    default_group: g\n",
			want: []string{`t.yaml:5: auth.jwt.jwks_url: set jwks_file or jwks_url, not both`},
		},
		{
			name: "jwks over plain http",
			src:  up + "auth:\n  jwt:\n    jwks_url: http://idp.example.com/jwks\n    issuer: i\n    audience: a\n    groups: {admins: admin}\n    routes: [chat]\n",
			want: []string{
				`t.yaml:3: auth.jwt.group_claim: is required when groups is set: the claim whose values groups maps`,
				`t.yaml:4: auth.jwt.jwks_url: must use https (http is allowed only for a loopback host): keys fetched over plain HTTP can be forged in transit`,
				`t.yaml:8: auth.jwt.routes[0]: want a request path such as /v1/chat/completions (wildcards allowed, e.g. /v1/*), or *; got "chat"`,
			},
		},
		{
			name: "negative limits and prices",
			src: up + `limits:
  key: {requests_per_minute: -1, tokens_per_minute: -2, concurrent: -3, max_tokens: -4, daily_budget_usd: -5}
  groups:
    g: {daily_budget_usd: .nan}
  max_messages: -1
prices:
  m: {input: -1, output: .inf}
`,
			want: []string{
				`t.yaml:3: limits.key.requests_per_minute: must not be negative`,
				`t.yaml:3: limits.key.tokens_per_minute: must not be negative`,
				`t.yaml:3: limits.key.concurrent: must not be negative`,
				`t.yaml:3: limits.key.max_tokens: must not be negative`,
				`t.yaml:3: limits.key.daily_budget_usd: -5: want a finite amount, not negative`,
				`t.yaml:5: limits.groups.g.daily_budget_usd: NaN: want a finite amount, not negative`,
				`t.yaml:6: limits.max_messages: must not be negative`,
				`t.yaml:8: prices.m.input: -1: want a finite amount, not negative`,
				`t.yaml:8: prices.m.output: +Inf: want a finite amount, not negative`,
			},
		},
		{
			name: "upstream refresh too short",
			src:  "upstreams: [{name: a, base_url: 'http://localhost:1/v1', api_key: 'vault:secret/a#k', refresh: 100ms}, {name: b, base_url: 'http://localhost:2/v1', refresh: -1s}]\n",
			want: []string{`t.yaml:1: upstreams[0].refresh: 100ms is shorter than 1s (a negative value turns refreshing off)`},
		},
		{
			name: "registry",
			src: up + `registry:
  require_production: true
  models: ["acme-[", ""]
  refresh: -1s
`,
			want: []string{
				`t.yaml:4: registry.models[0]: bad pattern "acme-[": syntax error in pattern`,
				`t.yaml:4: registry.models[1]: must not be empty`,
				`t.yaml:5: registry.refresh: must not be negative`,
			},
		},
		{
			name: "literal secrets",
			src: `upstreams:
  - name: openai
    base_url: https://api.openai.com/v1
    api_key: sk-proj-abcdef0123456789
    headers:
      X-Api-Key: literal-key-value
      OpenAI-Project: proj_123
admin:
  token: s3cr3t-admin-token
store:
  postgres_dsn: postgres://rampart:pgpass@db/rampart
limits:
  redis:
    addr: redis://:redispass@cache:6379
    password: redispass
`,
			want: []string{
				`t.yaml:4: upstreams[0].api_key: a literal secret in the config file is not allowed: write api_key: env:OPENAI_API_KEY (or file:PATH, vault:PATH) so the value stays out of the file`,
				`t.yaml:6: upstreams[0].headers.X-Api-Key: a literal secret in the config file is not allowed: write X-Api-Key: env:OPENAI_X_API_KEY (or file:PATH, vault:PATH) so the value stays out of the file`,
				`t.yaml:9: admin.token: a literal secret in the config file is not allowed: write token: env:RAMPART_ADMIN_TOKEN (or file:PATH, vault:PATH) so the value stays out of the file`,
				`t.yaml:11: store.postgres_dsn: holds a password; a literal credential in the config file is not allowed: write postgres_dsn: env:RAMPART_POSTGRES_DSN (or file:PATH, vault:PATH)`,
				`t.yaml:14: limits.redis.addr: holds a password; write it as limits.redis.password: env:RAMPART_REDIS_PASSWORD instead`,
				`t.yaml:15: limits.redis.password: a literal secret in the config file is not allowed: write password: env:RAMPART_REDIS_PASSWORD (or file:PATH, vault:PATH) so the value stays out of the file`,
			},
		},
		{
			name: "keyword DSN with a password, bad references",
			src:  up + "store:\n  postgres_dsn: host=db user=rampart password=x\nadmin:\n  token: \"env:\"\nlimits:\n  redis:\n    password: \"file:\"\n",
			want: []string{
				`t.yaml:3: store.postgres_dsn: holds a password; a literal credential in the config file is not allowed: write postgres_dsn: env:RAMPART_POSTGRES_DSN (or file:PATH, vault:PATH)`,
				`t.yaml:5: admin.token: env: needs a variable name (letters, digits and _), such as env:RAMPART_ADMIN_TOKEN`,
				`t.yaml:8: limits.redis.password: file: needs a path after the colon`,
			},
		},
		{
			name: "interpolated literal secret",
			src:  "upstreams:\n  - name: openai\n    base_url: https://api.openai.com/v1\n    api_key: ${OPENAI_API_KEY}\n",
			env:  map[string]string{"OPENAI_API_KEY": "sk-live-0123456789"},
			want: []string{
				`t.yaml:4: upstreams[0].api_key: a literal secret in the config file is not allowed: write api_key: env:OPENAI_API_KEY (or file:PATH, vault:PATH) so the value stays out of the file; interpolating ${OPENAI_API_KEY} puts the value itself into the configuration, where it could be printed — a secret reference is resolved only where it is used`,
			},
		},
		{
			name: "literal secret with an escaped dollar is not echoed",
			src:  "upstreams:\n  - name: openai\n    base_url: https://api.openai.com/v1\n    api_key: sk-proj-abcdef$$xyz\n",
			want: []string{
				`t.yaml:4: upstreams[0].api_key: a literal secret in the config file is not allowed: write api_key: env:OPENAI_API_KEY (or file:PATH, vault:PATH) so the value stays out of the file`,
			},
		},
		{
			name: "server",
			src:  up + "server:\n  listen: localhost\n  trusted_proxies: [10.0.0.0/33, proxy]\n  tls_cert_file: /c.pem\nadmin:\n  listen: 127.0.0.1:8080\nmetrics:\n  listen: :99999\n",
			want: []string{
				`t.yaml:2: server.tls_key_file: tls_cert_file is set but tls_key_file is not; set both to serve HTTPS, or neither`,
				`t.yaml:3: server.listen: want host:port such as 127.0.0.1:8080 or :8080, got "localhost"`,
				`t.yaml:4: server.trusted_proxies[0]: want a CIDR such as 10.0.0.0/8 or an IP address, got "10.0.0.0/33"`,
				`t.yaml:4: server.trusted_proxies[1]: want a CIDR such as 10.0.0.0/8 or an IP address, got "proxy"`,
				`t.yaml:9: metrics.listen: port "99999": want a number from 0 to 65535`,
			},
		},
		{
			name: "admin on the public address",
			src:  up + "admin:\n  listen: 127.0.0.1:8080\n",
			want: []string{`t.yaml:3: admin.listen: is the same address as server.listen; leave it empty to serve the admin API on the public listener`},
		},
		{
			name: "tracing",
			src:  up + "tracing:\n  enabled: true\n  sample_ratio: 2\n",
			want: []string{
				`t.yaml:2: tracing.endpoint: is required when tracing is enabled, e.g. http://localhost:4318`,
				`t.yaml:4: tracing.sample_ratio: 2 is out of range: want a number from 0 to 1`,
			},
		},
		{
			name: "YAML syntax error",
			src:  up + "server:\n  listen: [:8080\n",
			want: []string{`t.yaml:3: invalid YAML: sequence end token ']' not found`},
		},
		{
			name: "duplicate key",
			src:  up + "log:\n  level: info\n  level: debug\n",
			want: []string{`t.yaml:4: invalid YAML: mapping key "level" already defined at [3:3]`},
		},
		{
			name: "two documents",
			src:  up + "---\nlog: {level: info}\n",
			want: []string{`t.yaml:3: the file holds more than one YAML document; want one`},
		},
		{
			name: "unset variable",
			src:  "upstreams:\n  - name: a\n    base_url: ${BASE_URL}/v1\n",
			want: []string{`t.yaml:3: upstreams[0].base_url: environment variable BASE_URL is not set (set it, or give a default: ${BASE_URL:-default})`},
		},
		{
			name: "unset variable inside a block scalar",
			src:  up + "detectors:\n  d:\n    type: secrets\n    options:\n      note: |\n        first\n        second ${NOPE}\n",
			want: []string{`t.yaml:8: detectors.d.options.note: environment variable NOPE is not set (set it, or give a default: ${NOPE:-default})`},
		},
		{
			name: "bad interpolation syntax",
			src:  up + "log:\n  level: ${LEVEL\n  format: ${FMT-text}\n",
			want: []string{
				`t.yaml:3: log.level: unterminated "${" (missing "}"; write "$$" for a literal "$")`,
				`t.yaml:4: log.format: invalid variable reference "${FMT-text}": want ${NAME} or ${NAME:-default}, where NAME is letters, digits and "_"`,
			},
		},
		{
			name: "interpolated value of the wrong type is not echoed",
			src:  up + "limits:\n  key:\n    concurrent: ${CONC}\n",
			env:  map[string]string{"CONC": "sk-not-a-number"},
			want: []string{`t.yaml:4: limits.key.concurrent: want an integer, got the value interpolated from ${CONC}`},
		},
		{
			name: "unsupported tag and unknown anchor",
			src:  up + "log:\n  level: !secret info\n  format: *fmt\n",
			want: []string{
				`t.yaml:3: log.level: unsupported YAML tag "!secret"`,
				`t.yaml:4: log.format: unknown anchor "*fmt"`,
			},
		},
		{
			name: "merge of a scalar",
			src:  up + "log:\n  <<: 5\n",
			want: []string{`t.yaml:3: log: a merge key (<<) wants a mapping or a list of mappings`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseTest(tt.src, tt.env)
			if err == nil {
				t.Fatalf("no error; config: %+v", c)
			}
			if c != nil {
				t.Errorf("config returned with an error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) != len(tt.want) {
				t.Errorf("errors.As(ErrorList) = %d errors, want %d", len(list), len(tt.want))
			}
			for _, secret := range []string{"sk-proj-abcdef", "literal-key-value", "s3cr3t", "pgpass", "redispass", "sk-live", "sk-not-a-number", "hunter2"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q:\n%s", secret, err)
				}
			}
		})
	}
}

// TestErrorsSortedAndCapped checks that every error is reported, in line
// order, and that a flood of errors is cut off with a count.
func TestErrorsSortedAndCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("limits:\n  groups:\n")
	for i := range 60 {
		fmt.Fprintf(&b, "    g%02d: {concurrent: -1}\n", i)
	}
	b.WriteString("upstreams: []\n")
	_, err := parseTest(b.String(), nil)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v, want an ErrorList", err)
	}
	if len(list) != maxErrors+1 {
		t.Fatalf("%d errors, want %d", len(list), maxErrors+1)
	}
	for i := 1; i < maxErrors; i++ {
		if list[i].Line < list[i-1].Line {
			t.Fatalf("errors not sorted by line: %v before %v", list[i-1], list[i])
		}
	}
	if got, want := list[0].Error(), "t.yaml:3: limits.groups.g00.concurrent: must not be negative"; got != want {
		t.Errorf("first error = %q, want %q", got, want)
	}
	if got, want := list[maxErrors].Error(), "t.yaml: too many errors: 11 more not shown"; got != want {
		t.Errorf("last error = %q, want %q", got, want)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "r.yaml", Line: 3, Path: "a.b", Msg: "bad"}, "r.yaml:3: a.b: bad"},
		{Error{File: "r.yaml", Path: "a", Msg: "bad"}, "r.yaml: a: bad"},
		{Error{File: "r.yaml", Line: 1, Msg: "bad"}, "r.yaml:1: bad"},
		{Error{Path: "a", Msg: "bad"}, "a: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
