package finding

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change):\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + w + "\ngot:  " + g
		}
	}
	return "(same lines, different bytes)"
}

var (
	ruleAWS = Rule{
		ID: "secrets.aws-access-key", Title: "AWS access key", Layer: LayerInfrastructure, Severity: Critical,
		Remediation: "Revoke the key in IAM, rotate it, and load it from a secret store.",
		References:  References{OWASP: []string{"LLM02:2025"}, CWE: []string{"CWE-798"}},
	}
	ruleInjection = Rule{
		ID: "injection.ignore-previous", Title: "Instruction override attempt", Layer: LayerInferenceAPI, Severity: High,
		Remediation: "Block the request or isolate untrusted content from instructions.",
		References:  References{OWASP: []string{"LLM01:2025"}, ATLAS: []string{"AML.T0051.000"}},
	}
	// ruleUnused is declared by a producer but has no finding.
	ruleUnused = Rule{
		ID: "toxicity.slur", Title: "Slur in output", Layer: LayerOutput, Severity: Medium,
		Remediation: "Redact or block the response.",
	}
)

// sampleReport has one finding of every kind of location and every
// severity, in no particular order.
func sampleReport() *Report {
	started := time.Date(2026, 11, 27, 10, 30, 0, 0, time.FixedZone("CET", 3600))
	pii := Rule{ID: "pii.email", Title: "Email address", Layer: LayerTrainingData, Severity: Medium,
		Remediation: "Redact personal data before training.",
		References:  References{OWASP: []string{"LLM02:2025"}, CWE: []string{"CWE-359"}}}
	pickle := Rule{ID: "model.pickle-global", Title: "Pickle imports a dangerous callable", Layer: LayerModelWeights, Severity: High,
		Remediation: "Load weights as safetensors; never unpickle untrusted models.",
		References:  References{OWASP: []string{"LLM03:2025"}, ATLAS: []string{"AML.T0010"}, CWE: []string{"CWE-502"}}}
	unpinned := Rule{ID: "deps.unpinned", Title: "Unpinned dependency", Layer: LayerSupplyChain, Severity: Low,
		Remediation: "Pin an exact version and a hash.",
		References:  References{OWASP: []string{"LLM03:2025"}, CWE: []string{"CWE-1104"}}}
	leak := Rule{ID: "output.system-prompt-leak", Title: "System prompt echoed", Layer: LayerOutput, Severity: Info,
		References: References{OWASP: []string{"LLM07:2025"}}}
	generic := Rule{ID: "secrets.generic-api-key", Title: "Generic API key", Layer: LayerInfrastructure, Severity: High,
		Remediation: "Rotate the key and purge it from history."}
	phone := Rule{ID: "pii.phone-number", Title: "Phone number", Layer: LayerTrainingData, Severity: Low}

	awsLoc := Location{Path: "config/prod.env", Line: 3, Column: 9}
	aws := New(&ruleAWS, awsLoc, 0.98, "AKIA************MPLE")
	aws.Detector = "secrets"
	aws.Fingerprint = Fingerprint(ruleAWS.ID, awsLoc, "AKIAIOSFODNN7EXAMPLE")

	inj := New(&ruleInjection, Location{RequestID: "req_01HF3", Field: "messages[2].content", Span: &Span{Start: 10, End: 48}}, 0.91,
		"Ignore all previous instructions and …")
	inj.Detector = "injection"
	inj.Message = "The user message tries to override the system prompt."

	email := New(&pii, Location{Path: "data/train.jsonl", Row: 1042, Field: "text", Span: &Span{Start: 5, End: 22}}, 0.99, "j***@example.com")
	email.Detector = "pii"

	pk := New(&pickle, Location{Path: "models/classifier.pt", Offset: 4096, Span: &Span{Start: 2, End: 11}}, 1, "os.system")
	pk.Detector = "modelscan"

	dep := New(&unpinned, Location{Path: "requirements.txt", Line: 7}, 1, "numpy>=1.0")

	lk := New(&leak, Location{RequestID: "req_02AB", Field: "choices[0].message.content"}, 0.6, "You are a helpful assistant for ACME…")
	lk.Severity = Info

	hist := New(&generic, Location{Path: "app/settings.py", Line: 12, Column: 5, Commit: "0123456789abcdef0123456789abcdef01234567"}, 0.8, "sk_live_****************9f2a")
	hist.Fingerprint = Fingerprint(generic.ID, hist.Location, "sk_live_not-a-real-key-9f2a")

	ph := New(&phone, Location{Path: "docs/naïve file #1.md", Line: 2, Column: 14}, 0.7, "電話 +81-**-****-5678")

	return &Report{
		Tool:     "rampart",
		Version:  "0.1.0",
		Command:  "scan all",
		Targets:  []string{".", "s3://bucket/train"},
		Started:  started,
		Duration: 1234567890 * time.Nanosecond,
		// Deliberately not in report order.
		Findings: []Finding{dep, lk, email, aws, ph, inj, hist, pk},
		// Rules lacks most of the rules the findings use: those are
		// synthesised in SARIF.
		Rules: []Rule{ruleInjection, ruleUnused, ruleAWS, ruleAWS},
	}
}

