package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testEmail = "alice.smith@example.com"

func TestCheckText(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		contains []string
	}{
		{"args, table", []string{"--detector", "pii", "write", "to", testEmail, "today"}, "", 1,
			[]string{"pii.email", "EMAIL", "(23 bytes)", "FLAGGED: score 0.95"}},
		{"stdin", []string{"--detector", "pii"}, "mail " + testEmail + "\n", 1, []string{"pii.email"}},
		{"clean", []string{"--detector", "pii", "--detector", "secrets", "nothing", "here"}, "", 0,
			[]string{"no findings", "not flagged", "pii 0.50, secrets 0.50"}},
		{"below threshold", []string{"--detector", "score", "s=0.3 hi"}, "", 0, []string{"score.fixed", "not flagged: score 0.30"}},
		{"calibrated threshold", []string{"--detector", "score", "--option", "threshold_pct=20", "s=0.3 hi"}, "", 1, []string{"FLAGGED", "score 0.20"}},
		{"--threshold wins", []string{"--detector", "score", "--option", "threshold_pct=20", "--threshold", "0.4", "s=0.3 hi"}, "", 0, []string{"not flagged", "score 0.40"}},
		{"unknown detector", []string{"--detector", "nope", "x"}, "", 2, []string{`unknown detector type "nope"`}},
		{"bad option", []string{"--detector", "score", "--option", "colour=red", "x"}, "", 2, []string{`unknown option "colour"`}},
		{"option syntax", []string{"--detector", "score", "--option", "novalue", "x"}, "", 2, []string{"want key=value"}},
		{"bad role", []string{"--detector", "pii", "--role", "boss", "x"}, "", 2, []string{"--role"}},
		{"bad flag", []string{"--detector", "pii", "--nope"}, "", 2, []string{"unknown flag"}},
		{"invalid utf-8", []string{"--detector", "pii"}, "\xff\xfe", 2, []string{"not valid UTF-8"}},
		{"detector error", []string{"--detector", "score", "s=0.x"}, "", 2, []string{"bad score"}},
		{"default detectors", []string{"call " + testEmail}, "", 1, []string{"pii.email", "pii 0.50, score 0.50, secrets 0.50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := run(t, newCheckCmd(testRegistry(t)), tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, c := range tt.contains {
				if !strings.Contains(out, c) {
					t.Errorf("output lacks %q:\n%s", c, out)
				}
			}
			if strings.Contains(out, testEmail) {
				t.Errorf("output shows the matched value:\n%s", out)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	out, code := run(t, newCheckCmd(testRegistry(t)), "", "--detector", "pii", "--format", "json", "to "+testEmail)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var res struct {
		Score    float64
		Flagged  bool
		Findings []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !res.Flagged || res.Score != 0.95 || len(res.Findings) != 1 {
		t.Fatalf("result %+v", res)
	}
	f := res.Findings[0]
	for k, v := range map[string]any{"detector": "pii", "rule_id": "pii.email", "severity": "medium", "label": "EMAIL", "start": 3.0, "end": 26.0, "score": 0.95} {
		if f[k] != v {
			t.Errorf("finding %s = %v, want %v", k, f[k], v)
		}
	}
	if ex, _ := f["excerpt"].(string); ex == "" || strings.Contains(ex, "alice") {
		t.Errorf("excerpt %q", ex)
	}
}

func TestCheckJSONL(t *testing.T) {
	in := strings.Join([]string{
		`{"text":"s=0.9 first"}`,
		`{"text":"s=0.2 second","label":"benign"}`,
		``,
		`{"text":42}`,
		`{"text":"s=0.6 doc","role":"document"}`,
		`{"oops":"no text"}`,
		`{"text":"s=0.1 last"}`,
	}, "\n") + "\n"
	out, code := run(t, newCheckCmd(testRegistry(t)), in, "--detector", "score", "--jsonl")
	if code != 2 {
		t.Errorf("exit %d, want 2 (error lines)", code)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	want := []string{
		`{"score":0.9,"flagged":true,`,
		`{"score":0.2,"flagged":false,`,
		`{"error":"line 3: empty line"}`,
		`{"error":"line 4: field \"text\": not a string"}`,
		`{"score":0.6,"flagged":true,`,
		`{"error":"line 6: missing \"text\" field"}`,
		`{"score":0.1,"flagged":false,`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %s, want prefix %s", i+1, lines[i], want[i])
		}
	}
	if !strings.Contains(out, "error: 3 of 7 lines could not be checked") {
		t.Errorf("no summary error:\n%s", out)
	}
	// All good and one flagged: exit 1; none flagged: exit 0.
	if _, code := run(t, newCheckCmd(testRegistry(t)), "{\"text\":\"s=0.9 a\"}\n", "--detector", "score", "--jsonl"); code != 1 {
		t.Errorf("flagged: exit %d", code)
	}
	if _, code := run(t, newCheckCmd(testRegistry(t)), "{\"text\":\"s=0.1 a\"}\n", "--detector", "score", "--jsonl"); code != 0 {
		t.Errorf("clean: exit %d", code)
	}
	if out, code := run(t, newCheckCmd(testRegistry(t)), "", "--detector", "score", "--jsonl", "text"); code != 2 {
		t.Errorf("--jsonl with args: exit %d\n%s", code, out)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rampart.yaml")
	// A configured detector name, its options, and the lowest threshold of
	// the rules using it.
	err := os.WriteFile(cfg, []byte(`upstreams:
  - name: up
    base_url: http://127.0.0.1:1/v1
    api_key: env:RAMPART_TEST_NO_SUCH_VAR
    models: ["*"]
detectors:
  mails:
    type: pii
    options: {entities: [email]}
policies:
  - name: p
    input:
      - {detector: mails, action: flag, threshold: 0.99}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	reg := testRegistry(t)
	out, code := run(t, newCheckCmd(reg), "", "--config", cfg, "to "+testEmail)
	if code != 0 || !strings.Contains(out, "mails 0.99") || !strings.Contains(out, "pii.email") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, code = run(t, newCheckCmd(reg), "", "--config", cfg, "--detector", "mails", "--threshold", "0.9", "to "+testEmail)
	if code != 1 {
		t.Errorf("--threshold 0.9: exit %d:\n%s", code, out)
	}
	// The configured options apply: only e-mail addresses.
	out, _ = run(t, newCheckCmd(reg), "", "--config", cfg, "card 4111 1111 1111 1111")
	if strings.Contains(out, "credit") {
		t.Errorf("configured entities ignored:\n%s", out)
	}
}

func TestCheckContextFlags(t *testing.T) {
	reg := testRegistry(t)
	out, _ := run(t, newCheckCmd(reg), "", "--detector", "context", "hello")
	if !strings.Contains(out, "user/prompt") {
		t.Errorf("defaults:\n%s", out)
	}
	out, _ = run(t, newCheckCmd(reg), "", "--detector", "context", "--role", "assistant", "--surface", "response", "hello")
	if !strings.Contains(out, "assistant/response") {
		t.Errorf("flags:\n%s", out)
	}
	// In --jsonl mode a row's role wins over --role.
	out, _ = run(t, newCheckCmd(reg), "{\"text\":\"a\"}\n{\"text\":\"b\",\"role\":\"document\"}\n",
		"--detector", "context", "--jsonl", "--role", "tool", "--surface", "file")
	if !strings.Contains(out, `"label":"tool/file"`) || !strings.Contains(out, `"label":"document/file"`) {
		t.Errorf("jsonl:\n%s", out)
	}
}
