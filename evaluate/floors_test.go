package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func testRegistry() *detect.Registry {
	reg := detect.NewRegistry()
	reg.Register("fake", func(opts map[string]any) (detect.Detector, error) {
		o := detect.Options(opts)
		if err := o.Check("threshold_pct"); err != nil {
			return nil, err
		}
		pct, err := o.Int("threshold_pct", 50)
		if err != nil {
			return nil, err
		}
		return &scorer{thr: float64(pct) / 100}, nil
	})
	return reg
}

func TestLoadFloorsErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "floors:\n  - detector: fake\n    data: d.jsonl\n    minimum: {f1: 0.5}\n", "minimum"},
		{"unknown figure", "floors:\n  - detector: fake\n    data: d.jsonl\n    min: {f2: 0.5}\n", `unknown figure "f2"`},
		{"out of range", "floors:\n  - detector: fake\n    data: d.jsonl\n    min: {f1: 95}\n", "outside [0, 1]"},
		{"no data", "floors:\n  - detector: fake\n", "detector and data are required"},
		{"bad role", "floors:\n  - detector: fake\n    data: d\n    role: boss\n", `role "boss"`},
		{"bad surface", "floors:\n  - detector: fake\n    data: d\n    surface: chat\n", `surface "chat"`},
		{"bad group", "floors:\n  - detector: fake\n    data: d\n    groups: [{by: colour, value: x}]\n", "by must be"},
		{"bad group figure", "floors:\n  - detector: fake\n    data: d\n    groups: [{by: family, value: x, max: {auc: 1}}]\n", `unknown figure "auc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "floors.yaml", tt.yaml)
			_, err := LoadFloors(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFloorsRun(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "dev.jsonl", classData)
	// Measured at 0.5 (TestEvaluateClassification): precision 0.5, recall
	// 2/3, f1 4/7, fpr 2/3, roc_auc 7/9; family b fpr 2/3.
	p := writeFile(t, dir, "floors.yaml", `floors:
  - detector: fake
    data: dev.jsonl
    positive: [injection, jailbreak]
    min: {precision: 0.5, recall: 0.66, roc_auc: 0.77}
  - detector: fake
    data: dev.jsonl
    positive: [injection, jailbreak]
    min: {f1: 0.6, span_f1: 0.1}
    max: {fpr: 0.5}
    groups:
      - {by: family, value: b, max: {fpr: 0.6}}
      - {by: family, value: a, min: {recall: 0.5}}
      - {by: lang, value: fr, min: {recall: 0.5}}
  - detector: fake
    data: dev.jsonl
    options: {threshold_pct: 65}
    positive: [injection, jailbreak]
    min: {precision: 1}
  - detector: missing
    data: dev.jsonl
    min: {f1: 0.1}
  - detector: fake
    data: nowhere.jsonl
    min: {f1: 0.1}
`)
	f, err := LoadFloors(p)
	if err != nil {
		t.Fatal(err)
	}
	out := f.Run(context.Background(), testRegistry(), nil)
	if len(out) != 5 {
		t.Fatalf("%d outcomes", len(out))
	}
	got := make([][]string, len(out))
	for i, o := range out {
		for _, v := range o.Violations {
			got[i] = append(got[i], v.String())
		}
	}
	want := [][]string{
		nil,
		{
			"fake on dev.jsonl: f1 = 0.5714, below its floor 0.6000",
			"fake on dev.jsonl: span_f1 = undefined, below its floor 0.1000",
			"fake on dev.jsonl: fpr = 0.6667, above its ceiling 0.5000",
			"fake on dev.jsonl: family=b fpr = 0.6667, above its ceiling 0.6000",
			"fake on dev.jsonl: lang=fr: no rows in the data",
		},
		nil, // the detector's own threshold (0.65) applies: no false positive
		{`missing on dev.jsonl: unknown detector type "missing" (known: [fake])`},
		{"fake on nowhere.jsonl: open " + filepath.Join(dir, "nowhere.jsonl") + ": no such file or directory"},
	}
	for i := range want {
		if strings.Join(got[i], "\n") != strings.Join(want[i], "\n") {
			t.Errorf("entry %d violations:\n%s\nwant:\n%s", i+1, strings.Join(got[i], "\n"), strings.Join(want[i], "\n"))
		}
	}
	if out[2].Report == nil || out[2].Report.Threshold != 0.65 {
		t.Errorf("entry 3 threshold: %+v", out[2].Report)
	}
	if only := f.Run(context.Background(), testRegistry(), []string{"missing"}); len(only) != 1 {
		t.Errorf("only missing: %d outcomes", len(only))
	}
}

func TestFloorsTypeMap(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "spans.jsonl", `{"text":"a SECRET","label":"x","entities":[{"type":"KEY","start":2,"end":8}]}
{"text":"none","label":"y","entities":[]}
`)
	p := writeFile(t, dir, "floors.yaml", `floors:
  - detector: fake
    data: spans.jsonl
    type_map: {KEY: SECRET}
    min: {span_f1: 1, span_exact_f1: 1}
  - detector: fake
    data: spans.jsonl
    min: {span_f1: 1}
`)
	f, err := LoadFloors(p)
	if err != nil {
		t.Fatal(err)
	}
	out := f.Run(context.Background(), testRegistry(), nil)
	if len(out[0].Violations) != 0 {
		t.Errorf("mapped: %v", out[0].Violations)
	}
	// Without a map ("fake" has no default) nothing is evaluated.
	if len(out[1].Violations) != 1 || out[1].Violations[0].Figure != "span_f1" || out[1].Violations[0].Got != nil {
		t.Errorf("unmapped: %+v", out[1].Violations)
	}
}

// docOnly flags every text given with the document role.
type docOnly struct{ scorer }

func (d *docOnly) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	if in.Role != detect.RoleDocument || in.Surface != detect.SurfaceFile {
		return nil, nil
	}
	return []detect.Hit{{Rule: fakeRule, Start: 0, End: len(in.Text), Score: 1, Label: "DOC"}}, nil
}

func TestFloorsRoleAndSurface(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "dev.jsonl", "{\"text\":\"a\",\"label\":\"injection\"}\n{\"text\":\"b\",\"label\":\"injection\",\"role\":\"user\"}\n")
	p := writeFile(t, dir, "floors.yaml", `floors:
  - {detector: doc, data: dev.jsonl, positive: [injection], role: document, surface: file, min: {recall: 0.5}}
  - {detector: doc, data: dev.jsonl, positive: [injection], min: {recall: 0.5}}
`)
	f, err := LoadFloors(p)
	if err != nil {
		t.Fatal(err)
	}
	reg := detect.NewRegistry()
	reg.Register("doc", func(map[string]any) (detect.Detector, error) { return &docOnly{scorer{thr: 0.5}}, nil })
	out := f.Run(context.Background(), reg, nil)
	// Row 1 takes the entry's role; row 2's own role wins.
	if r := out[0].Report; len(out[0].Violations) != 0 || r.Overall.TP != 1 || r.Overall.FN != 1 {
		t.Errorf("with role: %v %+v", out[0].Violations, r.Overall)
	}
	if len(out[1].Violations) != 1 {
		t.Errorf("without role: %v", out[1].Violations)
	}
}