// hostileReport carries text meant to break each format: markup, terminal
// escapes, bidirectional overrides, invalid UTF-8, wide characters and
// combining marks.
func hostileReport() *Report {
	r := &Rule{ID: "xss.<script>", Title: `<img src=x onerror=alert(1)> "quoted" & 'single'`, Layer: LayerOutput, Severity: High,
		Remediation: "<b>bold</b> [link](javascript:alert(1))",
		References:  References{OWASP: []string{"LLM05:2025", `"><script>`}, CWE: []string{"CWE-79"}}}
	fs := []Finding{
		New(r, Location{Path: "<script>alert(1)</script>/x.html", Line: 1, Column: 1}, 0.5, "<script>alert(1)</script>"),
		New(r, Location{RequestID: "req_\x1b[31mred", Field: "messages[0].content"}, 0.5, "clear\x1b[2J\x1b]0;title\x07 bell\r\nnext\tline"),
		New(r, Location{Path: "src/admin\u202e.txt", Line: 4}, 0.5, "access\u202e level \u2066hidden\u2069 zero\u200bwidth"),
		New(r, Location{Path: "bad\xffutf8.txt", Line: 1}, 0.5, "bad \xfe\xff bytes"),
		New(r, Location{Path: "cjk/中文路径/文件.txt", Line: 9, Column: 3}, 0.5, "密钥 = 鍵********値 😀 e\u0301te\u0301"),
	}
	return &Report{Tool: "rampart", Version: "0.1.0", Command: "scan <script>", Targets: []string{"</title><script>alert(1)</script>"}, Findings: fs}
}

// longReport has very long excerpts, titles, rule ids and paths.
func longReport() *Report {
	long := strings.Repeat("A very long excerpt that goes on. ", 300)
	r := &Rule{ID: "detector." + strings.Repeat("long-", 20) + "rule", Title: strings.Repeat("Long title ", 30), Layer: LayerOutput, Severity: Medium,
		Remediation: strings.Repeat("Do the thing. ", 20)}
	path := strings.Repeat("deeply/nested/", 12) + "file.txt"
	return &Report{Tool: "rampart", Version: "0.1.0", Findings: []Finding{
		New(r, Location{Path: path, Line: 123456, Column: 78}, 0.5, long),
		New(r, Location{Path: "short.txt", Line: 1}, 0.5, strings.Repeat("鍵", 2000)),
	}}
}

func emptyReport() *Report {
	return &Report{Tool: "rampart", Version: "0.1.0", Command: "scan secrets", Targets: []string{"."},
		Started: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), Duration: 42 * time.Millisecond}
}

var reportCases = []struct {
	name   string
	report func() *Report
}{
	{"empty", emptyReport},
	{"sample", sampleReport},
	{"hostile", hostileReport},
	{"long", longReport},
}

var formatExt = map[Format]string{FormatTable: "txt", FormatJSON: "json", FormatSARIF: "sarif", FormatHTML: "html"}

func TestGolden(t *testing.T) {
	for _, tc := range reportCases {
		for f := FormatTable; f <= FormatHTML; f++ {
			t.Run(tc.name+"."+f.String(), func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(&buf, f, tc.report()); err != nil {
					t.Fatalf("Write: %v", err)
				}
				golden(t, tc.name+"."+formatExt[f], buf.Bytes())
			})
		}
	}
	t.Run("sample.color", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteText(&buf, sampleReport(), TextOptions{Color: true}); err != nil {
			t.Fatal(err)
		}
		golden(t, "sample.color.txt", buf.Bytes())
	})
}

// TestStreamingMatchesMarshalIndent checks that the streamed JSON and SARIF
// documents are exactly what json.MarshalIndent makes of the same document.
func TestStreamingMatchesMarshalIndent(t *testing.T) {
	for _, tc := range reportCases {
		switch tc.name {
		case "empty": // MarshalIndent would omit the empty array.
			continue
		case "hostile": // Invalid UTF-8 is written as \ufffd but decodes to U+FFFD.
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				f   Format
				doc any
			}{{FormatJSON, &jsonReport{}}, {FormatSARIF, &sarifLog{}}} {
				var buf bytes.Buffer
				if err := Write(&buf, c.f, tc.report()); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(buf.Bytes(), c.doc); err != nil {
					t.Fatal(err)
				}
				want, err := json.MarshalIndent(c.doc, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, '\n')
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%v: streamed output differs from MarshalIndent:\n%s", c.f, firstDiff(string(want), buf.String()))
				}
			}
		})
	}
}
