package secrets

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/detecttest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden-hits.txt from the detector's current output")

// goldenInputs are the texts whose hits and hold offsets
// testdata/golden-hits.txt records: the evaluation files, the mixed
// prompts of the benchmarks here and in detect/builtin, and the rules' own
// cases. Lines are keyed by the FNV-64a hash of the text.
func goldenInputs(t *testing.T) []string {
	t.Helper()
	var texts []string
	for _, path := range []string{"testdata/dev.jsonl", "testdata/tune.jsonl", "testdata/out-of-scope.jsonl"} {
		for _, r := range readRows(t, path) {
			texts = append(texts, r.Text)
		}
	}
	texts = append(texts, mixedPrompts(64, 4<<10)...)
	texts = append(texts, detecttest.Texts(t, "../builtin/testdata/mixed-4k.jsonl")...)
	for _, sp := range ruleSet.specs {
		texts = append(texts, sp.Examples...)
		texts = append(texts, sp.Negatives...)
	}
	return texts
}

// TestGoldenHits checks that the detector's hits and Hold offsets on a
// fixed body of texts are the recorded ones: optimisations must not change
// a finding. Rule changes that are meant to change findings rewrite the
// file with -update, and the diff shows what changed.
func TestGoldenHits(t *testing.T) {
	d := newDetector(t, nil)
	var b strings.Builder
	for _, text := range goldenInputs(t) {
		hits, err := d.Detect(context.Background(), detect.Input{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 && d.Hold(text) == trailingRun(text, maxSpan) {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(text))
		fmt.Fprintf(&b, "%016x hold=%d", h.Sum64(), d.Hold(text))
		for _, x := range hits {
			fmt.Fprintf(&b, " %s:%d-%d:%.2f:%s", strings.TrimPrefix(x.Rule.ID, "secrets."), x.Start, x.End, x.Score, x.Label)
		}
		b.WriteByte('\n')
	}
	const path = "testdata/golden-hits.txt"
	if *updateGolden {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("hits differ from %s (first difference, line %d):\n got: %s\nwant: %s\n(go test -run TestGoldenHits -update rewrites it)", path, i+1, g, w)
			}
		}
	}
}
