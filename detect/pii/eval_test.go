package pii

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect/pii/internal/spaneval"
)

// TestDevSpans measures span-level precision, recall and F1 on the
// development split of pii-presidio-synth (testdata/dev.jsonl, written by
// go run ./detect/pii/internal/mkdev). PII_EVAL_FILE points it at another
// file (the training split while tuning); PII_EVAL_MISSES=1 lists the
// misses, for the training split only.
func TestDevSpans(t *testing.T) {
	path := "testdata/dev.jsonl"
	if p := os.Getenv("PII_EVAL_FILE"); p != "" {
		path = p
	}
	rows, err := spaneval.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(evalOptions)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := spaneval.Evaluate(context.Background(), d, rows, DatasetType)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Sum(ValidatedLabels...)
	t.Logf("%s: %d rows\n%s%-16s %5d %5d %5d %6.3f %6.3f %6.3f %8.3f", path, rep.Rows, rep, "validated", v.TP, v.FP, v.FN, v.Precision(), v.Recall(), v.F1(), v.ExactF1())
	if os.Getenv("PII_EVAL_MISSES") == "1" && path != "testdata/dev.jsonl" {
		var b strings.Builder
		for _, m := range rep.Misses {
			fmt.Fprintf(&b, "%s %s row %d %q\n", m.Kind, m.Type, m.Row, m.Value)
		}
		t.Log(b.String())
	}
	if path == "testdata/dev.jsonl" && v.F1() < 0.90 {
		t.Errorf("validated span F1 %.3f, want at least 0.90", v.F1())
	}
}

// evalOptions are the options the span evaluation runs with: the
// defaults.
var evalOptions = map[string]any{}
