package spaneval

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/finding"
)

func TestByteOffsets(t *testing.T) {
	for _, tc := range []struct {
		text       string
		start, end int
		bs, be     int
		ok         bool
	}{
		{"abc", 0, 3, 0, 3, true},
		{"héllo wörld", 6, 11, 7, 13, true},
		{"🎉 x", 2, 3, 5, 6, true},
		{"abc", 3, 3, 3, 3, true},
		{"abc", 2, 4, 0, 0, false},
		{"abc", -1, 2, 0, 0, false},
		{"abc", 2, 1, 0, 0, false},
	} {
		bs, be, ok := ByteOffsets(tc.text, tc.start, tc.end)
		if ok != tc.ok || ok && (bs != tc.bs || be != tc.be) {
			t.Errorf("%q %d-%d: %d-%d %v, want %d-%d %v", tc.text, tc.start, tc.end, bs, be, ok, tc.bs, tc.be, tc.ok)
		}
	}
}

// fixed reports the spans it was built with.
type fixed struct{ hits []detect.Hit }

var rule = &finding.Rule{ID: "test.x"}

func (f fixed) Name() string           { return "fixed" }
func (f fixed) Rules() []*finding.Rule { return []*finding.Rule{rule} }
func (f fixed) Threshold() float64     { return 0.5 }
func (f fixed) Detect(_ context.Context, in detect.Input) ([]detect.Hit, error) {
	var out []detect.Hit
	for _, h := range f.hits {
		if h.End <= len(in.Text) {
			out = append(out, h)
		}
	}
	return out, nil
}

func TestEvaluate(t *testing.T) {
	// "Call Åsa on 555-0100": Åsa is code points 5-8, bytes 5-9.
	rows := []Row{{
		Text: "Call Åsa on 555-0100 today",
		Entities: []Entity{
			{Type: "PERSON", Start: 5, End: 8},
			{Type: "PHONE_NUMBER", Start: 12, End: 20},
			{Type: "LOCATION", Start: 21, End: 26},
		},
	}}
	goldType := func(s string) string {
		return map[string]string{"PERSON": "PERSON", "PHONE_NUMBER": "PHONE"}[s]
	}
	d := fixed{[]detect.Hit{
		{Rule: rule, Start: 5, End: 9, Score: 0.9, Label: "PERSON"},  // exact
		{Rule: rule, Start: 13, End: 20, Score: 0.9, Label: "PHONE"}, // IoU 7/8: a match, not exact
		{Rule: rule, Start: 0, End: 4, Score: 0.9, Label: "PHONE"},   // no gold there
		{Rule: rule, Start: 22, End: 27, Score: 0.4, Label: "PHONE"}, // below the threshold
	}}
	rep, err := Evaluate(context.Background(), d, rows, goldType)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{"PERSON": {TP: 1, Exact: 1}, "PHONE": {TP: 1, FP: 1}}
	for k, w := range want {
		if got := rep.ByType[k]; got != w {
			t.Errorf("%s: %+v, want %+v", k, got, w)
		}
	}
	if c := rep.Sum("PERSON", "PHONE"); c.Precision() != 2.0/3 || c.Recall() != 1 || c.ExactF1() != 0.4 {
		t.Errorf("sum %+v: p %v r %v exact-f1 %v", c, c.Precision(), c.Recall(), c.ExactF1())
	}
	if !strings.Contains(rep.String(), "PHONE") {
		t.Errorf("report %q", rep.String())
	}
	// A miss is an FN.
	rep, err = Evaluate(context.Background(), fixed{}, rows, goldType)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ByType["PERSON"].FN != 1 || rep.ByType["PHONE"].FN != 1 || rep.Sum("PERSON").F1() != 0 {
		t.Errorf("empty detector: %+v", rep.ByType)
	}
	// An entity outside its text is an error.
	rows[0].Entities[0].End = 99
	if _, err := Evaluate(context.Background(), fixed{}, rows, goldType); err == nil {
		t.Error("no error for an entity outside its text")
	}
}

func TestRead(t *testing.T) {
	rows, err := Read(strings.NewReader(`{"text":"a b","label":"pii","entities":[{"type":"PERSON","start":0,"end":1,"value":"a"}]}`+"\n\n"), "x")
	if err != nil || len(rows) != 1 || rows[0].Entities[0].Type != "PERSON" {
		t.Fatalf("%+v %v", rows, err)
	}
	if _, err := Read(strings.NewReader("{\n"), "x"); err == nil || !strings.Contains(err.Error(), "x:1") {
		t.Fatalf("error %v, want one naming x:1", err)
	}
}

func FuzzByteOffsets(f *testing.F) {
	f.Add("héllo 🎉", 1, 4)
	f.Fuzz(func(t *testing.T, text string, start, end int) {
		bs, be, ok := ByteOffsets(text, start, end)
		if !ok {
			return
		}
		if bs < 0 || be < bs || be > len(text) {
			t.Fatalf("%q %d-%d: %d-%d", text, start, end, bs, be)
		}
		if utf8.ValidString(text) && utf8.RuneCountInString(text[bs:be]) != end-start {
			t.Fatalf("%q %d-%d: %q has the wrong length", text, start, end, text[bs:be])
		}
	})
}
