package evidence

import (
	"errors"
	"fmt"
	"math"

	"github.com/rampartsec/rampart/classify"
	"github.com/rampartsec/rampart/detect/textnorm"
)

// The combiner's inputs: the classifier's logit over the whole text, its
// largest logit over windows, one indicator per rule category and the
// number of categories found.
const (
	FeatWhole = iota
	FeatWindow
	// FeatLine is the largest logit over 128-byte windows: an instruction
	// planted in a long document is about a line long.
	FeatLine
	FeatCat0
	FeatCount = FeatCat0 + int(NumCategories)
	// FeatAbstain is 1 when the classifier abstained (a script it was not
	// trained on); the logistic part gives it no weight.
	FeatAbstain = FeatCount + 1
	NumFeatures = FeatAbstain + 1
)

// FeatureNames names the inputs, in order.
var FeatureNames = [NumFeatures]string{"logit", "window_logit", "line_logit", "override", "role_hijack", "extraction",
	"persona", "addressed", "doc_imperative", "hidden", "obfuscated", "categories", "abstain"}

// The classifier's windows: blocks of 1<<blockShift folded bytes; a window
// is windowBlocks adjacent blocks (512 bytes), a line lineBlocks (128
// bytes). Windows slide by one block.
const (
	blockShift   = 6
	windowBlocks = 8
	lineBlocks   = 2
)

// Vector is one text's combiner input.
type Vector [NumFeatures]float64

// Analyze computes the combiner input of text: it folds text into sc,
// scores it with the classifier (whole and windowed) and scans the rules.
// The classifier abstains (logits 0) on texts whose dominant script is not
// in trained: it never saw both classes in that script.
func Analyze(m *classify.Model, s *Scanner, text string, indirect bool, trained Scripts, sc *Scratch) (Vector, Result) {
	sc.Folded = textnorm.Fold(sc.Folded[:0], text)
	var v Vector
	if trained.Has(DominantScript(sc.Folded)) {
		sc.sums = m.BlockSums(sc.Folded, blockShift, sc.sums)
		var acc int64
		var n int
		for k := range sc.sums.Acc {
			acc += sc.sums.Acc[k]
			n += int(sc.sums.N[k])
		}
		v[FeatWhole] = m.SumLogit(acc, n)
		v[FeatWindow] = maxWindow(m, sc.sums, windowBlocks, v[FeatWhole])
		v[FeatLine] = maxWindow(m, sc.sums, lineBlocks, v[FeatWhole])
	} else {
		v[FeatAbstain] = 1
	}
	r := s.Scan(text, indirect, sc)
	for c := range NumCategories {
		if r.Found[c] {
			v[FeatCat0+int(c)] = 1
		}
	}
	v[FeatCount] = float64(r.Count())
	return v, r
}

// maxWindow returns the largest logit over runs of w adjacent blocks, or
// whole when there are no more than w blocks.
func maxWindow(m *classify.Model, sums classify.Sums, w int, whole float64) float64 {
	if len(sums.Acc) <= w {
		return whole
	}
	var acc int64
	var n int
	best := math.Inf(-1)
	for k := range sums.Acc {
		acc += sums.Acc[k]
		n += int(sums.N[k])
		if k >= w {
			acc -= sums.Acc[k-w]
			n -= int(sums.N[k-w])
		}
		if k >= w-1 {
			best = max(best, m.SumLogit(acc, n))
		}
	}
	return best
}

// Combiner turns a Vector into the one calibrated score: a logistic
// regression over the features; where the classifier abstained, and for
// every text when NoisyOR is set, the noisy-OR of that probability with
// the precision of every rule category found:
// score = 1 - (1-p) * Π (1 - precision), with p = 0 where the classifier
// abstained.
type Combiner struct {
	Weights   [NumFeatures]float64 `json:"weights"`
	Bias      float64              `json:"bias"`
	Threshold float64              `json:"threshold"`
	// RulePrecision is each category's class-balanced precision measured
	// on the training part (0: not used).
	RulePrecision [NumCategories]float64 `json:"rule_precision"`
	// NoisyOR applies the rule precisions to every text.
	NoisyOR bool `json:"noisy_or"`
	// MaxRules makes the score the larger of the logistic probability and
	// the rules' noisy-OR alone.
	MaxRules bool `json:"max_rules"`
	// Scripts lists the writing systems the classifier was trained on
	// (both classes present); on others it abstains.
	Scripts []string `json:"scripts"`
}

// TrainedScripts returns Scripts as a set, ignoring unknown names.
func (c *Combiner) TrainedScripts() Scripts {
	var ss Scripts
	for _, n := range c.Scripts {
		if s, ok := ParseScript(n); ok {
			ss = ss.With(s)
		}
	}
	return ss
}

