package toxicity

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/classify"
	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
)

func mustNew(t testing.TB, opts map[string]any) *Detector {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatalf("New(%v): %v", opts, err)
	}
	return d
}

// spanHit is a lexicon hit as the tests check it: rule id and the text it
// covers.
type spanHit struct{ rule, text string }

func lexHits(t *testing.T, d *Detector, text string) []spanHit {
	t.Helper()
	var out []spanHit
	for _, h := range detecttest.Detect(t, d, text) {
		if h.Rule == RuleClassifier {
			continue
		}
		out = append(out, spanHit{h.Rule.ID, text[h.Start:h.End]})
	}
	return out
}

func TestLexicon(t *testing.T) {
	d := mustNew(t, map[string]any{"classifier": false})
	tests := []struct {
		name, text string
		want       []spanHit
	}{
		{"threat", "If you come back, I will kill you.", []spanHit{{"toxicity.threat", "I will kill you"}}},
		{"longest phrase wins", "you're an idiot", []spanHit{{"toxicity.insult", "you're an idiot"}}},
		{"apostrophe dropped", "youre an idiot", []spanHit{{"toxicity.insult", "youre an idiot"}}},
		{"self-harm", "just kys", []spanHit{{"toxicity.self-harm", "kys"}}},
		{"spaced letters", "just k y s already", []spanHit{{"toxicity.self-harm", "k y s"}}},
		{"dotted letters", "K.Y.S", []spanHit{{"toxicity.self-harm", "K.Y.S"}}},
		{"leetspeak", "what a load of sh1t", []spanHit{{"toxicity.profanity", "sh1t"}}},
		{"zero-width space", "you id\u200biot", []spanHit{{"toxicity.insult", "you id\u200biot"}}},
		{"cyrillic look-alike", "you \u0456diot", []spanHit{{"toxicity.insult", "you \u0456diot"}}},
		{"punctuation trimmed", "(idiot!)", []spanHit{{"toxicity.insult", "idiot"}}},
		{"german", "Du bist ein Vollidiot", []spanHit{{"toxicity.insult", "Vollidiot"}}},
		{"french", "je vais te tuer", []spanHit{{"toxicity.threat", "je vais te tuer"}}},
		{"spanish", "te voy a matar", []spanHit{{"toxicity.threat", "te voy a matar"}}},
		{"russian", "я тебя убью", []spanHit{{"toxicity.threat", "я тебя убью"}}},
		{"italian", "ti ammazzo", []spanHit{{"toxicity.threat", "ti ammazzo"}}},
		{"portuguese", "vou te matar", []spanHit{{"toxicity.threat", "vou te matar"}}},
		{"scunthorpe", "Scunthorpe United won at home", nil},
		{"substrings of innocent words", "The assassin in class drank a cocktail while reading Dickens to the therapist", nil},
		{"word inside a longer word", "that was idiotic", nil},
		{"phrase across a long gap", "I will kill                      you", nil},
		{"long run skipped", "https://example.com/" + strings.Repeat("x", 80) + "/idiot", nil},
		{"empty", "", nil},
		{"spaces", "   \n\t ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lexHits(t, d, tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Detect(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestScores(t *testing.T) {
	d := mustNew(t, nil)
	score := func(text string) float64 {
		s := 0.0
		for _, h := range detecttest.Detect(t, d, text) {
			s = max(s, h.Score)
		}
		return s
	}
	for _, text := range []string{
		"I will kill you, you worthless piece of shit",
		"kill yourself, nobody wants you here",
		"you are a fucking idiot",
	} {
		if s := score(text); s < d.Threshold() {
			t.Errorf("score(%q) = %.3f, below the threshold %.2f", text, s, d.Threshold())
		}
	}
	for _, text := range []string{
		"Thank you, the meeting is moved to Thursday.",
		"Could you explain how photosynthesis works?",
		"Как пройти к вокзалу?",
	} {
		if s := score(text); s >= d.Threshold() {
			t.Errorf("score(%q) = %.3f, at or above the threshold %.2f", text, s, d.Threshold())
		}
	}
	// German: neutral short sentences sit close to the threshold (see
	// docs/detectors/toxicity.md); an insult must still rank above them.
	if a, b := score("Der Zug kommt heute pünktlich an."), score("Halt die Fresse, du dummer Vollidiot."); a >= b {
		t.Errorf("German: neutral sentence %.3f not below the insult %.3f", a, b)
	}
}

func TestHitsShareTheTextScore(t *testing.T) {
	d := mustNew(t, nil)
	text := "shut up, idiot, I will kill you"
	hs := detecttest.Detect(t, d, text)
	if len(hs) < 3 {
		t.Fatalf("got %d hits, want the classifier and two lexicon hits: %+v", len(hs), hs)
	}
	for i, h := range hs {
		if h.Score != hs[0].Score {
			t.Errorf("hit %d score %v, hit 0 score %v", i, h.Score, hs[0].Score)
		}
		if i > 0 && (hs[i-1].Start > h.Start || hs[i-1].Start == h.Start && hs[i-1].End > h.End) {
			t.Errorf("hits %d and %d out of order", i-1, i)
		}
	}
	if !slices.ContainsFunc(hs, func(h detect.Hit) bool { return h.Rule == RuleClassifier && h.Start == 0 && h.End == len(text) }) {
		t.Errorf("no whole-text classifier hit in %+v", hs)
	}
}

func TestOptions(t *testing.T) {
	bad := []map[string]any{
		{"nope": 1},
		{"categories": []any{"rudeness"}},
		{"categories": 3},
		{"languages": []any{"xx"}},
		{"threshold": 1.5},
		{"threshold": "high"},
		{"classifier": "yes"},
	}
	for _, o := range bad {
		if _, err := New(o); err == nil {
			t.Errorf("New(%v) succeeded, want an error", o)
		}
	}
	d := mustNew(t, map[string]any{"categories": []any{"threat"}, "threshold": 0.9})
	if d.Threshold() != 0.9 {
		t.Errorf("Threshold() = %v, want 0.9", d.Threshold())
	}
	for _, h := range detecttest.Detect(t, d, "you idiot, I will kill you") {
		if h.Rule != RuleThreat && h.Rule != RuleClassifier {
			t.Errorf("categories [threat] reported %s", h.Rule.ID)
		}
	}
	if got := len(d.Rules()); got != 2 {
		t.Errorf("Rules() has %d rules, want threat and classifier", got)
	}
	de := mustNew(t, map[string]any{"languages": []any{"de"}, "classifier": false})
	if hs := lexHits(t, de, "je vais te tuer, du Vollidiot"); !slices.Equal(hs, []spanHit{{"toxicity.insult", "Vollidiot"}}) {
		t.Errorf("languages [de]: %v", hs)
	}
	if _, err := NewWith(&Model{}, nil, nil); err == nil {
		t.Error("NewWith without a classifier succeeded")
	}
	if _, err := NewWith(nil, nil, map[string]any{"classifier": false}); err == nil {
		t.Error("NewWith without a model succeeded")
	}
	if d, err := detect.Default.New(Type, nil); err != nil || d.Name() != Type {
		t.Errorf("registry: %v, %v", d, err)
	}
	if mustNew(t, nil).MaxSpan() != 0 {
		t.Error("with the classifier the detector must judge whole texts (MaxSpan 0)")
	}
}

func TestRules(t *testing.T) {
	var ids []string
	for _, r := range Rules() {
		ids = append(ids, r.ID)
		if r.Title == "" || len(r.References.OWASP) == 0 || len(r.References.ATLAS) == 0 {
			t.Errorf("rule %s lacks a title or references", r.ID)
		}
	}
	want := []string{"toxicity.insult", "toxicity.threat", "toxicity.hate", "toxicity.sexual", "toxicity.self-harm", "toxicity.profanity", "toxicity.classifier"}
	if !slices.Equal(ids, want) {
		t.Errorf("rule ids %v, want %v", ids, want)
	}
}

func TestStreamingContract(t *testing.T) {
	d := mustNew(t, map[string]any{"classifier": false})
	for _, text := range []string{
		"shut up, idiot, I will kill you. k y s. Du Vollidiot! je vais te tuer",
		strings.Repeat("fine words here and there ", 30) + "you're an idiot " + strings.Repeat("x", 100) + " moron",
		"f u c k off " + strings.Repeat(" ", 40) + "you stupid fool",
		strings.Repeat("the cat sat on the mat and said you idiot, ", 8) + "i will kill you k y s f.u.c.k sh1t " + strings.Repeat("ok ", 30) + "kys",
		strings.Repeat("a b c ", 20) + "k y s you're an idiot " + strings.Repeat("\u0456diot ", 5) + strings.Repeat("fine words ", 15),
	} {
		every := make([]int, len(text)+1)
		for i := range every {
			every[i] = i
		}
		detecttest.Contract(t, d, text, every)
	}
	// Hold keeps back only the last words, not MaxSpan bytes.
	text := strings.Repeat("nothing to see here at all ", 60)
	if h := d.Hold(text); h < len(text)-200 {
		t.Errorf("Hold = %d of %d bytes: holds back %d", h, len(text), len(text)-h)
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 90)
	ctx := context.Background()
	lex := mustNew(t, map[string]any{"classifier": false})
	full := mustNew(t, nil)
	lex.Detect(ctx, detect.Input{Text: text})
	full.Detect(ctx, detect.Input{Text: text})
	if a := testing.AllocsPerRun(50, func() { lex.Detect(ctx, detect.Input{Text: text}) }); a != 0 {
		t.Errorf("lexicon-only Detect: %v allocations per call, want 0", a)
	}
	// One: the returned slice with the classifier's hit.
	if a := testing.AllocsPerRun(50, func() { full.Detect(ctx, detect.Input{Text: text}) }); a > 1 {
		t.Errorf("Detect: %v allocations per call, want at most 1", a)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := mustNew(t, nil).Detect(ctx, detect.Input{Text: "hello"}); err == nil {
		t.Error("Detect with a cancelled context succeeded")
	}
}

func readFixture(t testing.TB) []Example {
	t.Helper()
	b, err := os.ReadFile("testdata/train-fixture.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []Example
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r struct{ Text, Label string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, Example{Text: r.Text, Toxic: r.Label == "toxic"})
	}
	return out
}

func TestTrainReproducible(t *testing.T) {
	ex := readFixture(t)
	var fit, calib []Example
	for i, e := range ex {
		if i%4 == 0 {
			calib = append(calib, e)
		} else {
			fit = append(fit, e)
		}
	}
	terms, err := CuratedTerms()
	if err != nil {
		t.Fatal(err)
	}
	cfg := TrainConfig{Features: classify.Features{Bits: 12, CharMin: 3, CharMax: 4, WordMax: 1}, Seed: 7}
	m1, err := Train(fit, calib, terms, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Train(fit, calib, terms, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := m1.MarshalBinary()
	b2, _ := m2.MarshalBinary()
	if !bytes.Equal(b1, b2) {
		t.Fatal("two trainings on the same data gave different bytes")
	}
	m3, err := ParseModel(b1)
	if err != nil {
		t.Fatal(err)
	}
	if b3, _ := m3.MarshalBinary(); !bytes.Equal(b1, b3) {
		t.Fatal("parse and marshal changed the model")
	}
	if m1.Full[1] <= 0 {
		t.Errorf("the combiner's classifier weight is %v, want positive", m1.Full[1])
	}
	if m1.Threshold <= 0 || m1.Threshold >= 1 {
		t.Errorf("threshold %v", m1.Threshold)
	}
	// The fixture-trained classifier separates its own training texts.
	var pos, neg, np, nn float64
	for _, e := range fit {
		z := m1.Classifier.Logit(e.Text)
		if e.Toxic {
			pos, np = pos+z, np+1
		} else {
			neg, nn = neg+z, nn+1
		}
	}
	if pos/np <= neg/nn {
		t.Errorf("mean logit of toxic texts %.3f not above that of the others %.3f", pos/np, neg/nn)
	}
	if _, err := Train(fit, nil, terms, cfg); err == nil {
		t.Error("Train without calibration data succeeded")
	}
}

func TestParseModel(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Classifier.Features().Normalizer != NormalizerName {
		t.Errorf("embedded classifier normaliser %q", m.Classifier.Features().Normalizer)
	}
	good := modelBin
	bad := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)/2],
		"magic":     append([]byte("XXXX"), good[4:]...),
		"flipped":   func() []byte { b := slices.Clone(good); b[30] ^= 1; return b }(),
		"trailing":  append(slices.Clone(good), 0),
	}
	for name, b := range bad {
		if _, err := ParseModel(b); err == nil {
			t.Errorf("%s: ParseModel succeeded", name)
		}
	}
}

func TestParseTerms(t *testing.T) {
	terms, err := ParseTerms("x", "# comment\n\nen\tinsult\tyou fool\r\nde\tthreat\tich bring dich um\n")
	if err != nil || len(terms) != 2 || terms[0] != (Term{Lang: "en", Category: Insult, Phrase: "you fool"}) {
		t.Errorf("ParseTerms = %v, %v", terms, err)
	}
	for _, in := range []string{"en\tinsult", "en\trudeness\tx", "\tinsult\tx", "en\tinsult\t  "} {
		if _, err := ParseTerms("x", in); err == nil {
			t.Errorf("ParseTerms(%q) succeeded", in)
		}
	}
	all, err := Terms()
	if err != nil || len(all) < 3000 {
		t.Errorf("embedded lexicon: %d terms, %v", len(all), err)
	}
	langs := Languages()
	for _, l := range []string{"en", "de", "fr", "es", "pt", "it", "ru"} {
		if !slices.Contains(langs, l) {
			t.Errorf("no lexicon for %s", l)
		}
	}
}

func FuzzParseTerms(f *testing.F) {
	f.Add("en\tinsult\tyou fool\n")
	f.Add("# c\nde\tthreat\tich bring dich um\n\n")
	f.Add("en\tnope\tx")
	f.Fuzz(func(t *testing.T, s string) {
		terms, err := ParseTerms("fuzz", s)
		if err != nil {
			return
		}
		lx := NewLexicon(terms, nil)
		var sc scratch
		sc.tokenize(s)
		lx.find(&sc)
	})
}

func FuzzParseModel(f *testing.F) {
	f.Add(modelBin[:200])
	f.Add([]byte("RPTX\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseModel(b)
		if err != nil {
			return
		}
		if _, err := m.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDetect(f *testing.F) {
	f.Add("I will kill you, idiot")
	f.Add("k y s \u200b sh1t я тебя убью")
	f.Add("\xff\xfe i'll' *f*ck")
	lex := mustNew(f, map[string]any{"classifier": false})
	full := mustNew(f, nil)
	f.Fuzz(func(t *testing.T, s string) {
		detecttest.Contract(t, lex, s, []int{len(s) / 3, len(s) / 2, 2 * len(s) / 3, len(s)})
		for _, d := range []*Detector{lex, full} {
			hs, err := d.Detect(context.Background(), detect.Input{Text: s})
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range hs {
				if h.Start < 0 || h.End > len(s) || h.Start >= h.End || h.Score < 0 || h.Score > 1 {
					t.Fatalf("hit %d: %+v in %d bytes", i, h, len(s))
				}
				if d == lex && h.End-h.Start > d.LookBehind() {
					t.Fatalf("hit %d longer than the look-behind", i)
				}
				if i > 0 && (hs[i-1].Start > h.Start || hs[i-1].Start == h.Start && hs[i-1].End > h.End) {
					t.Fatalf("hits %d and %d out of order", i-1, i)
				}
			}
		}
	})
}

func TestConcurrent(t *testing.T) {
	d := mustNew(t, nil)
	texts := []string{"shut up, idiot, I will kill you", "Have a nice day.", "k y s \u200b sh1t", "я тебя убью", strings.Repeat("fine ", 300)}
	want := make([][]detect.Hit, len(texts))
	for i, s := range texts {
		want[i] = detecttest.Detect(t, d, s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 50 {
				i := (g + k) % len(texts)
				hs, err := d.Detect(context.Background(), detect.Input{Text: texts[i]})
				if err != nil || !slices.Equal(hs, want[i]) {
					select {
					case errs <- texts[i]:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Detect(%q) differs from a sequential one", s)
	}
}
