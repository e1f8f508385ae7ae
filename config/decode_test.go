package config

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"600", 600, true},
		{"+12", 12, true},
		{"-7", -7, true},
		{"010", 10, true}, // YAML 1.2: decimal, not octal
		{"0x10", 16, true},
		{"0o17", 15, true},
		{"1_000_000", 1_000_000, true},
		{"1e6", 1_000_000, true},
		{"1.0", 1, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"1.5", 0, false},
		{"1e30", 0, false},
		{"", 0, false},
		{"ten", 0, false},
		{"0x", 0, false},
		{".inf", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseInt(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseFloat(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.5", 0.5, true},
		{".5", 0.5, true},
		{"1", 1, true},
		{"-2.5e-3", -0.0025, true},
		{"0x10", 16, true},
		{".inf", math.Inf(1), true},
		{"-.Inf", math.Inf(-1), true},
		{"inf", 0, false},
		{"NaN", 0, false},
		{"1,5", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseFloat(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseFloat(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if f, ok := parseFloat(".nan"); !ok || !math.IsNaN(f) {
		t.Errorf("parseFloat(.nan) = %v, %v", f, ok)
	}
}

func TestInferPlain(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"", nil},
		{"~", nil},
		{"null", nil},
		{"NULL", nil},
		{"true", true},
		{"False", false},
		{"yes", "yes"},
		{"off", "off"},
		{"42", 42},
		{"-1", -1},
		{"007", 7},
		{"0x1F", 31},
		{"1_000", 1000},
		{"2.5", 2.5},
		{"1e3", 1000.0},
		{" 5", " 5"},
		{"5 ", "5 "},
		{"1.2.3", "1.2.3"},
		{"99999999999999999999", 1e20},
		{"email", "email"},
	}
	for _, tt := range tests {
		if got := inferPlain(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("inferPlain(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestKeyPaths(t *testing.T) {
	tests := []struct {
		parent, key, want string
	}{
		{"", "server", "server"},
		{"server", "listen", "server.listen"},
		{"prices", "gpt-4o", "prices.gpt-4o"},
		{"prices", "gpt-4.1", `prices["gpt-4.1"]`},
		{"aliases", "", `aliases[""]`},
		{"headers", `a"b`, `headers["a\"b"]`},
	}
	for _, tt := range tests {
		got := joinKey(tt.parent, tt.key)
		if got != tt.want {
			t.Errorf("joinKey(%q, %q) = %q, want %q", tt.parent, tt.key, got, tt.want)
		}
		if p := parentPath(got); p != tt.parent {
			t.Errorf("parentPath(%q) = %q, want %q", got, p, tt.parent)
		}
	}
	for in, want := range map[string]string{
		"policies[0].input[1].action": "policies[0].input[1]",
		"policies[0].input[1]":        "policies[0].input",
		"policies[0]":                 "policies",
		"policies":                    "",
	} {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"listen", "max_body_bytes", "idle_timeout", "tls_cert_file", "tls_key_file"}
	tests := []struct{ in, want string }{
		{"lisen", "listen"},
		{"Listen", "listen"},
		{"max_body_byte", "max_body_bytes"},
		{"idle_timout", "idle_timeout"},
		{"tls_cert", ""},
		{"port", ""},
		{"x", ""},
		{strings.Repeat("a", 100), ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, names); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoteShort(t *testing.T) {
	if got := quoteShort("abc"); got != `"abc"` {
		t.Errorf("quoteShort = %s", got)
	}
	long := strings.Repeat("é", 40) // 80 bytes
	got := quoteShort(long)
	if !strings.HasSuffix(got, `…"`) || len(got) > 70 || strings.ContainsRune(got, '\uFFFD') || strings.Contains(got, `\x`) {
		t.Errorf("quoteShort(long) = %s", got)
	}
}

// TestDecodeKinds checks keys and values of the less common shapes.
func TestDecodeKinds(t *testing.T) {
	src := up + `prices:
  123: {input: 1, output: 2}
  "gpt-4.1": {input: !!float 3, output: 4}
  ? complex-key
  : {input: 5}
limits:
  redis:
    tls: !!bool true
    prefix: !!str 123
    addr: |-
      localhost:6379
detectors:
  d:
    type: length
    options:
      nested: {list: [1, {a: b}], "null": ~, tagged: !!str 5}
`
	c, err := parseTest(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantPrices := map[string]Price{"123": {1, 2}, "gpt-4.1": {3, 4}, "complex-key": {Input: 5}}
	if diff := cmp.Diff(wantPrices, c.Prices); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	if !c.Limits.Redis.TLS || c.Limits.Redis.Prefix != "123" || c.Limits.Redis.Addr != "localhost:6379" {
		t.Errorf("redis = %+v", c.Limits.Redis)
	}
	wantOpts := map[string]any{"nested": map[string]any{"list": []any{1, map[string]any{"a": "b"}}, "null": nil, "tagged": "5"}}
	if diff := cmp.Diff(wantOpts, c.Detectors["d"].Options, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

func TestNullValues(t *testing.T) {
	src := up + "server:\n  listen:\n  max_body_bytes: ~\nauth:\n  jwt:\nlimits: null\npolicies:\n"
	c, err := parseTest(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:8080" || c.Server.MaxBodyBytes != 4*MiB || c.Auth.JWT != nil || c.Limits.MaxMessages != 1000 {
		t.Errorf("nulls did not give defaults: %+v %+v", c.Server, c.Auth)
	}
}

func TestValidateSizes(t *testing.T) {
	c := &Config{Upstreams: []Upstream{{Name: "a", BaseURL: "http://localhost/v1"}}}
	c.ApplyDefaults()
	c.Server.MaxBodyBytes = -1
	err := c.Validate(ValidateOptions{})
	if err == nil || err.Error() != "server.max_body_bytes: must be positive" {
		t.Errorf("err = %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@host/v1":  "https://REDACTED@host/v1",
		"https://host/v1?x=a@b":    "https://host/v1?x=a@b",
		"ftp://u:p@h":              "ftp://REDACTED@h",
		"no scheme":                "no scheme",
		"http://a@b@host/path@x/y": "http://REDACTED@host/path@x/y",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
