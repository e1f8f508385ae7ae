// Package metrics gives the injection training command and tests their
// figures at one threshold, the training command's threshold choice, and
// the recall at a false-positive budget, on top of the evaluate package's
// counting and ROC AUC.
package metrics

import (
	"cmp"
	"math"
	"slices"

	"github.com/rampartsec/rampart/evaluate"
)

// Metrics are binary classification figures at one threshold.
type Metrics struct {
	N, Pos, Neg             int
	TP, FP, FN              int
	Precision, Recall, F1   float64
	FPR                     float64 // false positives / negatives
	AUC                     float64 // ROC AUC
	RecallAt1FPR            float64 // recall at the threshold where the negatives' FPR is at most 1 %
	ThresholdAt1FPR         float64
	Threshold, MinimumScore float64
}

// Measure computes Metrics for scores against labels at threshold t (a
// score >= t is flagged). Undefined ratios are 0; the AUC is NaN when a
// class is empty.
func Measure(scores []float64, labels []bool, t float64) Metrics {
	m := Metrics{N: len(scores), Threshold: t}
	var c evaluate.Counts
	var pos, neg []float64
	for i, s := range scores {
		c.Add(labels[i], s >= t)
		if labels[i] {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	m.Pos, m.Neg = len(pos), len(neg)
	m.TP, m.FP, m.FN = c.TP, c.FP, c.FN
	m.Precision = evaluate.Or(c.Precision(), 0)
	m.Recall = evaluate.Or(c.Recall(), 0)
	m.F1 = evaluate.Or(c.F1(), 0)
	m.FPR = evaluate.Or(c.FPR(), 0)
	m.AUC = math.NaN()
	if v, ok := evaluate.AUC(pos, neg); ok {
		m.AUC = v
	}
	m.ThresholdAt1FPR = ThresholdAtFPR(neg, 0.01)
	if m.Pos > 0 {
		n := 0
		for _, s := range pos {
			if s >= m.ThresholdAt1FPR {
				n++
			}
		}
		m.RecallAt1FPR = float64(n) / float64(m.Pos)
	}
	return m
}

// ThresholdAtFPR returns the lowest threshold at which at most fpr of the
// negative scores are flagged (score >= threshold).
func ThresholdAtFPR(neg []float64, fpr float64) float64 {
	if len(neg) == 0 {
		return 0
	}
	s := slices.Clone(neg)
	slices.SortFunc(s, func(a, b float64) int { return cmp.Compare(b, a) })
	allowed := int(math.Floor(fpr * float64(len(s))))
	// Flag at most `allowed` negatives: the threshold must be above
	// s[allowed].
	if allowed >= len(s) {
		return 0
	}
	return math.Nextafter(s[allowed], math.Inf(1))
}

// PickThreshold returns the threshold with the best F1 on scores among
// those that flag at most maxFPR of the negatives.
func PickThreshold(scores []float64, labels []bool, maxFPR float64) float64 {
	var neg []float64
	for i, s := range scores {
		if !labels[i] {
			neg = append(neg, s)
		}
	}
	return PickThresholdOn(scores, labels, neg, maxFPR)
}

// PickThresholdOn is PickThreshold with the false-positive rate measured
// on the scores of neg (a chosen population of negatives, such as benign
// prompts) instead of on every negative of scores.
func PickThresholdOn(scores []float64, labels []bool, neg []float64, maxFPR float64) float64 {
	floor := ThresholdAtFPR(neg, maxFPR)
	cands := slices.Clone(scores)
	slices.Sort(cands)
	cands = slices.Compact(cands)
	best, bestF1 := max(floor, 0.5), -1.0
	for _, t := range cands {
		if t < floor {
			continue
		}
		if f := Measure(scores, labels, t).F1; f > bestF1 {
			best, bestF1 = t, f
		}
	}
	return best
}
