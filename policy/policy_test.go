package policy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/policy"

	_ "github.com/rampartsec/rampart/detect/builtin"
)

// broken is a detector that always fails, to exercise fail-closed and
// fail-open handling.
type broken struct{}

func (broken) Name() string           { return "broken" }
func (broken) Rules() []*finding.Rule { return nil }
func (broken) Detect(context.Context, detect.Input) ([]detect.Hit, error) {
	return nil, errors.New("model unavailable")
}

func registry() *detect.Registry {
	reg := detect.NewRegistry()
	for _, typ := range detect.Default.Types() {
		reg.Register(typ, func(opts map[string]any) (detect.Detector, error) { return detect.Default.New(typ, opts) })
	}
	reg.Register("broken", func(map[string]any) (detect.Detector, error) { return broken{}, nil })
	return reg
}

func threshold(v float64) *float64 { return &v }

func testConfig() *config.Config {
	return &config.Config{
		Detectors: map[string]config.Detector{
			"secrets": {Type: "secrets"},
			"cards":   {Type: "pii", Options: map[string]any{"entities": []any{"credit_card"}}},
			"emails":  {Type: "pii", Options: map[string]any{"entities": []any{"email"}}},
			"size":    {Type: "length", Options: map[string]any{"max_bytes": 100}},
			"broken":  {Type: "broken"},
		},
		Policies: []config.Policy{
			{Name: "strict", Groups: []string{"untrusted"}, Input: []config.Rule{{Detector: "secrets", Action: "block"}, {Detector: "size", Action: "block"}}},
			{Name: "failing", Routes: []string{"/v1/embeddings"}, Input: []config.Rule{{Detector: "broken", Action: "log"}}},
			{Name: "failing-open", Routes: []string{"/v1/completions"}, OnError: "allow", Input: []config.Rule{{Detector: "broken", Action: "log"}, {Detector: "emails", Action: "flag"}}},
			{Name: "default", Input: []config.Rule{
				{Detector: "secrets", Action: "redact"},
				{Detector: "cards", Action: "flag"},
				{Detector: "emails", Action: "log", Threshold: threshold(1.01)},
			}},
		},
	}
}

