package unicode

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"sort"
	"testing"

	"github.com/rampartsec/rampart/detect/detecttest"
)

var evalFile = flag.String("unicode.eval", "testdata/dev.jsonl", "JSONL set TestEval measures")

type evalRow struct {
	Text    string `json:"text"`
	Label   string `json:"label"`
	Family  string `json:"family"`
	Variant string `json:"variant"`
}

// counts are a confusion matrix.
type counts struct{ tp, fp, fn, tn int }

func (c counts) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c counts) recall() float64    { return ratio(c.tp, c.tp+c.fn) }
func (c counts) f1() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TestEval measures the detector on the dev set built by internal/mkdev
// (label "smuggling" is positive; a text is flagged when its highest hit
// score reaches Threshold) and checks the figures against floors set a
// little below the measured ones. go test -run TestEval -v prints them;
// -unicode.eval=FILE measures another set (without the floors).
func TestEval(t *testing.T) {
	f, err := os.Open(*evalFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := newDetector(t, nil)
	var all counts
	byVariant := map[string]*counts{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		var r evalRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("row %d: %v", n+1, err)
		}
		n++
		score := 0.0
		for _, h := range detecttest.Detect(t, d, r.Text) {
			score = max(score, h.Score)
		}
		flagged := score >= d.Threshold()
		pos := r.Label == "smuggling"
		key := r.Label + "/" + r.Family + "/" + r.Variant
		c := byVariant[key]
		if c == nil {
			c = &counts{}
			byVariant[key] = c
		}
		for _, c := range []*counts{&all, c} {
			switch {
			case pos && flagged:
				c.tp++
			case pos:
				c.fn++
			case flagged:
				c.fp++
			default:
				c.tn++
			}
		}
		if testing.Verbose() && pos != flagged && os.Getenv("UNICODE_EVAL_ERRORS") != "" {
			t.Logf("%s score %.2f: %q", key, score, r.Text)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(byVariant))
	for k := range byVariant {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := byVariant[k]
		t.Logf("%-45s n=%4d flagged=%4d", k, c.tp+c.fp+c.fn+c.tn, c.tp+c.fp)
	}
	t.Logf("rows %d: precision %.4f recall %.4f F1 %.4f (tp %d fp %d fn %d tn %d)",
		n, all.precision(), all.recall(), all.f1(), all.tp, all.fp, all.fn, all.tn)
	if *evalFile != "testdata/dev.jsonl" {
		return
	}
	for _, fl := range []struct {
		name       string
		got, floor float64
	}{
		{"precision", all.precision(), floorPrecision},
		{"recall", all.recall(), floorRecall},
		{"F1", all.f1(), floorF1},
	} {
		if fl.got < fl.floor {
			t.Errorf("%s %.4f is below its floor %.2f", fl.name, fl.got, fl.floor)
		}
	}
	if n < 1000 {
		t.Errorf("dev set has %d rows", n)
	}
}