// Score returns the calibrated probability for v.
func (c *Combiner) Score(v Vector) float64 {
	if v[FeatAbstain] == 0 && !c.NoisyOR {
		z := c.Bias
		for i, w := range c.Weights {
			z += w * v[i]
		}
		p := sigmoid(z)
		if c.MaxRules {
			q := 1.0
			for k, pr := range c.RulePrecision {
				if v[FeatCat0+k] > 0 {
					q *= 1 - pr
				}
			}
			p = max(p, 1-q)
		}
		return p
	}
	q := 1.0
	if v[FeatAbstain] == 0 {
		z := c.Bias
		for i, w := range c.Weights {
			z += w * v[i]
		}
		q = 1 - sigmoid(z)
	}
	for k, p := range c.RulePrecision {
		if v[FeatCat0+k] > 0 {
			q *= 1 - p
		}
	}
	return 1 - q
}

// Strength is how strongly category k counts in the score.
func (c *Combiner) Strength(k Category) float64 {
	return max(c.RulePrecision[k], c.Weights[FeatCat0+int(k)])
}

// Check validates the parameters.
func (c *Combiner) Check() error {
	for i, w := range c.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("combiner weight %d is not finite", i)
		}
	}
	for i, p := range c.RulePrecision {
		if !(p >= 0 && p < 1) {
			return fmt.Errorf("rule precision %d is %v, want [0, 1)", i, p)
		}
	}
	if math.IsNaN(c.Bias) || math.IsInf(c.Bias, 0) {
		return errors.New("combiner bias is not finite")
	}
	if !(c.Threshold > 0 && c.Threshold < 1) {
		return fmt.Errorf("combiner threshold %v outside (0, 1)", c.Threshold)
	}
	return nil
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// FitCombiner fits the combiner by Newton's method on the L2-regularised
// log loss (l2 per weight), deterministically. Classes are weighted to
// equal total weight. Features whose use is false are left at weight 0.
func FitCombiner(xs []Vector, ys []bool, l2 float64, use [NumFeatures]bool) (Combiner, error) {
	var np, nn float64
	for _, y := range ys {
		if y {
			np++
		} else {
			nn++
		}
	}
	if np == 0 || nn == 0 {
		return Combiner{}, errors.New("fit combiner: needs both classes")
	}
	wp, wn := (np+nn)/(2*np), (np+nn)/(2*nn)
	const d = NumFeatures + 1
	var beta [d]float64
	for range 50 {
		var g [d]float64
		var h [d][d]float64
		for k, x := range xs {
			var xe [d]float64
			copy(xe[:], x[:])
			xe[NumFeatures] = 1
			z := 0.0
			for i := range d {
				z += beta[i] * xe[i]
			}
			p := sigmoid(z)
			y, cw := 0.0, wn
			if ys[k] {
				y, cw = 1, wp
			}
			for i := range d {
				g[i] += cw * (p - y) * xe[i]
				for j := range d {
					h[i][j] += cw * p * (1 - p) * xe[i] * xe[j]
				}
			}
		}
		for i := range NumFeatures {
			g[i] += l2 * beta[i]
			h[i][i] += l2
			if !use[i] {
				g[i] = 0
				for j := range d {
					h[i][j], h[j][i] = 0, 0
				}
				h[i][i] = 1
			}
		}
		h[NumFeatures][NumFeatures] += 1e-9
		step, ok := solve(h, g)
		if !ok {
			return Combiner{}, errors.New("fit combiner: singular system")
		}
		maxStep := 0.0
		for i := range d {
			beta[i] -= step[i]
			maxStep = max(maxStep, math.Abs(step[i]))
		}
		if maxStep < 1e-9 {
			break
		}
	}
	var c Combiner
	copy(c.Weights[:], beta[:NumFeatures])
	c.Bias = beta[NumFeatures]
	c.Threshold = 0.5
	return c, nil
}

// solve solves h x = g by Gaussian elimination with partial pivoting.
func solve(h [NumFeatures + 1][NumFeatures + 1]float64, g [NumFeatures + 1]float64) ([NumFeatures + 1]float64, bool) {
	const d = NumFeatures + 1
	for col := range d {
		p := col
		for r := col + 1; r < d; r++ {
			if math.Abs(h[r][col]) > math.Abs(h[p][col]) {
				p = r
			}
		}
		if math.Abs(h[p][col]) < 1e-15 {
			return g, false
		}
		h[col], h[p] = h[p], h[col]
		g[col], g[p] = g[p], g[col]
		for r := col + 1; r < d; r++ {
			f := h[r][col] / h[col][col]
			for c := col; c < d; c++ {
				h[r][c] -= f * h[col][c]
			}
			g[r] -= f * g[col]
		}
	}
	var x [d]float64
	for r := d - 1; r >= 0; r-- {
		s := g[r]
		for c := r + 1; c < d; c++ {
			s -= h[r][c] * x[c]
		}
		x[r] = s / h[r][r]
	}
	return x, true
}

// RulePrecision returns the class-balanced precision of a rule that fired
// on tp of pos positives and fp of neg negatives, with add-one-half
// smoothing, capped at 0.99.
func RulePrecision(tp, pos, fp, neg int) float64 {
	tpr := (float64(tp) + 0.5) / (float64(pos) + 1)
	fpr := (float64(fp) + 0.5) / (float64(neg) + 1)
	return min(tpr/(tpr+fpr), 0.99)
}
