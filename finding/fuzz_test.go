package finding

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadJSON feeds ReadJSON arbitrary bytes. It must never panic, and a
// report it accepts must write and read back to the same document.
func FuzzReadJSON(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema_version":1,"findings":[{"rule_id":"r","severity":"high","layer":3,"confidence":1,"location":{"span":{"start":1,"end":0}}}]}`))
	f.Add([]byte(`{"schema_version":1,"duration_ms":9.3e15,"findings":null}`))
	f.Add([]byte(`{"schema_version":1}  {"schema_version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := WriteJSON(&first, r); err != nil {
			t.Fatalf("ReadJSON accepted a report WriteJSON rejects: %v", err)
		}
		back, err := ReadJSON(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("ReadJSON rejects what WriteJSON wrote: %v\n%s", err, first.Bytes())
		}
		var second bytes.Buffer
		if err := WriteJSON(&second, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("JSON not stable across a round trip:\n%s", firstDiff(first.String(), second.String()))
		}
	})
}

// FuzzWriters feeds every writer findings made of arbitrary strings. No
// writer may panic or fail on a valid report; JSON and SARIF must stay
// valid (SARIF against the schema subset), HTML must escape every string
// and the table must never pass a control character through.
func FuzzWriters(f *testing.F) {
	f.Add("secrets.aws", "AWS key", "a/b.py", "AKIA****", "", "req_1", 3, 4, int64(0), uint8(Critical), uint8(LayerInfrastructure))
	f.Add("x.<script>", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "</code><script>", "messages[0]", "", 0, 0, int64(10), uint8(High), uint8(LayerOutput))
	f.Add("r", "\x1b[2J", "bad\xffpath", "\u202eevil\r\n", "f", "req\x00", 1, 1, int64(0), uint8(Info), uint8(LayerHumans))
	f.Add("r", "中文", "C:/x/路径.txt", strings.Repeat("鍵", 300), "", "", 0, 0, int64(0), uint8(Low), uint8(LayerTrainingData))
	f.Add("r", "t", "hf://org/m", "", "", "", 0, 0, int64(1)<<40, uint8(Medium), uint8(LayerModelWeights))
	f.Fuzz(func(t *testing.T, rule, title, path, excerpt, field, request string, line, col int, offset int64, sev, layer uint8) {
		fi := Finding{
			RuleID: rule, Title: title, Severity: Severity(sev % 5), Layer: Layer(layer%7 + 1), Confidence: 0.5,
			Location: Location{Path: path, Line: line, Column: col, Offset: offset, Field: field, RequestID: request},
			Excerpt:  excerpt, Remediation: title, References: References{OWASP: []string{title}, CWE: []string{rule}},
		}
		r := &Report{Tool: "rampart", Command: title, Targets: []string{path}, Findings: []Finding{fi, fi}}
		if err := r.Validate(); err != nil {
			return
		}
		for fm := FormatTable; fm <= FormatHTML; fm++ {
			var buf bytes.Buffer
			if err := Write(&buf, fm, r); err != nil {
				t.Fatalf("Write(%v): %v", fm, err)
			}
			out := buf.String()
			switch fm {
			case FormatTable:
				for _, c := range out {
					if (c < 0x20 && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u202e' {
						t.Fatalf("table passes %U through", c)
					}
				}
			case FormatJSON:
				if !json.Valid(buf.Bytes()) {
					t.Fatal("invalid JSON")
				}
			case FormatSARIF:
				doc := decodeSARIF(t, buf.Bytes())
				if errs := checkSchema(doc, "sarifLog"); len(errs) > 0 {
					t.Fatalf("SARIF schema: %v", errs)
				}
				if errs := githubProblems(doc); len(errs) > 0 {
					t.Fatalf("SARIF for GitHub: %v", errs)
				}
			case FormatHTML:
				if strings.Contains(strings.ToLower(out), "<script") {
					t.Fatal("HTML contains <script")
				}
			}
		}
	})
}
