package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDefault(t *testing.T) {
	c, err := ParseWithOptions(DefaultName, DefaultYAML(), ParseOptions{
		Env:             mapEnv(nil),
		ValidateOptions: ValidateOptions{DetectorTypes: testTypes},
	})
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	if c.Server.Listen != "127.0.0.1:8080" || c.Store.Driver != "sqlite" || c.Limits.Backend != "memory" {
		t.Errorf("listen/store/limits = %q/%q/%q", c.Server.Listen, c.Store.Driver, c.Limits.Backend)
	}
	// Empty: the store puts the file in data_dir, which --data-dir may
	// still change after loading.
	if c.Store.SQLitePath != "" {
		t.Errorf("sqlite_path = %q, want empty", c.Store.SQLitePath)
	}
	if len(c.Upstreams) != 1 {
		t.Fatalf("%d upstreams, want 1", len(c.Upstreams))
	}
	u := c.Upstreams[0]
	if u.Name != "openai" || u.BaseURL != "https://api.openai.com/v1" || u.APIKey != "env:OPENAI_API_KEY" || !reflect.DeepEqual(u.Models, []string{"*"}) {
		t.Errorf("upstream = %+v", u)
	}
	want := LimitSet{RequestsPerMinute: 600, TokensPerMinute: 1_000_000, Concurrent: 64, MaxTokens: 32768, DailyBudgetUSD: 100}
	if c.Limits.Key != want {
		t.Errorf("limits.key = %+v, want %+v", c.Limits.Key, want)
	}
	if c.Limits.IP.RequestsPerMinute == 0 || c.Limits.IP.Concurrent == 0 {
		t.Errorf("limits.ip = %+v, want limits set", c.Limits.IP)
	}
	for _, m := range []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3", "o4-mini", "text-embedding-3-small", "text-embedding-3-large"} {
		if p, ok := c.Prices[m]; !ok || p.Input <= 0 {
			t.Errorf("prices[%q] = %+v, %v", m, p, ok)
		}
	}
	wantDetectors := map[string]Detector{
		"secrets":       {Type: "secrets"},
		"pii":           {Type: "pii"},
		"payment_cards": {Type: "pii", Options: map[string]any{"entities": []any{"credit_card"}}},
		"prompt_size":   {Type: "length", Options: map[string]any{"max_bytes": 1048576}},
		"injection":     {Type: "injection"},
		"unicode":       {Type: "unicode"},
		"exfil":         {Type: "exfil"},
	}
	if diff := cmp.Diff(wantDetectors, c.Detectors); diff != "" {
		t.Errorf("detectors (-want +got):\n%s", diff)
	}
	wantPolicies := []Policy{{
		Name:    "default",
		OnError: "block",
		Input: []Rule{
			{Detector: "secrets", Action: "flag", OnError: "block"},
			{Detector: "pii", Action: "log", OnError: "block"},
			{Detector: "prompt_size", Action: "block", OnError: "block"},
			{Detector: "injection", Action: "flag", OnError: "block"},
			{Detector: "unicode", Action: "flag", OnError: "block"},
		},
		Output: []Rule{
			{Detector: "secrets", Action: "redact", OnError: "block"},
			{Detector: "payment_cards", Action: "redact", OnError: "block"},
			{Detector: "exfil", Action: "redact", OnError: "block"},
			{Detector: "unicode", Action: "redact", OnError: "block"},
		},
	}}
	if diff := cmp.Diff(wantPolicies, c.Policies); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	if c.Audit.Prompts != "redacted" || c.Log.Format != "json" || c.Log.Level != "info" {
		t.Errorf("audit/log = %+v %+v", c.Audit, c.Log)
	}
}

func TestDefaultBaseURLFromEnv(t *testing.T) {
	c, err := ParseWithOptions(DefaultName, DefaultYAML(), ParseOptions{
		Env:             mapEnv(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}),
		ValidateOptions: ValidateOptions{DetectorTypes: testTypes},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Upstreams[0].BaseURL; got != "http://127.0.0.1:11434/v1" {
		t.Errorf("base_url = %q", got)
	}
}

func TestDefaultFunc(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "")
	// detect.Default has no types registered in this test binary, so the
	// type check is skipped; the rest is validated.
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.Upstreams[0].BaseURL != "https://api.openai.com/v1" {
		t.Errorf("base_url = %q", c.Upstreams[0].BaseURL)
	}
	if !bytes.Equal(DefaultYAML(), mustRead(t, "default.yaml")) {
		t.Error("DefaultYAML differs from default.yaml")
	}
	DefaultYAML()[0] = 'X' // a copy: must not change the embedded file
	if DefaultYAML()[0] == 'X' {
		t.Error("DefaultYAML returns the embedded slice itself")
	}
}

