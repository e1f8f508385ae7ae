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

	_ "github.com/rampartsec/rampart/detect/length"
	_ "github.com/rampartsec/rampart/detect/pii"
	_ "github.com/rampartsec/rampart/detect/secrets"
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
