package exfil

import (
	"context"
	"os"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/evaluate"
)

// evaluateFile measures d on the labelled JSONL file at path with the
// evaluate package, as rampart eval does, at the detector's threshold on
// assistant responses.
func evaluateFile(t *testing.T, d *Detector, path string) *evaluate.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := evaluate.DefaultConfig("exfil")
	cfg.Threshold = d.Threshold()
	cfg.Role, cfg.Surface = detect.RoleAssistant, detect.SurfaceResponse
	rep, err := evaluate.Evaluate(context.Background(), d, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
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
	rep := evaluateFile(t, d, path)
	all := rep.Overall
	p, r := evaluate.Or(all.Precision, 0), evaluate.Or(all.Recall, 0)
	t.Logf("%s: precision %.3f recall %.3f F1 %.3f FPR %.3f (tp %d fp %d fn %d tn %d)", path, p, r,
		evaluate.Or(all.F1, 0), evaluate.Or(all.FPR, 0), all.TP, all.FP, all.FN, all.TN)
	for _, c := range rep.ByFamily {
		t.Logf("  %-22s tp %3d fn %3d fp %3d tn %3d", c.Value, c.TP, c.FN, c.FP, c.TN)
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