func TestFull(t *testing.T) {
	c, err := parseTest(string(mustRead(t, "testdata/full.yaml")), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	if s.Listen != "0.0.0.0:8443" || s.MaxBodyBytes != 8*MiB || s.MaxResponseBytes != 64_000_000 ||
		s.ReadHeaderTimeout != 5*time.Second || s.IdleTimeout != 90*time.Second || s.ShutdownTimeout != time.Minute {
		t.Errorf("server = %+v", s)
	}
	if got := c.Upstreams[1]; got.AuthHeader != "api-key" || got.QueryParams["api-version"] != "2024-10-21" || got.Timeout != 600*time.Second {
		t.Errorf("upstreams[1] = %+v", got)
	}
	if got := c.Upstreams[0]; got.Timeout != 300*time.Second || got.AuthHeader != "authorization" || got.Headers["OpenAI-Organization"] != "org-example" {
		t.Errorf("upstreams[0] = %+v", got)
	}
	// The merge key copies limits.key into the group, which overrides one.
	wantResearch := LimitSet{RequestsPerMinute: 600, TokensPerMinute: 1_000_000, Concurrent: 64, DailyBudgetUSD: 500, MaxTokens: 32768}
	if got := c.Limits.Groups["research"]; got != wantResearch {
		t.Errorf("limits.groups.research = %+v, want %+v", got, wantResearch)
	}
	if j := c.Auth.JWT; j == nil || j.Leeway != time.Minute || j.SubjectClaim != "email" || j.Groups["ml-engineers"] != "research" {
		t.Errorf("auth.jwt = %+v", j)
	}
	if got := *c.Policies[1].Input[1].Threshold; got != 0 {
		t.Errorf("explicit threshold 0 became %v", got)
	}
	if got := c.Policies[0].Output[0].OnError; got != "allow" {
		t.Errorf("rule on_error = %q, want the policy's (allow)", got)
	}
	if got := c.Detectors["pii"].Options["entities"]; !reflect.DeepEqual(got, []any{"email", "credit_card", "us_ssn", "iban"}) {
		t.Errorf("pii entities = %#v", got)
	}
	if *c.Tracing.SampleRatio != 0.25 {
		t.Errorf("sample_ratio = %v", *c.Tracing.SampleRatio)
	}
}

// TestExamplesCoverModel checks that testdata/full.yaml and scaled.yaml
// between them set every key of the model, so that the tests above decode
// every field from YAML at least once.
func TestExamplesCoverModel(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range []string{"testdata/full.yaml", "testdata/scaled.yaml"} {
		errs := &errorSet{file: name}
		doc, err := parseYAML(mustRead(t, name))
		if err != nil {
			t.Fatal(err)
		}
		d := newDecoder(errs, mapEnv(nil))
		d.collectAnchors(doc, 0)
		var c Config
		d.decode(reflect.ValueOf(&c).Elem(), doc, "", 0)
		if err := errs.result(); err != nil {
			t.Fatal(err)
		}
		for p := range d.pos {
			seen[p] = true
		}
		if _, err := parseTest(string(mustRead(t, name)), nil); err != nil {
			t.Errorf("%s is not valid: %v", name, err)
		}
	}
	for _, k := range modelKeys() {
		re := patternRegexp(k.path)
		found := false
		for p := range seen {
			if re.MatchString(p) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no example sets %s", k.path)
		}
	}
}

func TestScaled(t *testing.T) {
	c, err := parseTest(string(mustRead(t, "testdata/scaled.yaml")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Driver != "postgres" || c.Limits.Backend != "redis" || c.Auth.JWT.RefreshInterval != 15*time.Minute {
		t.Errorf("store/limits/jwt = %+v %+v %+v", c.Store, c.Limits, c.Auth.JWT)
	}
	if c.Limits.Redis.Prefix != "rampart:" {
		t.Errorf("redis prefix = %q", c.Limits.Redis.Prefix)
	}
}

func TestInterpolation(t *testing.T) {
	env := map[string]string{
		"PORT":     "9000",
		"TLS":      "true",
		"SIZE":     "16MiB",
		"TIMEOUT":  "45s",
		"RATIO":    "0.75",
		"NEWLINE":  "x\nlevel: debug",
		"COLON":    "json\nformat: text # not a comment",
		"FLOWISH":  "[a, b]",
		"MAXBYTES": "2048",
		"NUMSTR":   "007",
	}
	src := `upstreams:
  - name: a
    base_url: http://localhost:${PORT}/v1
    models: ["${FLOWISH}", '$${NOT_A_VAR}', plain$dollar]
server:
  max_body_bytes: ${SIZE}
  idle_timeout: "${TIMEOUT}"
limits:
  redis:
    tls: ${TLS}
    prefix: ${NEWLINE}
  max_messages: ${MISSING:-250}
tracing:
  sample_ratio: ${RATIO}
log:
  format: json
  level: ${UNSET_LEVEL:-warn}
audit:
  prompts: ${UNSET:-none} # a comment is not part of the value
detectors:
  d:
    type: length
    options:
      max_bytes: ${MAXBYTES}
      quoted: "${MAXBYTES}"
      leading_zero: ${NUMSTR}
      flow: ${FLOWISH}
      text: ${COLON}
      default_bool: ${NOPE:-false}
`
	c, err := parseTest(src, env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"base_url", c.Upstreams[0].BaseURL, "http://localhost:9000/v1"},
		{"models", c.Upstreams[0].Models, []string{"[a, b]", "${NOT_A_VAR}", "plain$dollar"}},
		{"max_body_bytes", c.Server.MaxBodyBytes, 16 * MiB},
		{"idle_timeout", c.Server.IdleTimeout, 45 * time.Second},
		{"tls", c.Limits.Redis.TLS, true},
		{"prefix (newline stays in the value)", c.Limits.Redis.Prefix, "x\nlevel: debug"},
		{"max_messages", c.Limits.MaxMessages, 250},
		{"sample_ratio", *c.Tracing.SampleRatio, 0.75},
		{"log.level", c.Log.Level, "warn"},
		{"audit.prompts", c.Audit.Prompts, "none"},
		{"options", c.Detectors["d"].Options, map[string]any{
			"max_bytes":    2048,
			"quoted":       "2048",
			"leading_zero": 7,
			"flow":         "[a, b]",
			"text":         "json\nformat: text # not a comment",
			"default_bool": false,
		}},
	}
	for _, ck := range checks {
		if diff := cmp.Diff(ck.want, ck.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", ck.name, diff)
		}
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	src := up + `x-base: &base
  requests_per_minute: 10
  concurrent: 2
x-more: &more
  concurrent: 3
  max_tokens: 99
limits:
  groups:
    a: {<<: *base}
    b:
      <<: [*base, *more]
      requests_per_minute: 20
    c: *base
`
	// x- keys are not part of the model: anchors must live inside known
	// keys. Check that first, then the merge semantics with a valid file.
	if _, err := parseTest(src, nil); err == nil || !strings.Contains(err.Error(), `unknown key "x-base"`) {
		t.Fatalf("err = %v, want unknown key x-base", err)
	}
	src = up + `limits:
  key: &base
    requests_per_minute: 10
    concurrent: 2
  ip: &more
    concurrent: 3
    max_tokens: 99
  groups:
    a: {<<: *base}
    b:
      <<: [*base, *more]
      requests_per_minute: 20
    c: *base
`
	c, err := parseTest(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]LimitSet{
		"a": {RequestsPerMinute: 10, Concurrent: 2},
		"b": {RequestsPerMinute: 20, Concurrent: 2, MaxTokens: 99},
		"c": {RequestsPerMinute: 10, Concurrent: 2},
	}
	if diff := cmp.Diff(want, c.Limits.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

// TestAnchorRedefined checks that an alias refers to the closest anchor of
// its name before it.
func TestAnchorRedefined(t *testing.T) {
	src := up + "limits:\n  key: &a {concurrent: 1}\n  groups:\n    x: *a\n    y: &a {concurrent: 2}\n    z: *a\n"
	c, err := parseTest(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.Groups["x"].Concurrent != 1 || c.Limits.Groups["z"].Concurrent != 2 {
		t.Errorf("groups = %+v", c.Limits.Groups)
	}
}

// TestAliasBomb checks that aliases expanding exponentially are refused
// quickly instead of exhausting memory.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(up + "detectors:\n  d:\n    type: length\n    options:\n")
	b.WriteString("      a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("      a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	// Fully expanded this is 10^10 values: without the cap the test would
	// not finish.
	_, err := parseTest(b.String(), nil)
	if err == nil || !strings.Contains(err.Error(), "too large or its aliases expand too much") {
		t.Fatalf("err = %v", err)
	}
}

func TestSelfReferentialAlias(t *testing.T) {
	src := up + "detectors:\n  d:\n    type: length\n    options: &o {self: *o}\n"
	_, err := parseTest(src, nil)
	if err == nil {
		t.Fatal("no error")
	}
}

// TestMarshalRoundTrip checks that the printed effective configuration
// parses back to the same configuration.
func TestMarshalRoundTrip(t *testing.T) {
	env := map[string]string{"DOLLAR": "a$b${C}"}
	for _, name := range []string{"testdata/full.yaml", "testdata/scaled.yaml", "default.yaml"} {
		src := string(mustRead(t, name))
		if name == "testdata/full.yaml" {
			// A value holding "$" and "${" must survive the round trip.
			src = strings.Replace(src, "service_name: rampart-eu", "service_name: ${DOLLAR}", 1)
		}
		c, err := parseTest(src, env)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("%s: marshal: %v", name, err)
		}
		c2, err := parseTest(string(out), nil)
		if err != nil {
			t.Fatalf("%s: reparse: %v\n%s", name, err, out)
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: round trip (-first +second):\n%s", name, diff)
		}
		if name == "testdata/full.yaml" && c2.Tracing.ServiceName != "a$b${C}" {
			t.Errorf("service_name = %q", c2.Tracing.ServiceName)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	if err := os.WriteFile(path, []byte(up+"log:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || err.Error() != path+`:3: log.level: unknown value "loud" (want debug, info, warn or error)` {
		t.Errorf("Load = %v", err)
	}

	if err := os.WriteFile(path, []byte(up), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.Upstreams[0].Name != "a" || c.Server.Listen != "127.0.0.1:8080" {
		t.Errorf("Load = %+v, %v", c, err)
	}

	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	big := append([]byte(up+"# "), bytes.Repeat([]byte("x"), MaxFileSize)...)
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "larger than 4MiB") {
		t.Errorf("big file: %v", err)
	}
}

func TestValidateInCode(t *testing.T) {
	c := &Config{Upstreams: []Upstream{{Name: "a", BaseURL: "https://example.com/v1"}}}
	c.ApplyDefaults()
	if err := c.Validate(ValidateOptions{}); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	c.Limits.Key.Concurrent = -1
	c.Upstreams[0].APIKey = "sk-literal"
	err := c.Validate(ValidateOptions{})
	want := "upstreams[0].api_key: a literal secret in the config file is not allowed: write api_key: env:A_API_KEY (or file:PATH, vault:PATH) so the value stays out of the file\n" +
		"limits.key.concurrent: must not be negative"
	if err == nil || err.Error() != want {
		t.Errorf("Validate =\n%v\nwant\n%s", err, want)
	}
}

func TestApplyDefaultsIdempotent(t *testing.T) {
	c, err := parseTest(string(mustRead(t, "testdata/full.yaml")), nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := c.Marshal()
	c.ApplyDefaults()
	after, _ := c.Marshal()
	if !bytes.Equal(before, after) {
		t.Error("ApplyDefaults changed a defaulted config")
	}
}

func TestCheckDetector(t *testing.T) {
	src := up + "detectors:\n  p:\n    type: pii\n    options:\n      entities: [emial]\n"
	_, err := ParseWithOptions("t.yaml", []byte(src), ParseOptions{
		Env: mapEnv(nil),
		ValidateOptions: ValidateOptions{
			DetectorTypes: testTypes,
			CheckDetector: func(typ string, opts map[string]any) error {
				if typ == "pii" && reflect.DeepEqual(opts["entities"], []any{"emial"}) {
					return errors.New(`unknown entity "emial"`)
				}
				return nil
			},
		},
	})
	if err == nil || err.Error() != `t.yaml:5: detectors.p.options: unknown entity "emial"` {
		t.Errorf("err = %v", err)
	}
}

func TestDetectorTypesUncheckedWhenRegistryEmpty(t *testing.T) {
	src := up + "detectors:\n  p:\n    type: anything\n"
	if _, err := Parse("t.yaml", []byte(src), mapEnv(nil)); err != nil {
		t.Errorf("with an empty registry detector types are not checked, got %v", err)
	}
}

func TestParseNilEnvUsesProcessEnv(t *testing.T) {
	t.Setenv("RAMPART_CONFIG_TEST_URL", "http://localhost:7/v1")
	c, err := Parse("t.yaml", []byte("upstreams: [{name: a, base_url: '${RAMPART_CONFIG_TEST_URL}'}]\n"), nil)
	if err != nil || c.Upstreams[0].BaseURL != "http://localhost:7/v1" {
		t.Errorf("Parse = %v, %v", c, err)
	}
}

func BenchmarkParseFull(b *testing.B) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	opts := ParseOptions{Env: mapEnv(nil), ValidateOptions: ValidateOptions{DetectorTypes: testTypes}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseWithOptions("full.yaml", data, opts); err != nil {
			b.Fatal(err)
		}
	}
}
