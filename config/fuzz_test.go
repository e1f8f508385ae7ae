package config

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse checks that Parse never panics on arbitrary input, that every
// error is an ErrorList, and that a configuration it accepts prints
// (Marshal) to YAML that parses back to the same configuration.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	seeds = append(seeds, "default.yaml")
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		up,
		up + "detectors:\n  d:\n    type: length\n    options: &o {a: [1, 2.5, true, ~, '${X}', \"$$\"], b: *o}\n",
		up + "limits:\n  key: &k {concurrent: 1}\n  groups: {g: {<<: *k, max_tokens: 5}}\n",
		up + "server:\n  listen: ${PORT:-:8080}\n  max_body_bytes: ${SIZE}\n",
		up + "policies:\n  - name: p\n    input: [{detector: x, action: blok, threshold: 2}]\n",
		"a: [\n", "- !!binary aGVsbG8=\n", "%YAML 1.2\n---\na: 1\n", "? [a]\n: b\n",
		"a: &x [*x]\n", "upstreams: |\n  ${X}\n",
	} {
		f.Add([]byte(s))
	}
	env := mapEnv(map[string]string{"X": "x\ny: z", "PORT": ":9000", "SIZE": "1MiB", "OPENAI_BASE_URL": "http://localhost:1/v1"})
	opts := ParseOptions{Env: env, ValidateOptions: ValidateOptions{DetectorTypes: testTypes}}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseWithOptions("f.yaml", data, opts)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty ErrorList", err, err)
			}
			if c != nil {
				t.Fatal("config returned with an error")
			}
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := ParseWithOptions("printed.yaml", out, opts)
		if err != nil {
			t.Fatalf("printed config does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("round trip (-parsed +printed and parsed):\n%s\nprinted:\n%s", diff, out)
		}
	})
}

// FuzzMarshalRoundTrip puts arbitrary strings and numbers into keys that
// accept any value and checks that the printed configuration parses back
// to the same configuration: quoting, "$" escaping and YAML's implicit
// typing must not change a value on the way.
func FuzzMarshalRoundTrip(f *testing.F) {
	f.Add("rampart", "gpt-4.1", "x", int64(7), 0.5)
	f.Add("${X}", "a: b", "$$", int64(-1), 1e300)
	f.Add("yes", "null", "~", int64(0), 0.0)
	f.Add("line\nbreak: here # c", " lead", "'q\"", int64(1<<62), math.Copysign(0, -1))
	f.Add("0x10", "010", "1e3", int64(12), 3.25)
	f.Add("\t\x00\u2028", "\"", "- item", int64(5), 1e-9)
	opts := ParseOptions{Env: mapEnv(nil), ValidateOptions: ValidateOptions{DetectorTypes: testTypes}}
	f.Fuzz(func(t *testing.T, s1, s2, s3 string, n int64, x float64) {
		if !utf8.ValidString(s1) || !utf8.ValidString(s2) || !utf8.ValidString(s3) {
			t.Skip("YAML holds only UTF-8 text")
		}
		c, err := ParseWithOptions(DefaultName, defaultYAML, opts)
		if err != nil {
			t.Fatal(err)
		}
		if s1 != "" { // "" would mean the default
			c.Tracing.ServiceName = s1
		}
		c.Upstreams[0].Headers = map[string]string{"X-Custom": s2}
		c.Upstreams[0].QueryParams = map[string]string{"q" + s3: s1}
		c.Detectors["pii"] = Detector{Type: "pii", Options: map[string]any{
			s2: []any{s1, int(n), x, true, nil, map[string]any{s3: s3}},
		}}
		if s2 != "" {
			c.Aliases = map[string]Alias{s2: {Model: s1 + "m"}}
			c.Prices[s2] = Price{Input: float64(n & 0xffff), Output: 0.5}
		}
		c.Limits.Groups = map[string]LimitSet{s3: {RequestsPerMinute: int(n & 0xffffff)}}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := ParseWithOptions("printed.yaml", out, opts)
		if err != nil {
			t.Fatalf("printed config does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("round trip (-set +printed and parsed):\n%s\nprinted:\n%s", diff, out)
		}
	})
}
