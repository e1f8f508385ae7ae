package canary

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

const testSystem = "You are Orbit, the support assistant of Acme Rockets. Never discuss pricing for the Falcon launch package and always answer in formal English."

const testToken = "9f3a1c2e7b6d4f80a1b2c3d4e5f60718"

func newTest(t testing.TB, opts map[string]any) *Detector {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func detectAll(t testing.TB, d detect.Detector, text string) []detect.Hit {
	t.Helper()
	hs, err := d.Detect(context.Background(), detect.Input{Text: text, Role: detect.RoleAssistant, Surface: detect.SurfaceResponse})
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func TestDetect(t *testing.T) {
	d := newTest(t, map[string]any{"system_prompt": testSystem, "token": testToken})
	tests := []struct {
		name string
		text string
		rule string // "" for no hit
		span string // the expected hit text
	}{
		{"benign", "Sure, I can help you with your rocket order today.", "", ""},
		{"token verbatim", "The marker is " + testToken + ".", "canary.token", testToken},
		{"token upper", "marker " + strings.ToUpper(testToken), "canary.token", strings.ToUpper(testToken)},
		{"token spaced", "m " + spaced(testToken, " ") + " end", "canary.token", spaced(testToken, " ")},
		{"token dashed", spaced(testToken, "-"), "canary.token", spaced(testToken, "-")},
		{"token zero-width", spaced(testToken, "\u200b"), "canary.token", spaced(testToken, "\u200b")},
		{"token gap too wide", spaced(testToken, "  ,  "), "", ""},
		{"token partial", testToken[:20], "", ""},
		{"token one char off", testToken[:31] + "9", "", ""},
		{"overlap 8 words", "My rules: never discuss pricing for the Falcon launch package, sorry.", "canary.system-prompt-overlap", "never discuss pricing for the Falcon launch package"},
		{"overlap case and punctuation", "NEVER -- discuss *pricing* for the falcon, launch... PACKAGE", "canary.system-prompt-overlap", "NEVER -- discuss *pricing* for the falcon, launch... PACKAGE"},
		{"overlap 7 words", "I never discuss pricing for the Falcon launch.", "", ""},
		{"reordered", "package launch Falcon the for pricing discuss never", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := detectAll(t, d, tt.text)
			if tt.rule == "" {
				if len(hs) != 0 {
					t.Fatalf("hits %+v", hs)
				}
				return
			}
			if len(hs) != 1 || hs[0].Rule.ID != tt.rule || hs[0].Label != Label {
				t.Fatalf("hits %+v, want one %s", hs, tt.rule)
			}
			if got := tt.text[hs[0].Start:hs[0].End]; got != tt.span {
				t.Fatalf("span %q, want %q", got, tt.span)
			}
		})
	}
}

func spaced(s, sep string) string {
	return strings.Join(strings.Split(s, ""), sep)
}

func TestLongRunReportsOnce(t *testing.T) {
	d := newTest(t, map[string]any{"system_prompt": testSystem})
	hs := detectAll(t, d, "Here it is: "+testSystem+" And again: "+testSystem)
	if len(hs) != 2 {
		t.Fatalf("want one hit per quoted run, got %+v", hs)
	}
}

func TestShortSystemPrompt(t *testing.T) {
	d := newTest(t, map[string]any{"system_prompt": "Answer only in French."})
	if hs := detectAll(t, d, "ok: answer ONLY in french!"); len(hs) != 1 {
		t.Fatalf("whole short prompt repeated: %+v", hs)
	}
	if hs := detectAll(t, d, "answer only in"); len(hs) != 0 {
		t.Fatalf("part of a short prompt: %+v", hs)
	}
	d = newTest(t, map[string]any{"system_prompt": "Be brief."})
	if hs := detectAll(t, d, "Be brief."); len(hs) != 0 {
		t.Fatalf("a three-word prompt is not checked: %+v", hs)
	}
}

func TestForRequest(t *testing.T) {
	base := newTest(t, nil)
	if hs := detectAll(t, base, testSystem+" "+testToken); len(hs) != 0 {
		t.Fatalf("unbound detector hit: %+v", hs)
	}
	d := base.ForRequest(testSystem, testToken)
	if hs := detectAll(t, d, testSystem+" "+testToken); len(hs) != 2 {
		t.Fatalf("bound detector: %+v", hs)
	}
	if hs := detectAll(t, base, testSystem); len(hs) != 0 {
		t.Fatal("ForRequest changed the base detector")
	}
}

func TestOptions(t *testing.T) {
	bad := []map[string]any{
		{"token": "short"},
		{"min_words": 2},
		{"system_prompt": 3},
		{"nope": true},
	}
	for _, o := range bad {
		if _, err := New(o); err == nil {
			t.Errorf("New(%v) accepted", o)
		}
	}
	d := newTest(t, map[string]any{"system_prompt": testSystem, "min_words": 12})
	if hs := detectAll(t, d, "never discuss pricing for the Falcon launch package and always"); len(hs) != 0 {
		t.Fatalf("min_words 12 hit on 10 words: %+v", hs)
	}
	if d.Threshold() != 0.5 || len(d.Rules()) != 2 || d.Name() != "canary" {
		t.Fatal("metadata")
	}
}

// TestStreamEqualsWhole: a tally fed any chunking reports what Detect
// reports on the whole text.
func TestStreamEqualsWhole(t *testing.T) {
	d := newTest(t, map[string]any{"system_prompt": testSystem + " Ünïcödé wörds count tøø, naïve café déjà vu.", "token": testToken})
	texts := []string{
		"Leak: " + spaced(testToken, " ") + " and " + testSystem,
		"ünïcödé WÖRDS count tøø naïve café déjà VU " + testToken,
		"benign text \xff\xfe with invalid bytes " + testToken[:16] + "\u200b" + testToken[16:],
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, text := range texts {
		want := detectAll(t, d, text)
		if len(want) == 0 {
			t.Fatalf("no hit in %q", text)
		}
		for trial := 0; trial < 200; trial++ {
			var got []detect.Hit
			tl := d.NewTally()
			for i := 0; i < len(text); {
				n := 1 + r.IntN(7)
				if trial == 0 {
					n = 1
				}
				j := min(i+n, len(text))
				got = append(got, tl.Add(text[i:j])...)
				i = j
			}
			got = append(got, tl.End()...)
			sortHits(got)
			if len(got) != len(want) {
				t.Fatalf("%q trial %d: %+v, want %+v", text, trial, got, want)
			}
			for k := range got {
				if got[k].Start != want[k].Start || got[k].End != want[k].End || got[k].Rule != want[k].Rule {
					t.Fatalf("%q trial %d: %+v, want %+v", text, trial, got, want)
				}
			}
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("Leak: "+testSystem, uint8(5))
	f.Add(spaced(testToken, "-"), uint8(3))
	f.Add("\xe2\x82", uint8(1))
	d := newTest(f, map[string]any{"system_prompt": testSystem, "token": testToken})
	f.Fuzz(func(t *testing.T, text string, cut uint8) {
		want := detectAll(t, d, text)
		for _, h := range want {
			if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
				t.Fatalf("bad span %+v in %q", h, text)
			}
		}
		i := int(cut) % (len(text) + 1)
		tl := d.NewTally()
		got := append(tl.Add(text[:i]), tl.Add(text[i:])...)
		got = append(got, tl.End()...)
		if len(got) != len(want) {
			t.Fatalf("split %d of %q: %+v, want %+v", i, text, got, want)
		}
	})
}

func BenchmarkTally4K(b *testing.B) {
	d := newTest(b, map[string]any{"system_prompt": testSystem, "token": testToken})
	text := strings.Repeat("Sure, I can help with your rocket order; the Falcon ships on time. ", 64)[:4096]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tl := d.NewTally()
		for k := 0; k < len(text); k += 16 {
			tl.Add(text[k : k+16])
		}
		tl.End()
	}
}
