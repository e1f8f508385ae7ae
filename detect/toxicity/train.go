package toxicity

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/rampartsec/rampart/classify"
)

// Example is one labelled text for training.
type Example struct {
	Text   string
	Toxic  bool
	Weight float64 // 0 counts as 1
}

// TrainConfig controls Train.
type TrainConfig struct {
	// Features of the classifier; the normaliser is always NormalizerName.
	Features classify.Features
	// Epochs, L2 and LearningRate are passed to classify.Train.
	Epochs       int
	L2           float64
	LearningRate float64
	// Seed fixes the classifier's example order.
	Seed uint64
	// CombinerL2 is the L2 penalty of the combiners' weights (not their
	// biases), in units of total example weight (default 1).
	CombinerL2 float64
}

// DefaultFeatures is the classifier configuration of the shipped model.
var DefaultFeatures = classify.Features{Bits: 17, CharMin: 4, CharMax: 4, WordMax: 1, Normalizer: NormalizerName}

// Train fits the model: the classifier on fit, then the two combiners and
// their operating points on calib, which must be disjoint from fit.
// terms is the lexicon whose evidence the combiners learn to weigh. The
// result is deterministic for the same inputs.
func Train(fit, calib []Example, terms []Term, cfg TrainConfig) (*Model, error) {
	if len(calib) == 0 {
		return nil, errors.New("toxicity: empty calibration set")
	}
	if cfg.CombinerL2 == 0 {
		cfg.CombinerL2 = 1
	}
	feat := cfg.Features
	feat.Normalizer = NormalizerName
	ex := make([]classify.Example, len(fit))
	for i, e := range fit {
		ex[i] = classify.Example{Text: e.Text, Label: e.Toxic, Weight: e.Weight}
	}
	clf, err := classify.Train(ex, classify.Config{
		Features: feat, Epochs: cfg.Epochs, L2: cfg.L2, LearningRate: cfg.LearningRate,
		Seed: cfg.Seed, CalibFraction: -1, Balance: true,
	})
	if err != nil {
		return nil, fmt.Errorf("toxicity: classifier: %w", err)
	}
	m := &Model{Classifier: clf}
	d := &Detector{model: m, lex: NewLexicon(terms, nil), classifier: true}
	xf := make([][]float64, 0, len(calib))
	yf := make([]bool, 0, len(calib))
	wf := make([]float64, 0, len(calib))
	xl := make([][]float64, len(calib))
	y := make([]bool, len(calib))
	w := make([]float64, len(calib))
	ev := make([]Evidence, len(calib))
	for i, e := range calib {
		ev[i] = d.Evidence(e.Text)
		xl[i] = make([]float64, NumCategories)
		for c := range int(NumCategories) {
			if ev[i].Cats&(1<<c) != 0 {
				xl[i][c] = 1
			}
		}
		y[i] = e.Toxic
		w[i] = e.Weight
		if w[i] <= 0 {
			w[i] = 1
		}
		if ev[i].Latin {
			// The full combiner scores Latin-script text only.
			xf = append(xf, append([]float64{ev[i].Logit}, xl[i]...))
			yf = append(yf, y[i])
			wf = append(wf, w[i])
		}
	}
	full, err := fitLogistic(xf, yf, wf, cfg.CombinerL2)
	if err != nil {
		return nil, fmt.Errorf("toxicity: combiner: %w", err)
	}
	lex, err := fitLogistic(xl, y, w, cfg.CombinerL2)
	if err != nil {
		return nil, fmt.Errorf("toxicity: lexicon combiner: %w", err)
	}
	copy(m.Full[:], full)
	copy(m.Lex[:], lex)
	ps := make([]float64, len(calib))
	pl := make([]float64, len(calib))
	for i := range calib {
		ps[i] = m.Score(ev[i])
		pl[i] = m.lexOnly(ev[i].Cats)
	}
	m.Threshold = bestF1Threshold(ps, y, w)
	m.LexThreshold = bestF1Threshold(pl, y, w)
	return m, nil
}

// bestF1Threshold returns the score, rounded down to 0.01, at which the
// weighted F1 is highest (0.5 when no threshold flags anything).
func bestF1Threshold(p []float64, y []bool, w []float64) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	var pos float64
	for i := range y {
		if y[i] {
			pos += w[i]
		}
	}
	best, bestT := -1.0, 0.5
	var tp, fp float64
	for k, i := range idx {
		if y[i] {
			tp += w[i]
		} else {
			fp += w[i]
		}
		if k+1 < len(idx) && p[idx[k+1]] == p[i] {
			continue
		}
		if p[i] <= 0 || tp == 0 {
			continue
		}
		f1 := 2 * tp / (2*tp + fp + (pos - tp))
		if f1 > best {
			best, bestT = f1, p[i]
		}
	}
	return math.Floor(bestT*100) / 100
}

// fitLogistic fits p = sigmoid(b + Σ c_j x_j) by Newton's method on the
// weighted log loss plus l2/2·Σ c_j² (the bias is not penalised). It
// returns [b, c...].
func fitLogistic(x [][]float64, y []bool, w []float64, l2 float64) ([]float64, error) {
	if len(x) == 0 {
		return nil, errors.New("no examples")
	}
	k := len(x[0]) + 1
	beta := make([]float64, k)
	row := make([]float64, k)
	for range 50 {
		g := make([]float64, k)
		h := make([][]float64, k)
		for i := range h {
			h[i] = make([]float64, k)
		}
		for j := 1; j < k; j++ {
			g[j] = l2 * beta[j]
			h[j][j] = l2
		}
		h[0][0] = 1e-9
		for i, xi := range x {
			row[0] = 1
			copy(row[1:], xi)
			var z float64
			for j := range k {
				z += beta[j] * row[j]
			}
			p := sigmoid(z)
			t := 0.0
			if y[i] {
				t = 1
			}
			for a := range k {
				g[a] += w[i] * (p - t) * row[a]
				for b := range k {
					h[a][b] += w[i] * p * (1 - p) * row[a] * row[b]
				}
			}
		}
		step, err := solve(h, g)
		if err != nil {
			return nil, err
		}
		var norm float64
		for j := range k {
			beta[j] -= step[j]
			norm += step[j] * step[j]
		}
		if norm < 1e-18 {
			break
		}
	}
	for _, b := range beta {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, errors.New("did not converge")
		}
	}
	return beta, nil
}

// solve returns x with a·x = b by Gaussian elimination with partial
// pivoting; a and b are overwritten.
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-300 {
			return nil, errors.New("singular system")
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, nil
}
