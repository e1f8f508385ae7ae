package exfil

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

type evalRow struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	Family string `json:"family"`
}

func readRows(t *testing.T, path string) []evalRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []evalRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var r evalRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

type counts struct{ tp, fp, fn, tn int }

func (c counts) figures() (p, r, f1, fpr float64) {
	if c.tp+c.fp > 0 {
		p = float64(c.tp) / float64(c.tp+c.fp)
	}
	if c.tp+c.fn > 0 {
		r = float64(c.tp) / float64(c.tp+c.fn)
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	if c.fp+c.tn > 0 {
		fpr = float64(c.fp) / float64(c.fp+c.tn)
	}
	return
}

func score(t *testing.T, d *Detector, text string) float64 {
	hs, err := d.Detect(context.Background(), detect.Input{Text: text, Role: detect.RoleAssistant, Surface: detect.SurfaceResponse})
	if err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, h := range hs {
		s = max(s, h.Score)
	}
	return s
}

// evaluate returns the counts at the detector's threshold, overall and per
// family.
func evaluate(t *testing.T, d *Detector, rows []evalRow) (counts, map[string]*counts) {
	var all counts
	fam := map[string]*counts{}
	for _, r := range rows {
		flagged := score(t, d, r.Text) >= d.Threshold()
		c := fam[r.Family]
		if c == nil {
			c = &counts{}
			fam[r.Family] = c
		}
		for _, x := range []*counts{&all, c} {
			switch {
			case r.Label == "exfil" && flagged:
				x.tp++
			case r.Label == "exfil":
				x.fn++
			case flagged:
				x.fp++
			default:
				x.tn++
			}
		}
	}
	return all, fam
}

// TestDevFigures measures the committed dev split (built by
// internal/mkdev -seed 1) and checks it against floors a little below the
// measured figures. EXFIL_EVAL=file evaluates another file (the train
// split) and prints per-family figures without checking floors.
func TestDevFigures(t *testing.T) {
	path := "testdata/dev.jsonl"
	other := os.Getenv("EXFIL_EVAL")
	if other != "" {
		path = other
	}
	d, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	all, fam := evaluate(t, d, readRows(t, path))
	p, r, f1, fpr := all.figures()
	t.Logf("%s: precision %.3f recall %.3f F1 %.3f FPR %.3f (tp %d fp %d fn %d tn %d)", path, p, r, f1, fpr, all.tp, all.fp, all.fn, all.tn)
	names := make([]string, 0, len(fam))
	for n := range fam {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := fam[n]
		t.Logf("  %-22s tp %3d fn %3d fp %3d tn %3d", n, c.tp, c.fn, c.fp, c.tn)
	}
	if other != "" {
		return
	}
	if p < devFloorPrecision || r < devFloorRecall {
		t.Errorf("dev precision %.3f recall %.3f below floors %.2f %.2f", p, r, devFloorPrecision, devFloorRecall)
	}
}

// Floors for the dev split, set a little below the figures measured when
// it was built (docs/detectors/exfil-and-comparison.md).
const (
	devFloorPrecision = 0.97
	devFloorRecall    = 0.88
)
