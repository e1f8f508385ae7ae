package evidence

import (
	"cmp"
	"math"
	"slices"
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
// score >= t is flagged).
func Measure(scores []float64, labels []bool, t float64) Metrics {
	m := Metrics{N: len(scores), Threshold: t}
	var pos, neg []float64
	for i, s := range scores {
		flagged := s >= t
		if labels[i] {
			m.Pos++
			pos = append(pos, s)
			if flagged {
				m.TP++
			} else {
				m.FN++
			}
		} else {
			m.Neg++
			neg = append(neg, s)
			if flagged {
				m.FP++
			}
		}
	}
	if m.TP+m.FP > 0 {
		m.Precision = float64(m.TP) / float64(m.TP+m.FP)
	}
	if m.Pos > 0 {
		m.Recall = float64(m.TP) / float64(m.Pos)
	}
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	if m.Neg > 0 {
		m.FPR = float64(m.FP) / float64(m.Neg)
	}
	m.AUC = auc(pos, neg)
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

func auc(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	type sv struct {
		s float64
		p bool
	}
	all := make([]sv, 0, len(pos)+len(neg))
	for _, s := range pos {
		all = append(all, sv{s, true})
	}
	for _, s := range neg {
		all = append(all, sv{s, false})
	}
	slices.SortFunc(all, func(a, b sv) int { return cmp.Compare(a.s, b.s) })
	// Mann-Whitney U with mid-ranks for ties.
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].s == all[i].s {
			j++
		}
		mid := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if all[k].p {
				rankSum += mid
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
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
