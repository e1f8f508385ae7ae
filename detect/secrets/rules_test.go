package secrets

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestRuleCases runs every rule's examples and negatives from rules.yaml:
// an example must give a hit of its rule, streamed or not; a negative must
// give no hit at all.
func TestRuleCases(t *testing.T) {
	d := newDetector(t, nil)
	n := 0
	for _, sp := range ruleSet.specs {
		id := Type + "." + sp.ID
		for i, ex := range sp.Examples {
			n++
			hits := mustDetect(t, d, ex)
			found := false
			for _, h := range hits {
				found = found || h.Rule.ID == id
			}
			if !found {
				t.Errorf("%s example %d %q: no hit of the rule, got %+v", sp.ID, i+1, ex, hits)
			}
			checkContract(t, d, ex, cutsFor(ex))
		}
		for i, neg := range sp.Negatives {
			n++
			if hits := mustDetect(t, d, neg); len(hits) > 0 {
				t.Errorf("%s negative %d %q: hit %s at %q", sp.ID, i+1, neg, hits[0].Rule.ID, neg[hits[0].Start:hits[0].End])
			}
			checkContract(t, d, neg, cutsFor(neg))
		}
	}
	if n < 100 {
		t.Fatalf("only %d rule cases", n)
	}
}

// TestRuleCasesAlone checks each pattern rule's examples with only that
// rule on, so that no other rule's hit hides a miss.
func TestRuleCasesAlone(t *testing.T) {
	for _, rr := range ruleSet.regexes {
		sp := ruleSet.specs[rr.spec]
		d := newDetector(t, map[string]any{"rules": []any{sp.ID}})
		for i, ex := range sp.Examples {
			if hits := mustDetect(t, d, ex); len(hits) == 0 {
				t.Errorf("%s example %d: no hit with the rule alone", sp.ID, i+1)
			}
		}
	}
}

func TestLoadRulesErrors(t *testing.T) {
	const good = `rules:
  - id: demo-key
    title: Demo key
    severity: high
    label: DEMO_KEY
    family: demo
    keywords: ["demo_"]
    pattern: '\b(demo_[a-z0-9]{20})\b'
    examples: ["demo_k3j4h5g6f7d8s9a0q1w2"]
    negatives: ["demo_"]
`
	builtin := builtinRules[:0]
	if _, err := loadRules([]byte(good), builtin); err != nil {
		t.Fatalf("good file: %v", err)
	}
	for _, tc := range []struct {
		name, from, to, err string
	}{
		{"unknown field", "label:", "lable:", `unknown field "lable"`},
		{"bad id", "id: demo-key", "id: Demo_Key", "id must be"},
		{"no title", "title: Demo key", "title: ''", "missing title"},
		{"bad severity", "severity: high", "severity: dire", "dire"},
		{"low severity", "severity: high", "severity: low", "want medium or more"},
		{"bad label", "label: DEMO_KEY", "label: demo", "label must be"},
		{"no keywords", `keywords: ["demo_"]`, "keywords: []", "no keywords"},
		{"short keyword", `keywords: ["demo_"]`, `keywords: ["de"]`, `keyword "de"`},
		{"spaced keyword", `keywords: ["demo_"]`, `keywords: ["de mo"]`, "without spaces"},
		{"no examples", `examples: ["demo_k3j4h5g6f7d8s9a0q1w2"]`, "examples: []", "no examples"},
		{"no negatives", `negatives: ["demo_"]`, "negatives: []", "no negatives"},
		{"bad pattern", `pattern: '\b(demo_[a-z0-9]{20})\b'`, `pattern: '(demo'`, "pattern:"},
		{"no pattern", `pattern: '\b(demo_[a-z0-9]{20})\b'`, "", "exactly one of scanner and pattern"},
		{"unknown scanner", `pattern: '\b(demo_[a-z0-9]{20})\b'`, "scanner: nope", "unknown scanner"},
		{"unknown validator", "family: demo", "family: demo\n    validate: nope", `unknown validator "nope"`},
		{"context too far", "family: demo", "family: demo\n    context: 9999", "context 9999"},
		{"not yaml", "rules:", "rules: [", "rules file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.from, tc.to, 1)
			_, err := loadRules([]byte(bad), builtin)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
	dup := good + strings.TrimPrefix(good, "rules:\n")
	if _, err := loadRules([]byte(dup), builtin); err == nil || !strings.Contains(err.Error(), "duplicate id") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := loadRules([]byte("rules: []"), builtin); err == nil {
		t.Fatal("empty file loaded")
	}
	// The embedded file must declare every hand-written rule.
	if _, err := loadRules([]byte(good), builtinRules); err == nil || !strings.Contains(err.Error(), "no rule declares") {
		t.Fatalf("missing hand-written rules: %v", err)
	}
}

func TestKeywordSet(t *testing.T) {
	ks, ok := newKeywordSet([]keyword{{"ushe", 0}, {"she", 1}, {"his", 2}, {"hers", 3}, {"sk-", 4}})
	if !ok {
		t.Fatal("not built")
	}
	var got []string
	text := "uSHErs, HIS sk- s"
	d := ks.scan(text, func(end int, w uint16) {
		got = append(got, text[end-len(ks.kws[w].text):end])
	})
	slices.Sort(got)
	want := "HErs HIS SHE sk- uSHE"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
	if d != 1 {
		t.Fatalf("final depth %d, want 1 (\"s\" may start a keyword)", d)
	}
}

// TestKeywordSetNaive compares the automaton over the real keywords with a
// naive search on random texts made of keyword pieces.
func TestKeywordSetNaive(t *testing.T) {
	ks := ruleSet.keywords
	r := rand.New(rand.NewPCG(3, 3))
	for n := 0; n < 2000; n++ {
		var b strings.Builder
		for b.Len() < 200 {
			switch r.IntN(3) {
			case 0:
				w := ks.kws[r.IntN(len(ks.kws))].text
				w = w[:1+r.IntN(len(w))]
				if r.IntN(2) == 0 {
					w = strings.ToUpper(w)
				}
				b.WriteString(w)
			case 1:
				b.WriteByte(" _-.aeiost"[r.IntN(10)])
			default:
				b.WriteString("to ")
			}
		}
		text := b.String()
		var got, want []string
		ks.scan(text, func(end int, w uint16) { got = append(got, fmt.Sprint(end, ks.kws[w].text)) })
		low := strings.ToLower(text)
		for end := 1; end <= len(low); end++ {
			for _, kw := range ks.kws {
				if strings.HasSuffix(low[:end], kw.text) {
					want = append(want, fmt.Sprint(end, kw.text))
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%q:\n got %v\nwant %v", text, got, want)
		}
	}
}

func FuzzLoadRules(f *testing.F) {
	f.Add(string(rulesYAML))
	f.Add("rules:\n  - id: a-b\n    title: t\n    severity: high\n    label: A\n    family: f\n    keywords: [abc]\n    pattern: 'abc(d+)'\n    examples: [abcd]\n    negatives: [abc]\n")
	f.Add("rules: [{id: x}]")
	f.Fuzz(func(t *testing.T, data string) {
		l, err := loadRules([]byte(data), builtinRules[:0])
		if err != nil {
			return
		}
		for _, rr := range l.regexes {
			if rr.re == nil || rr.idx >= len(l.rules) || rr.context <= 0 || rr.context > maxContext {
				t.Fatalf("bad compiled rule %+v", rr)
			}
		}
	})
}
