package finding

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	// Decode as a script would, without this package's types.
	var doc struct {
		SchemaVersion int      `json:"schema_version"`
		Tool          string   `json:"tool"`
		Version       string   `json:"version"`
		Targets       []string `json:"targets"`
		Started       string   `json:"started"`
		DurationMS    float64  `json:"duration_ms"`
		Summary       struct {
			Total       int            `json:"total"`
			MaxSeverity string         `json:"max_severity"`
			BySeverity  map[string]int `json:"by_severity"`
			ByLayer     []struct {
				Layer     int    `json:"layer"`
				LayerName string `json:"layer_name"`
				Total     int    `json:"total"`
			} `json:"by_layer"`
		} `json:"summary"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != 1 || doc.Tool != "rampart" || doc.Version != "0.1.0" || len(doc.Targets) != 2 {
		t.Errorf("header = %+v", doc)
	}
	if doc.Started != "2026-11-27T09:30:00Z" || doc.DurationMS != 1234.56789 {
		t.Errorf("started %q duration_ms %v", doc.Started, doc.DurationMS)
	}
	if doc.Summary.Total != 8 || doc.Summary.MaxSeverity != "critical" || doc.Summary.BySeverity["high"] != 3 || len(doc.Summary.BySeverity) != 5 {
		t.Errorf("summary = %+v", doc.Summary)
	}
	if len(doc.Summary.ByLayer) != 7 || doc.Summary.ByLayer[4].LayerName != "infrastructure" || doc.Summary.ByLayer[4].Total != 2 {
		t.Errorf("by_layer = %+v", doc.Summary.ByLayer)
	}
	severities := map[string]bool{"info": true, "low": true, "medium": true, "high": true, "critical": true}
	for i, f := range doc.Findings {
		if sev, _ := f["severity"].(string); !severities[sev] {
			t.Errorf("finding %d: severity %v", i, f["severity"])
		}
		if id, _ := f["rule_id"].(string); id == "" {
			t.Errorf("finding %d: no rule_id", i)
		}
		for _, k := range []string{"title", "confidence", "layer", "layer_name", "location", "references", "fingerprint"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding %d (%v): no %s", i, f["rule_id"], k)
			}
		}
		refs := f["references"].(map[string]any)
		for _, k := range []string{"owasp", "atlas", "cwe"} {
			if _, ok := refs[k].([]any); !ok {
				t.Errorf("finding %d: references.%s is %v, want an array", i, k, refs[k])
			}
		}
		if fp, _ := f["fingerprint"].(string); len(fp) != 32 {
			t.Errorf("finding %d: fingerprint %q", i, fp)
		}
	}
	first := doc.Findings[0]
	loc := first["location"].(map[string]any)
	if first["rule_id"] != "secrets.aws-access-key" || first["layer"] != 5.0 || first["layer_name"] != "infrastructure" ||
		loc["path"] != "config/prod.env" || loc["line"] != 3.0 || loc["display"] != "config/prod.env:3:9" {
		t.Errorf("first finding = %v", first)
	}
}

func TestJSONEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &Report{}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if f, ok := doc["findings"].([]any); !ok || len(f) != 0 {
		t.Errorf("findings = %#v, want []", doc["findings"])
	}
	if tg, ok := doc["targets"].([]any); !ok || len(tg) != 0 {
		t.Errorf("targets = %#v, want []", doc["targets"])
	}
	if _, ok := doc["started"]; ok {
		t.Error("unknown start time written")
	}
	if _, ok := doc["summary"].(map[string]any)["max_severity"]; ok {
		t.Error("max_severity written for an empty report")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range reportCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.report()
			var buf bytes.Buffer
			if err := WriteJSON(&buf, r); err != nil {
				t.Fatal(err)
			}
			got, err := ReadJSON(&buf)
			if err != nil {
				t.Fatal(err)
			}
			want := *r
			want.Findings = append([]Finding(nil), r.Findings...)
			Sort(want.Findings)
			for i := range want.Findings {
				want.Findings[i].Fingerprint = fingerprintOf(&want.Findings[i])
				// JSON carries excerpts as UTF-8 text.
				want.Findings[i].Excerpt = validUTF8(want.Findings[i].Excerpt)
				want.Findings[i].Location.Path = validUTF8(want.Findings[i].Location.Path)
			}
			want.Rules = nil
			want.Started = r.Started.UTC()
			if r.Started.IsZero() {
				want.Started = time.Time{}
			}
			if diff := cmp.Diff(&want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func TestReadJSONErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	tests := []struct {
		name, doc, want string
	}{
		{"not json", "nope", "invalid character"},
		{"truncated", good[:len(good)/2], "unexpected EOF"},
		{"trailing data", good + "{}", "unexpected data after the report"},
		{"schema version", strings.Replace(good, `"schema_version": 1`, `"schema_version": 2`, 1), "schema_version 2 not supported"},
		{"no schema version", strings.Replace(good, `"schema_version": 1,`, ``, 1), "schema_version 0 not supported"},
		{"bad severity", strings.Replace(good, `"severity": "critical"`, `"severity": "urgent"`, 1), `unknown severity "urgent"`},
		{"no severity", strings.Replace(good, `"severity": "critical",`, ``, 1), "no severity"},
		{"bad layer", strings.Replace(good, "\n      \"layer\": 5,", "\n      \"layer\": 9,", 1), "invalid layer 9"},
		{"no rule id", strings.Replace(good, `"rule_id": "secrets.aws-access-key",`, ``, 1), "empty rule id"},
		{"negative duration", strings.Replace(good, `"duration_ms": 1234.56789`, `"duration_ms": -1`, 1), "duration_ms -1 out of range"},
		{"huge duration", strings.Replace(good, `"duration_ms": 1234.56789`, `"duration_ms": 1e300`, 1), "out of range"},
		{"confidence", strings.Replace(good, `"confidence": 0.98`, `"confidence": 2`, 1), "confidence 2 out of range"},
		{"bad time", strings.Replace(good, `"started": "2026-11-27T09:30:00Z"`, `"started": "yesterday"`, 1), "cannot parse"},
		{"findings not an array", `{"schema_version":1,"findings":{}}`, "cannot unmarshal object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.doc == good {
				t.Fatal("the test did not change the document")
			}
			_, err := ReadJSON(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadJSON = %v, want an error containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "read json report: ") {
				t.Errorf("error %q lacks context", err)
			}
		})
	}
}
