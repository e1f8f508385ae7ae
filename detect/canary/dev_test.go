package canary

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

// devRow is a row of testdata/dev.jsonl (see docs/detectors/anonymize-and-canary.md).
type devRow struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	System string `json:"system"`
	Canary string `json:"canary"`
	Family string `json:"family"`
}

// TestDevSet measures the detector on the committed dev set, bound per row
// to the row's system prompt and canary as the gateway binds it per
// request, and holds it to floors a little below the measured figures.
func TestDevSet(t *testing.T) {
	f, err := os.Open("testdata/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ tp, fp, fn, tn int }
	var all counts
	byFamily := map[string]*counts{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r devRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		d := base.ForRequest(r.System, r.Canary)
		hs, err := d.Detect(context.Background(), detect.Input{Text: r.Text, Role: detect.RoleAssistant, Surface: detect.SurfaceResponse})
		if err != nil {
			t.Fatal(err)
		}
		score := 0.0
		for _, h := range hs {
			score = max(score, h.Score)
		}
		flagged := score >= base.Threshold()
		c := byFamily[r.Family]
		if c == nil {
			c = &counts{}
			byFamily[r.Family] = c
		}
		for _, k := range []*counts{&all, c} {
			switch pos := r.Label == "leak"; {
			case pos && flagged:
				k.tp++
			case pos:
				k.fn++
			case flagged:
				k.fp++
			default:
				k.tn++
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	fams := make([]string, 0, len(byFamily))
	for k := range byFamily {
		fams = append(fams, k)
	}
	sort.Strings(fams)
	for _, k := range fams {
		c := byFamily[k]
		t.Logf("%-18s flagged %d of %d", k, c.tp+c.fp, c.tp+c.fp+c.fn+c.tn)
	}
	precision := float64(all.tp) / float64(max(all.tp+all.fp, 1))
	recall := float64(all.tp) / float64(max(all.tp+all.fn, 1))
	fpr := float64(all.fp) / float64(max(all.fp+all.tn, 1))
	t.Logf("rows %d: precision %.3f recall %.3f false-positive rate %.3f (tp %d fp %d fn %d tn %d)",
		all.tp+all.fp+all.fn+all.tn, precision, recall, fpr, all.tp, all.fp, all.fn, all.tn)
	if precision < floorPrecision || recall < floorRecall {
		t.Errorf("below the floors: precision %.3f (floor %.2f), recall %.3f (floor %.2f)", precision, floorPrecision, recall, floorRecall)
	}
}

// Floors for TestDevSet.
const (
	floorPrecision = 0.95
	floorRecall    = 0.68
)
