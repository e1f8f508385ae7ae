package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/rampartsec/rampart/classify"
	"github.com/rampartsec/rampart/detect/injection/internal/evidence"
	"github.com/rampartsec/rampart/detect/injection/internal/metrics"
)

// crossValidate reports k-fold cross-validated figures of a training
// configuration on the train and calibration rows (never dev): the rows'
// split groups are dealt into k folds with the seed; for each fold a
// classifier is trained on the other folds (augmented copies included, as
// in the real run) and the fold's original rows are analysed with it. The
// pooled out-of-fold vectors give the classifier's AUC and, through a
// two-fold cross-validation of the logistic combiner on them, the
// combiner's AUC, recall at 1 % FPR and F1 at thresholds chosen on the
// other combiner fold (best F1 with FPR at most 1 %, and best F1 without
// constraint).
//
// val are rows that are never fitted (BIPIA's evaluation-only code and
// table rows built from BIPIA's train-split attacks): each is scored by the
// fold model that did not see its group (and so not its attack text,
// planted elsewhere by synthesize), by a combiner fitted without them, and
// reported against the original rows' negatives. The slices all, direct and
// document are the original rows (no synthetic ones), so that figures
// compare across -synth settings.
func crossValidate(w io.Writer, rows, val []*row, exs []classify.Example, cfg classify.Config, k int, seed uint64, trainedScripts []string, synthCombiner bool) error {
	fold := map[string]int{}
	for _, r := range rows {
		g := strconv.Itoa(r.comp)
		fold[g] = int(unit(seed, "cv", r.comp, "") * float64(k))
	}
	var trained evidence.Scripts
	for _, n := range trainedScripts {
		s, _ := evidence.ParseScript(n)
		trained = trained.With(s)
	}
	sc := new(evidence.Scratch)
	scn := evidence.NewScanner()
	var xs []evidence.Vector
	var ys, doc, syn, isVal, benignPrompt []bool
	var src []string
	var floatZ []float64 // the float weights' whole-text logits, out of fold
	var floatY []bool
	for f := range k {
		var fit []classify.Example
		var held []classify.Example
		for _, e := range exs {
			if fold[e.Group] != f && e.Weight > 0 {
				fit = append(fit, e)
			}
		}
		for _, r := range rows {
			if fold[strconv.Itoa(r.comp)] == f {
				held = append(held, classify.Example{Text: r.Text, Label: positive(r.Label)})
			}
		}
		c := cfg
		c.Calibration = held
		c.Quantization = func(fz, _ []float64, y []bool) {
			floatZ = append(floatZ, fz...)
			floatY = append(floatY, y...)
		}
		m, err := classify.Train(fit, c)
		if err != nil {
			return fmt.Errorf("fold %d: %w", f, err)
		}
		for i, part := range [][]*row{rows, val} {
			for _, r := range part {
				if int(unit(seed, "cv", r.comp, "")*float64(k)) != f {
					continue
				}
				v, _ := evidence.Analyze(m, scn, r.Text, r.Role == "document", trained, sc)
				xs = append(xs, v)
				ys = append(ys, positive(r.Label))
				doc = append(doc, r.Role == "document")
				syn = append(syn, r.synthetic)
				src = append(src, r.Source)
				isVal = append(isVal, i == 1)
				benignPrompt = append(benignPrompt, i == 0 && !r.synthetic && r.Label == "benign" && r.Role != "document")
			}
		}
	}
	logit := func(i int) []float64 {
		s := make([]float64, len(xs))
		for j, x := range xs {
			s[j] = x[i]
		}
		return s
	}
	mw, ml := metrics.Measure(logit(evidence.FeatWhole), ys, 0), metrics.Measure(logit(evidence.FeatLine), ys, 0)
	fmt.Fprintf(w, "cv %d-fold classifier (out of fold, n=%d): AUC whole %.4f line %.4f; recall at 1%% FPR whole %.3f line %.3f\n",
		k, len(xs), mw.AUC, ml.AUC, mw.RecallAt1FPR, ml.RecallAt1FPR)
	mf := metrics.Measure(floatZ, floatY, 0)
	fmt.Fprintf(w, "cv %d-fold classifier float weights, whole text (out of fold): AUC %.4f, recall at 1%% FPR %.3f\n", k, mf.AUC, mf.RecallAt1FPR)
	var use [evidence.NumFeatures]bool
	for i := range use {
		use[i] = i != evidence.FeatAbstain
	}
	scores := make([]float64, len(xs))
	var thrC, thrU [2]float64
	for cf := range 2 {
		var tx []evidence.Vector
		var ty []bool
		for i := range xs {
			if i%2 != cf && !isVal[i] && (synthCombiner || !syn[i]) {
				tx, ty = append(tx, xs[i]), append(ty, ys[i])
			}
		}
		comb, err := evidence.FitCombiner(tx, ty, 1.0, use)
		if err != nil {
			return err
		}
		var ts []float64
		for i := range tx {
			ts = append(ts, comb.Score(tx[i]))
		}
		thrC[cf] = metrics.PickThreshold(ts, ty, 0.01)
		thrU[cf] = metrics.PickThreshold(ts, ty, 1)
		for i := range xs {
			if i%2 == cf {
				scores[i] = comb.Score(xs[i])
			}
		}
	}
	// F1 with each fold's threshold chosen on the other fold's training part.
	f1At := func(thr [2]float64, sel func(int) bool) (metrics.Metrics, float64) {
		var tp, fp, fn, neg int
		for i, s := range scores {
			if !sel(i) {
				continue
			}
			fl := s >= thr[i%2]
			switch {
			case ys[i] && fl:
				tp++
			case ys[i]:
				fn++
			case fl:
				fp++
				neg++
			default:
				neg++
			}
		}
		var m metrics.Metrics
		if tp > 0 {
			p, r := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
			m.Precision, m.Recall, m.F1 = p, r, 2*p*r/(p+r)
		}
		return m, float64(fp) / float64(max(neg, 1))
	}
	for _, sl := range []struct {
		name string
		sel  func(int) bool
	}{
		{"all", func(i int) bool { return !syn[i] && !isVal[i] }},
		{"direct", func(i int) bool { return !doc[i] && !syn[i] && !isVal[i] }},
		{"document", func(i int) bool { return doc[i] && !syn[i] && !isVal[i] }},
		{"synth", func(i int) bool { return syn[i] }},
		{"bipia-val", func(i int) bool { return isVal[i] || (!ys[i] && !syn[i]) }},
		{"val-code", func(i int) bool { return (isVal[i] && src[i] == "bipia-code") || (!ys[i] && !syn[i]) }},
		{"val-table", func(i int) bool { return (isVal[i] && src[i] == "bipia-table") || (!ys[i] && !syn[i]) }},
		{"syn-code", func(i int) bool { return syn[i] && src[i] == "synth-code" }},
		{"syn-table", func(i int) bool { return syn[i] && src[i] == "synth-table" }},
		{"syn-email", func(i int) bool { return syn[i] && src[i] == "synth-email" }},
	} {
		var ss []float64
		var ls []bool
		for i := range scores {
			if sl.sel(i) {
				ss, ls = append(ss, scores[i]), append(ls, ys[i])
			}
		}
		m := metrics.Measure(ss, ls, 0.5)
		mc, fc := f1At(thrC, sl.sel)
		mu, fu := f1At(thrU, sl.sel)
		fmt.Fprintf(w, "cv combiner %-9s n=%5d pos=%4d AUC %.4f R@1%%FPR %.3f | F1 %.3f R %.3f (FPR %.4f) at FPR<=1%% threshold | F1 %.3f (FPR %.4f) at max-F1 threshold\n",
			sl.name, m.N, m.Pos, m.AUC, m.RecallAt1FPR, mc.F1, mc.Recall, fc, mu.F1, fu)
	}
	// Recall of the original positives at the threshold where 1 % of the
	// original benign prompts (not documents, not harmful requests) are
	// flagged.
	var neg []float64
	var np, hit int
	for i, s := range scores {
		if benignPrompt[i] {
			neg = append(neg, s)
		}
	}
	t := metrics.ThresholdAtFPR(neg, 0.01)
	for i, s := range scores {
		if ys[i] && !syn[i] && !isVal[i] {
			np++
			if s >= t {
				hit++
			}
		}
	}
	fmt.Fprintf(w, "cv combiner recall at 1%% FPR on benign prompts (n=%d): %.3f\n", len(neg), float64(hit)/float64(max(np, 1)))
	return nil
}