func TestSelect(t *testing.T) {
	set, err := policy.Build(testConfig(), registry())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ route, group, want string }{
		{"/v1/chat/completions", "untrusted", "strict"},
		{"/v1/embeddings", "", "failing"},
		{"/v1/chat/completions", "", "default"},
		{"/v1/chat/completions", "other", "default"},
	}
	for _, tt := range tests {
		if got := set.Select(tt.route, tt.group); got == nil || got.Name != tt.want {
			t.Errorf("Select(%q, %q) = %v, want %s", tt.route, tt.group, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	set, err := policy.Build(testConfig(), registry())
	if err != nil {
		t.Fatal(err)
	}
	aws := "AKIA" + "QYLPMN5HFIQR7XYZ"
	card := "4111 1111 " + "1111 1111"
	tests := []struct {
		name     string
		policy   string
		texts    []string
		action   policy.Action
		blocked  bool
		failed   bool
		redacted map[int]string
		hits     int
	}{
		{name: "clean", policy: "default", texts: []string{"hello there"}, action: policy.None},
		{name: "redact secret in second text", policy: "default", texts: []string{"hi", "key " + aws + " end"}, action: policy.Redact,
			redacted: map[int]string{1: "key [REDACTED:AWS_ACCESS_KEY] end"}, hits: 1},
		{name: "flag card", policy: "default", texts: []string{"card " + card}, action: policy.Flag, hits: 1},
		{name: "below threshold ignored", policy: "default", texts: []string{"mail a@example.org"}, action: policy.None},
		{name: "block stops at first block", policy: "strict", texts: []string{"key " + aws, strings.Repeat("x", 500)}, action: policy.Block, blocked: true, hits: 1},
		{name: "size block", policy: "strict", texts: []string{strings.Repeat("x", 500)}, action: policy.Block, blocked: true, hits: 1},
		{name: "fail closed", policy: "failing", texts: []string{"anything"}, action: policy.Block, failed: true},
		{name: "fail open keeps checking", policy: "failing-open", texts: []string{"mail a@example.org"}, action: policy.Flag, hits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *policy.Policy
			for _, q := range set.Policies {
				if q.Name == tt.policy {
					p = q
				}
			}
			inputs := make([]detect.Input, len(tt.texts))
			for i, s := range tt.texts {
				inputs[i] = detect.Input{Text: s, Role: detect.RoleUser, Surface: detect.SurfacePrompt}
			}
			out := policy.Check(context.Background(), p.Input, inputs)
			if out.Action != tt.action {
				t.Fatalf("action %v, want %v (hits %+v, err %v)", out.Action, tt.action, out.Hits, out.Err)
			}
			if (out.Blocked != nil) != tt.blocked || (out.Failed != nil) != tt.failed {
				t.Fatalf("blocked %v failed %v", out.Blocked, out.Failed)
			}
			if len(out.Hits) != tt.hits {
				t.Fatalf("%d hits, want %d: %+v", len(out.Hits), tt.hits, out.Hits)
			}
			for i, want := range tt.redacted {
				if out.Redacted[i] != want {
					t.Fatalf("redacted[%d] = %q, want %q", i, out.Redacted[i], want)
				}
			}
			if len(out.Redacted) != len(tt.redacted) {
				t.Fatalf("redacted %v, want %v", out.Redacted, tt.redacted)
			}
			if tt.failed && !errors.Is(out.Err, policy.ErrDetector) {
				t.Fatalf("err = %v", out.Err)
			}
			if tt.policy == "failing-open" && len(out.Errors) != 1 {
				t.Fatalf("fail-open errors = %v", out.Errors)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	cfg := testConfig()
	cfg.Policies[0].Input[0].Action = "blok"
	if _, err := policy.Build(cfg, registry()); err == nil || !strings.Contains(err.Error(), `unknown action "blok"`) {
		t.Fatalf("err = %v", err)
	}
	cfg = testConfig()
	cfg.Policies[0].Input[0].Detector = "nope"
	if _, err := policy.Build(cfg, registry()); err == nil || !strings.Contains(err.Error(), `unknown detector "nope"`) {
		t.Fatalf("err = %v", err)
	}
	cfg = testConfig()
	cfg.Detectors["bad"] = config.Detector{Type: "pii", Options: map[string]any{"entities": []any{"nonsense"}}}
	if _, err := policy.Build(cfg, registry()); err == nil || !strings.Contains(err.Error(), `detector "bad"`) {
		t.Fatalf("err = %v", err)
	}
}

// scoped is a RequestScoped detector that reports the bound system prompt
// as a hit label.
type scoped struct{ system string }

func (scoped) Name() string           { return "scoped" }
func (scoped) Rules() []*finding.Rule { return nil }
func (s scoped) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	return []detect.Hit{{Start: 0, End: len(in.Text), Score: 1, Label: s.system}}, nil
}
func (scoped) ForRequest(system, _ string) detect.Detector { return scoped{system: system} }

func TestReplacementStyles(t *testing.T) {
	cfg := &config.Config{
		Detectors: map[string]config.Detector{
			"emails": {Type: "pii", Options: map[string]any{"entities": []any{"email"}}},
			"cards":  {Type: "pii", Options: map[string]any{"entities": []any{"credit_card"}}},
		},
		Policies: []config.Policy{
			{Name: "anon", Routes: []string{"/a"}, Input: []config.Rule{{Detector: "emails", Action: "anonymize"}, {Detector: "cards", Action: "redact", Redact: "hash"}}},
			{Name: "synth", Routes: []string{"/s"}, Input: []config.Rule{{Detector: "emails", Action: "redact", Redact: "synthetic"}}},
		},
	}
	set, err := policy.Build(cfg, registry())
	if err != nil {
		t.Fatal(err)
	}
	anon := set.Select("/a", "")
	if !anon.Anonymizes || anon.Canary {
		t.Fatalf("Anonymizes %v Canary %v", anon.Anonymizes, anon.Canary)
	}
	sess := set.NewSession()
	texts := []detect.Input{
		{Text: "mail jane@corp.example or bob@corp.example"},
		{Text: "card 4111 1111 1111 1111, again jane@corp.example"},
	}
	out := policy.CheckSession(context.Background(), anon.Input, texts, sess)
	if out.Action != policy.Anonymize {
		t.Fatalf("action %v", out.Action)
	}
	if got, want := out.Redacted[0], "mail <EMAIL_1> or <EMAIL_2>"; got != want {
		t.Errorf("text 0: %q, want %q", got, want)
	}
	got := out.Redacted[1]
	if !strings.HasPrefix(got, "card [CREDIT_CARD:") || !strings.HasSuffix(got, ", again <EMAIL_1>") {
		t.Errorf("text 1: %q", got)
	}
	if v, ok := sess.Vault.Lookup("<EMAIL_2>"); !ok || v != "bob@corp.example" {
		t.Errorf("vault: %q %v", v, ok)
	}
	synth := set.Select("/s", "")
	out = policy.Check(context.Background(), synth.Input, texts[:1])
	if r := out.Redacted[0]; strings.Contains(r, "corp.example") || strings.Count(r, "@example.com") != 2 {
		t.Errorf("synthetic: %q", r)
	}
}

func TestBuildRejectsMisplacedActions(t *testing.T) {
	reg := registry()
	reg.Register("scoped", func(map[string]any) (detect.Detector, error) { return scoped{}, nil })
	dets := map[string]config.Detector{"emails": {Type: "pii"}, "leak": {Type: "scoped"}}
	tests := []struct {
		name string
		pol  config.Policy
		want string
	}{
		{"anonymize output", config.Policy{Name: "p", Output: []config.Rule{{Detector: "emails", Action: "anonymize"}}}, "input rules only"},
		{"style without redact", config.Policy{Name: "p", Input: []config.Rule{{Detector: "emails", Action: "flag", Redact: "hash"}}}, "needs action: redact"},
		{"unknown style", config.Policy{Name: "p", Input: []config.Rule{{Detector: "emails", Action: "redact", Redact: "rot13"}}}, "unknown redaction style"},
		{"scoped on input", config.Policy{Name: "p", Input: []config.Rule{{Detector: "leak", Action: "block"}}}, "checks outputs"},
	}
	for _, tt := range tests {
		_, err := policy.Build(&config.Config{Detectors: dets, Policies: []config.Policy{tt.pol}}, reg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	set, err := policy.Build(&config.Config{Detectors: dets, Policies: []config.Policy{{Name: "p", Output: []config.Rule{{Detector: "leak", Action: "block"}, {Detector: "emails", Action: "flag"}}}}}, reg)
	if err != nil {
		t.Fatal(err)
	}
	p := set.Policies[0]
	if !p.Canary {
		t.Fatal("a RequestScoped output detector does not enable the canary")
	}
	bound := policy.ForRequest(p.Output, "the system prompt", "tok")
	hs, _ := bound[0].Detector.Detect(context.Background(), detect.Input{Text: "x"})
	if len(hs) != 1 || hs[0].Label != "the system prompt" || bound[1] != p.Output[1] || p.Output[0].Detector.(scoped).system != "" {
		t.Fatalf("ForRequest bound wrongly: %+v", hs)
	}
	if rules := p.Input; len(policy.ForRequest(rules, "s", "t")) != 0 {
		t.Fatal("ForRequest of no rules")
	}
}
