package canary

import (
	"context"
	"os"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/evaluate"
)

// TestDevSet measures the detector on the committed dev set (see
// docs/detectors/anonymize-and-canary.md) with the evaluate package, as
// rampart eval does: each row binds the detector to the row's system
// prompt and canary (DetectRow) as the gateway binds it per request. It
// holds the figures to floors a little below the measured ones.
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
	cfg := evaluate.DefaultConfig("canary")
	cfg.Threshold = base.Threshold()
	cfg.Role, cfg.Surface = detect.RoleAssistant, detect.SurfaceResponse
	rep, err := evaluate.Evaluate(context.Background(), base, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.ByFamily {
		t.Logf("%-18s flagged %d of %d", c.Value, c.TP+c.FP, c.N)
	}
	all := rep.Overall
	precision, recall, fpr := evaluate.Or(all.Precision, 0), evaluate.Or(all.Recall, 0), evaluate.Or(all.FPR, 0)
	t.Logf("rows %d: precision %.3f recall %.3f false-positive rate %.3f (tp %d fp %d fn %d tn %d)",
		all.N, precision, recall, fpr, all.TP, all.FP, all.FN, all.TN)
	if precision < floorPrecision || recall < floorRecall {
		t.Errorf("below the floors: precision %.3f (floor %.2f), recall %.3f (floor %.2f)", precision, floorPrecision, recall, floorRecall)
	}
}

// Floors for TestDevSet.
const (
	floorPrecision = 0.95
	floorRecall    = 0.68
)
