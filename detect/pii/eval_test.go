package pii

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/evaluate"
)

// TestDevSpans measures span-level precision, recall and F1 on the
// development split of pii-presidio-synth (testdata/dev.jsonl, written by
// go run ./detect/pii/internal/mkdev) with the evaluate package, as
// rampart eval does: a hit matches a gold span of the same type (mapped by
// DatasetType) when their intersection over union is at least 0.5.
// PII_EVAL_FILE points it at another file (the training split while
// tuning); PII_EVAL_MISSES=1 lists the misses, for the training split
// only.
func TestDevSpans(t *testing.T) {
	path := "testdata/dev.jsonl"
	if p := os.Getenv("PII_EVAL_FILE"); p != "" {
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(evalOptions)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evaluate.Evaluate(context.Background(), d, bytes.NewReader(data), evalConfig(d))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Spans == nil {
		t.Fatalf("%s: no row carries entities", path)
	}
	byType := map[string]evaluate.Counts{}
	for _, s := range rep.Spans.Types {
		byType[s.Type] = spanCounts(s)
	}
	for _, n := range rep.Spans.NotEvaluated {
		if n.Side == "predicted" { // a label no dataset type maps to: all false positives
			byType[n.Type] = evaluate.Counts{FP: n.Count}
		}
	}
	var vs evaluate.SpanScores
	for _, s := range rep.Spans.Types {
		if slices.Contains(ValidatedLabels, s.Type) {
			vs.Gold, vs.Predicted, vs.Matched, vs.MatchedExact = vs.Gold+s.Gold, vs.Predicted+s.Predicted, vs.Matched+s.Matched, vs.MatchedExact+s.MatchedExact
		}
	}
	v := spanCounts(vs)
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %5s %5s %5s %6s %6s %6s %8s\n", "type", "tp", "fp", "fn", "prec", "recall", "f1", "exact-f1")
	row := func(name string, c evaluate.Counts, exact evaluate.Counts) {
		fmt.Fprintf(&b, "%-16s %5d %5d %5d %6.3f %6.3f %6.3f %8.3f", name, c.TP, c.FP, c.FN, or0(c.Precision()), or0(c.Recall()), or0(c.F1()), or0(exact.F1()))
	}
	exactOf := map[string]evaluate.Counts{}
	for _, s := range rep.Spans.Types {
		exactOf[s.Type] = exactCounts(s)
	}
	for _, k := range slices.Sorted(maps.Keys(byType)) {
		row(k, byType[k], exactOf[k])
		b.WriteByte('\n')
	}
	row("validated", v, exactCounts(vs))
	t.Logf("%s: %d rows\n%s", path, rep.Overall.N, b.String())
	if os.Getenv("PII_EVAL_MISSES") == "1" && path != "testdata/dev.jsonl" {
		t.Log(misses(t, d, data))
	}
	if f1 := or0(v.F1()); path == "testdata/dev.jsonl" && f1 < 0.90 {
		t.Errorf("validated span F1 %.3f, want at least 0.90", f1)
	}
}

// evalOptions are the options the span evaluation runs with: the
// defaults.
var evalOptions = map[string]any{}

// evalConfig is rampart eval's configuration for pii with this package's
// type mapping registered, at the detector's threshold, on the dataset
// surface.
func evalConfig(d *Detector) evaluate.Config {
	cfg := evaluate.DefaultConfig("pii")
	cfg.TypeMap = nil
	cfg.MapType = DatasetType
	cfg.Labels = slices.Sorted(maps.Values(datasetTypes))
	cfg.Threshold = d.Threshold()
	cfg.Surface = detect.SurfaceDataset
	return cfg
}

// spanCounts are the IoU-matched span figures of s as a confusion matrix.
func spanCounts(s evaluate.SpanScores) evaluate.Counts {
	return evaluate.Counts{TP: s.Matched, FP: s.Predicted - s.Matched, FN: s.Gold - s.Matched}
}

// exactCounts are the exact-boundary span figures of s.
func exactCounts(s evaluate.SpanScores) evaluate.Counts {
	return evaluate.Counts{TP: s.MatchedExact, FP: s.Predicted - s.MatchedExact, FN: s.Gold - s.MatchedExact}
}

// or0 is *v, or 0 when the figure is undefined.
func or0(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// misses lists, for inspection, the hits that match no gold span of their
// type and the gold spans that no hit of their type matches (IoU at least
// evaluate.MinIoU, without the one-to-one pairing of the figures).
func misses(t *testing.T, d *Detector, data []byte) string {
	cfg := evalConfig(d)
	var b strings.Builder
	lr := evaluate.NewLineReader(bytes.NewReader(data), 0)
	for i := 0; ; i++ {
		line, _, err := lr.Next()
		if err != nil {
			break
		}
		r, err := evaluate.ParseRow(line)
		if err != nil {
			t.Fatal(err)
		}
		gold, _, err := r.Spans("entities")
		if err != nil {
			t.Fatal(err)
		}
		for j := range gold {
			gold[j].Type = DatasetType(gold[j].Type)
		}
		gold = slices.DeleteFunc(gold, func(g evaluate.Span) bool { return g.Type == "" })
		hits, err := d.Detect(context.Background(), detect.Input{Text: r.Text, Role: cfg.Role, Surface: cfg.Surface})
		if err != nil {
			t.Fatal(err)
		}
		var pred []evaluate.Span
		for _, h := range hits {
			if h.Score >= cfg.Threshold {
				pred = append(pred, evaluate.Span{Type: h.Label, Start: h.Start, End: h.End})
			}
		}
		matched := func(s evaluate.Span, others []evaluate.Span) bool {
			return slices.ContainsFunc(others, func(o evaluate.Span) bool {
				return o.Type == s.Type && evaluate.IoU(s, o) >= evaluate.MinIoU
			})
		}
		for _, p := range pred {
			if !matched(p, gold) {
				fmt.Fprintf(&b, "fp %s row %d %q\n", p.Type, i, r.Text[p.Start:p.End])
			}
		}
		for _, g := range gold {
			if !matched(g, pred) {
				fmt.Fprintf(&b, "fn %s row %d %q\n", g.Type, i, r.Text[g.Start:g.End])
			}
		}
	}
	return b.String()
}
