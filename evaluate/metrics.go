package evaluate

import (
	"math"
	"slices"
	"sort"
)

// Counts is a confusion matrix.
type Counts struct {
	TP, FP, FN, TN int
}

// Add counts one item: positive is its gold label, flagged the prediction.
func (c *Counts) Add(positive, flagged bool) {
	switch {
	case positive && flagged:
		c.TP++
	case positive:
		c.FN++
	case flagged:
		c.FP++
	default:
		c.TN++
	}
}

// ratio returns a/b, or nil when b is 0 (the figure is undefined).
func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := float64(a) / float64(b)
	return &v
}

// Precision is TP/(TP+FP); nil when nothing was flagged.
func (c Counts) Precision() *float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN); nil when there are no positives.
func (c Counts) Recall() *float64 { return ratio(c.TP, c.TP+c.FN) }

// FPR is FP/(FP+TN); nil when there are no negatives.
func (c Counts) FPR() *float64 { return ratio(c.FP, c.FP+c.TN) }

// F1 is the harmonic mean of precision and recall, 2TP/(2TP+FP+FN); nil
// when there are neither positives nor flagged items.
func (c Counts) F1() *float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// Or returns *v, or undefined when v is nil: a figure of Counts or Scores
// as a plain number, for logs and floors that give an undefined ratio a
// value (0, or 1 for "nothing wrong").
func Or(v *float64, undefined float64) float64 {
	if v == nil {
		return undefined
	}
	return *v
}

// AUC returns the area under the ROC curve of scores pos (positives) and
// neg (negatives): the Mann–Whitney probability that a random positive
// scores above a random negative, ties counting one half. ok is false when
// either list is empty. NaN scores are not allowed.
func AUC(pos, neg []float64) (auc float64, ok bool) {
	if len(pos) == 0 || len(neg) == 0 {
		return 0, false
	}
	type item struct {
		s   float64
		pos bool
	}
	all := make([]item, 0, len(pos)+len(neg))
	for _, s := range pos {
		all = append(all, item{s, true})
	}
	for _, s := range neg {
		all = append(all, item{s, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	// Rank sum of the positives, tied groups getting their average rank
	// (ranks are 1-based).
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		np := 0
		for j < len(all) && all[j].s == all[i].s {
			if all[j].pos {
				np++
			}
			j++
		}
		avg := float64(i+1+j) / 2 // mean of ranks i+1 … j
		rankSum += float64(np) * avg
		i = j
	}
	p, n := float64(len(pos)), float64(len(neg))
	u := rankSum - p*(p+1)/2
	return u / (p * n), true
}

// RecallAtFPR returns the recall at the operating point whose false
// positive rate on neg is at most target: the threshold is the smallest
// observed score t such that the share of negatives scoring >= t (ties
// count as flagged) is <= target, and recall is the share of pos scoring
// >= t. ok is false when pos or neg is empty. When no observed score meets
// the target, recall is 0 and threshold is +Inf.
func RecallAtFPR(pos, neg []float64, target float64) (recall, threshold float64, ok bool) {
	if len(pos) == 0 || len(neg) == 0 {
		return 0, 0, false
	}
	n := slices.Clone(neg)
	slices.Sort(n)
	slices.Reverse(n)
	// k negatives may be flagged; the 1e-9 absorbs rounding in target*N.
	k := int(math.Floor(target*float64(len(n)) + 1e-9))
	if k >= len(n) {
		// Every negative may be flagged: the smallest score of all.
		t := math.Min(slices.Min(pos), n[len(n)-1])
		return 1, t, true
	}
	// At most k negatives score >= t exactly when t > n[k].
	bound := n[k]
	threshold = math.Inf(1)
	for _, s := range n[:k] {
		if s > bound && s < threshold {
			threshold = s
		}
	}
	hits := 0
	for _, s := range pos {
		if s > bound {
			hits++
			if s < threshold {
				threshold = s
			}
		}
	}
	return float64(hits) / float64(len(pos)), threshold, true
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// xs, sorting xs in place; 0 when xs is empty.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	r := int(math.Ceil(p / 100 * float64(len(xs))))
	r = min(max(r, 1), len(xs))
	return xs[r-1]
}

// IoU returns the intersection over union of two byte spans; 0 when they
// do not overlap or both are empty.
func IoU(a, b Span) float64 {
	inter := min(a.End, b.End) - max(a.Start, b.Start)
	if inter <= 0 {
		return 0
	}
	union := max(a.End, b.End) - min(a.Start, b.Start)
	return float64(inter) / float64(union)
}

// MatchSpans pairs predicted spans with gold spans one to one, best IoU
// first, and returns how many pairs reach minIoU. Types are not compared:
// callers match one type at a time. With exact set, a pair matches only
// when its boundaries are equal.
func MatchSpans(gold, pred []Span, minIoU float64, exact bool) int {
	type pair struct {
		g, p int
		iou  float64
	}
	var pairs []pair
	for gi, g := range gold {
		for pi, p := range pred {
			if exact {
				if g.Start == p.Start && g.End == p.End {
					pairs = append(pairs, pair{gi, pi, 1})
				}
				continue
			}
			if v := IoU(g, p); v >= minIoU && v > 0 {
				pairs = append(pairs, pair{gi, pi, v})
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].iou > pairs[j].iou })
	usedG := make([]bool, len(gold))
	usedP := make([]bool, len(pred))
	n := 0
	for _, pr := range pairs {
		if usedG[pr.g] || usedP[pr.p] {
			continue
		}
		usedG[pr.g], usedP[pr.p] = true, true
		n++
	}
	return n
}
