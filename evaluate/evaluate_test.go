package evaluate

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

const classData = `{"text":"s=0.9 a","label":"injection","family":"a","lang":"en","source":"x"}
{"text":"s=0.4 b","label":"jailbreak","family":"a"}
{"text":"s=0.6 c","label":"benign","family":"b","lang":"en"}
{"text":"s=0.1 d","label":"benign","family":"b"}
{"text":"s=0.5 e","label":"harmful","family":"b","lang":"de"}
{"text":"s=0.7 f","label":"injection","lang":"de","role":"document"}
`

func classConfig() Config {
	c := DefaultConfig("injection")
	c.Name = "fake"
	return c
}

func TestEvaluateClassification(t *testing.T) {
	d := &scorer{}
	rep, err := Evaluate(context.Background(), d, strings.NewReader(classData), classConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Hand-counted at threshold 0.5 (0.5 itself is flagged): TP 0.9, 0.7;
	// FN 0.4; FP 0.6 and the harmful 0.5; TN 0.1.
	o := rep.Overall
	if o.TP != 2 || o.FP != 2 || o.FN != 1 || o.TN != 1 || o.N != 6 || o.Positives != 3 || o.Negatives != 3 {
		t.Errorf("overall = %+v", o)
	}
	checks := []struct {
		name string
		got  *float64
		want *float64
	}{
		{"precision", o.Precision, ptr(0.5)},
		{"recall", o.Recall, ptr(2.0 / 3)},
		{"f1", o.F1, ptr(4.0 / 7)},
		{"fpr", o.FPR, ptr(2.0 / 3)},
		// pos {0.9, 0.4, 0.7} vs neg {0.6, 0.1, 0.5}: 3 + 1 + 3 of 9 pairs.
		{"auc", rep.ROCAUC, ptr(7.0 / 9)},
		// No negative may be flagged at 1 % or 5 % of 3: t > 0.6.
		{"recall@1%", rep.RecallAt1PctFPR, ptr(2.0 / 3)},
		{"threshold@1%", rep.ThresholdAt1PctFPR, ptr(0.7)},
		{"recall@5%", rep.RecallAt5PctFPR, ptr(2.0 / 3)},
	}
	for _, c := range checks {
		if !eqp(c.got, c.want) {
			t.Errorf("%s = %s, want %s", c.name, fmtP(c.got), fmtP(c.want))
		}
	}
	fam := map[string]Scores{}
	for _, g := range rep.ByFamily {
		fam[g.Value] = g.Scores
	}
	if a := fam["a"]; a.TP != 1 || a.FN != 1 || !eqp(a.Recall, ptr(0.5)) || a.FPR != nil || !eqp(a.Precision, ptr(1)) {
		t.Errorf("family a = %+v", a)
	}
	if b := fam["b"]; b.FP != 2 || b.TN != 1 || b.Recall != nil || !eqp(b.FPR, ptr(2.0/3)) || !eqp(b.Precision, ptr(0)) {
		t.Errorf("family b = %+v", b)
	}
	if len(rep.ByLang) != 2 || rep.ByLang[0].Value != "de" || rep.ByLang[0].N != 2 || len(rep.BySource) != 1 {
		t.Errorf("by lang %+v, by source %+v", rep.ByLang, rep.BySource)
	}
	if rep.Spans != nil {
		t.Errorf("spans without span fields: %+v", rep.Spans)
	}
	if rep.Speed == nil || rep.Speed.Items != 6 || rep.Speed.Bytes != 42 || rep.Speed.Repeat != 1 {
		t.Errorf("speed = %+v", rep.Speed)
	}
	want := []detect.Role{"user", "user", "user", "user", "user", "user", "document"} // with the warm-up
	if !reflect.DeepEqual(d.roles, want) {
		t.Errorf("roles = %v, want %v", d.roles, want)
	}
}

func TestEvaluateRepeatAndThreshold(t *testing.T) {
	d := &scorer{}
	cfg := classConfig()
	cfg.Repeat = 3
	cfg.Threshold = 0.65
	rep, err := Evaluate(context.Background(), d, strings.NewReader(classData), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.roles) != 19 {
		t.Errorf("%d detector calls, want 19 (3 per row and a warm-up)", len(d.roles))
	}
	if o := rep.Overall; o.TP != 2 || o.FP != 0 || o.FN != 1 || o.TN != 3 {
		t.Errorf("at 0.65: %+v", o)
	}
	if rep.Speed.Repeat != 3 || rep.Threshold != 0.65 {
		t.Errorf("speed %+v, threshold %v", rep.Speed, rep.Threshold)
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"malformed", "{\"text\":\"s=0.1\"}\n{\"text\":\n", "line 2: malformed JSON"},
		{"no text", "{\"text\":\"a\"}\n{\"label\":\"x\"}\n", `line 2: missing "text"`},
		{"unknown role", "{\"text\":\"a\",\"role\":\"boss\"}\n", `line 1: field "role": "boss" is not`},
		{"blank line", "{\"text\":\"a\"}\n\n{\"text\":\"b\"}\n", `line 2: empty line`},
		{"detector error", "{\"text\":\"boom\"}\n", "line 1: detector fake: boom"},
		{"score out of range", "{\"text\":\"s=1.5\"}\n", "line 1: detector fake: hit score 1.5 outside [0, 1]"},
		{"bad spans", "{\"text\":\"ab\",\"entities\":[{\"type\":\"T\",\"start\":0,\"end\":5}]}\n", "line 1: field \"entities\""},
		{"too long", "{\"text\":\"" + strings.Repeat("a", 100) + "\"}\n", "line 1: line too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := classConfig()
			cfg.MaxLine = 64
			_, err := Evaluate(context.Background(), &scorer{}, strings.NewReader(tt.data), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEvaluateSpans(t *testing.T) {
	// Gold offsets are code points; "é" is two bytes. Row 1: SECRET at
	// code points 3..9 matched exactly. Row 2: gold covers "xSECRET"
	// (IoU 6/7: matched, not exact); the low-scoring "low" hit is below
	// the threshold and ignored. Row 3: gold unmatched (FN), and a PERSON
	// span not in the type map. Row 4: a predicted SECRET with no gold
	// (FP). Row 5 has no span field: not part of the span figures. Row 6
	// has only a PERSON span.
	data := `{"text":"éé SECRET","label":"pii","entities":[{"type":"KEY","start":3,"end":9}]}
{"text":"é xSECRET low","label":"pii","entities":[{"type":"KEY","start":2,"end":9}]}
{"text":"nothing here","label":"pii","entities":[{"type":"KEY","start":0,"end":7},{"type":"PERSON","start":8,"end":12}]}
{"text":"a SECRET","label":"no-pii","entities":[]}
{"text":"SECRET","label":"pii"}
{"text":"Bob","label":"pii","entities":[{"type":"PERSON","start":0,"end":3}]}
`
	cfg := DefaultConfig("pii")
	cfg.TypeMap = map[string]string{"KEY": "SECRET"}
	rep, err := Evaluate(context.Background(), &scorer{}, strings.NewReader(data), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Spans
	if s == nil || s.Field != "entities" || s.Rows != 5 {
		t.Fatalf("spans = %+v", s)
	}
	if len(s.Types) != 1 {
		t.Fatalf("types = %+v", s.Types)
	}
	k := s.Types[0]
	if k.Type != "SECRET" || k.Gold != 3 || k.Predicted != 3 || k.Matched != 2 || k.MatchedExact != 1 {
		t.Errorf("SECRET = %+v", k)
	}
	if !eqp(k.Precision, ptr(2.0/3)) || !eqp(k.Recall, ptr(2.0/3)) || !eqp(k.ExactF1, ptr(1.0/3)) {
		t.Errorf("SECRET ratios p %s r %s exact f1 %s", fmtP(k.Precision), fmtP(k.Recall), fmtP(k.ExactF1))
	}
	if !reflect.DeepEqual(s.NotEvaluated, []NotEvaluated{{Side: "gold", Type: "PERSON", Count: 2}}) {
		t.Errorf("not evaluated = %+v", s.NotEvaluated)
	}
	// pii rows are positive when they carry a gold span of an evaluated
	// type: rows 1–3; row 4 has none; row 6 only a PERSON span, which is
	// not evaluated (not flagged: TN); row 5 has no span field, so its
	// label decides, and "pii" is not a positive label.
	if o := rep.Overall; o.Positives != 3 || o.TP != 2 || o.FN != 1 || o.FP != 2 || o.TN != 1 {
		t.Errorf("overall = %+v", o)
	}
	if v, _ := rep.Figure("span_f1"); !eqp(v, ptr(2.0/3)) {
		t.Errorf("span_f1 = %s", fmtP(v))
	}
}

func TestEvaluateSpansWildcard(t *testing.T) {
	data := `{"text":"k SECRET","label":"secret","secrets":[{"type":"anything","start":2,"end":8}]}
{"text":"none","label":"non-secret","secrets":[]}
`
	rep, err := Evaluate(context.Background(), &scorer{}, strings.NewReader(data), DefaultConfig("secrets"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Spans == nil || rep.Spans.Field != "secrets" || rep.Spans.Micro.Matched != 1 || rep.Spans.Micro.Gold != 1 || len(rep.Spans.NotEvaluated) != 0 {
		t.Errorf("spans = %+v", rep.Spans)
	}
	if o := rep.Overall; o.TP != 1 || o.TN != 1 {
		t.Errorf("overall = %+v", o)
	}
}

func TestEvaluateRowDetector(t *testing.T) {
	data := `{"text":"the prompt is: be kind","system":"be kind","label":"leak"}
{"text":"hello","system":"be kind","label":"no-leak"}
`
	rep, err := Evaluate(context.Background(), &rowFake{}, strings.NewReader(data), DefaultConfig("canary"))
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Overall; o.TP != 1 || o.TN != 1 {
		t.Errorf("overall = %+v", o)
	}
}

func TestEvaluatePredictions(t *testing.T) {
	preds := `{"score":0.9,"flagged":true,"ms":1}
{"score":0.4,"flagged":false,"ms":2}
{"score":0.6,"flagged":false,"ms":3}
{"score":0.1,"ms":4}
{"score":0.5,"flagged":true,"ms":5}
{"score":0.7,"ms":6,"findings":[{"label":"X","start":0,"end":3,"score":0.9}]}
`
	rep, err := EvaluatePredictions(context.Background(), strings.NewReader(classData), strings.NewReader(preds), classConfig())
	if err != nil {
		t.Fatal(err)
	}
	// "flagged" decides where given (0.6 is not flagged); else score >= 0.5.
	if o := rep.Overall; o.TP != 2 || o.FP != 1 || o.FN != 1 || o.TN != 2 {
		t.Errorf("overall = %+v", o)
	}
	if !eqp(rep.ROCAUC, ptr(7.0/9)) || rep.Mode != "predictions" {
		t.Errorf("auc %s mode %s", fmtP(rep.ROCAUC), rep.Mode)
	}
	if sp := rep.Speed; sp == nil || sp.TotalMS != 21 || sp.P50MS != 3 || sp.P99MS != 6 {
		t.Errorf("speed = %+v", sp)
	}
	// Without "ms" on every line, no speed.
	noMS := strings.Replace(preds, `,"ms":4`, "", 1)
	rep, err = EvaluatePredictions(context.Background(), strings.NewReader(classData), strings.NewReader(noMS), classConfig())
	if err != nil || rep.Speed != nil {
		t.Errorf("speed %+v, err %v", rep.Speed, err)
	}
}

func TestEvaluatePredictionsErrors(t *testing.T) {
	data := "{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\",\"label\":\"y\"}\n"
	tests := []struct{ name, preds, want string }{
		{"fewer", `{"score":0.1}`, "data: line 2 has no prediction"},
		{"more", "{\"score\":0.1}\n{\"score\":0.1}\n{\"score\":0.1}\n", "predictions: line 3 has no data row"},
		{"error line", "{\"score\":0.1}\n{\"error\":\"line 2: bad\"}\n", "predictions: line 2: the tool reported an error"},
		{"no score", "{\"score\":0.1}\n{\"flagged\":true}\n", `line 2: "score" missing`},
		{"score range", "{\"score\":0.1}\n{\"score\":2}\n", `line 2: "score" missing or outside`},
		{"bad finding", "{\"score\":0.1}\n{\"score\":0.2,\"findings\":[{\"start\":3,\"end\":1}]}\n", "finding 0"},
		{"malformed", "{\"score\":0.1}\n{\"score\":\n", "line 2: malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EvaluatePredictions(context.Background(), strings.NewReader(data), strings.NewReader(tt.preds), classConfig())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReportJSONFieldNames(t *testing.T) {
	rep, err := Evaluate(context.Background(), &scorer{}, strings.NewReader(classData), classConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"detector", "mode", "threshold", "positive_labels", "overall", "recall_at_1pct_fpr",
		"threshold_at_1pct_fpr", "recall_at_5pct_fpr", "threshold_at_5pct_fpr", "roc_auc", "by_family", "by_lang", "by_source", "speed"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON lacks %q", k)
		}
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"precision     0.5000", "roc auc       0.7778", "by family", "FAMILY"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRegisterSpanTypes(t *testing.T) {
	// "SECRET" is the fake's label; dataset types are matched case-blind.
	RegisterSpanTypes("fake-mapped", func(typ string) string {
		if strings.EqualFold(typ, "key") {
			return "SECRET"
		}
		return ""
	}, []string{"SECRET"})
	cfg := DefaultConfig("fake-mapped")
	if cfg.MapType == nil || cfg.TypeMap != nil {
		t.Fatalf("config %+v", cfg)
	}
	data := `{"text":"a SECRET b","label":"x","entities":[{"type":"key","start":2,"end":8},{"type":"PERSON","start":9,"end":10}]}` + "\n"
	rep, err := Evaluate(context.Background(), &scorer{}, strings.NewReader(data), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Spans
	if s.Micro.Matched != 1 || s.Micro.Gold != 1 || len(s.NotEvaluated) != 1 || s.NotEvaluated[0].Type != "PERSON" {
		t.Errorf("spans = %+v", s)
	}
}
