package classify

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
)

// Example is one labelled training text.
type Example struct {
	Text  string
	Label bool
	// Weight scales the example's loss; 0 counts as 1.
	Weight float64
	// Group keeps near-duplicates together: examples with the same
	// non-empty Group all go to the same side of the training/calibration
	// split. An empty Group is the example's own text.
	Group string
}

// Config controls Train.
type Config struct {
	Features Features
	// Epochs over the fitting part (default 5).
	Epochs int
	// L2 is the L2 regularisation strength per update (default 1e-6).
	L2 float64
	// LearningRate is AdaGrad's base step (default 0.2).
	LearningRate float64
	// Seed fixes the split and the example order; the same examples, Config
	// and Seed always give a byte-identical model.
	Seed uint64
	// CalibFraction is the share of groups held out to fit the Platt
	// calibration (default 0.15). Set it negative to fit no calibration
	// (the identity: probability = sigmoid(logit)).
	CalibFraction float64
	// Balance weights the classes so that positives and negatives carry
	// equal total weight in the fit.
	Balance bool
	// NoBias keeps the intercept at 0, so that a text with no known
	// feature (a script never seen in training, say) gets logit 0 rather
	// than the intercept's verdict.
	NoBias bool
	// Calibration, when non-nil, is the held-out part the Platt scaling is
	// fitted on; all examples are then used for fitting and CalibFraction
	// is ignored.
	Calibration []Example
	// Quantization, when set, is called with the calibration part's logits
	// under the float weights and under the stored int8 weights, and its
	// labels, so that the cost of quantisation can be measured.
	Quantization func(float, quant []float64, labels []bool)
	// SublinearTF is a training-time experiment: the fit (and the float
	// logits passed to Quantization) use 1+ln(count) per hashed feature
	// instead of its count, and divide by the L2 norm of that vector
	// instead of the square root of the feature count. The Model's own
	// scoring does not implement it (it sums counts in one pass), so the
	// quantised logits, the Platt scaling and the model's scores of such a
	// model do not match its fit: use it only to measure the float logits.
	SublinearTF bool
}

func (c *Config) defaults() {
	if c.Epochs == 0 {
		c.Epochs = 5
	}
	if c.L2 == 0 {
		c.L2 = 1e-6
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.2
	}
	if c.CalibFraction == 0 {
		c.CalibFraction = 0.15
	}
	if c.Features.Normalizer == "" {
		c.Features.Normalizer = "basic"
	}
}

// Split reports which examples Train used for fitting and which for
// calibration (by index into the examples it was given).
type Split struct {
	Fit, Calib []int
}

// SplitGroups divides example indices into a fitting part and a
// calibration part of about frac of the groups, deterministically for a
// seed. Train uses it; it is exported so that callers can report the same
// split.
func SplitGroups(examples []Example, frac float64, seed uint64) Split {
	var s Split
	for i, e := range examples {
		g := e.Group
		if g == "" {
			g = e.Text
		}
		h := fnv.New64a()
		var sb [8]byte
		for k := range sb {
			sb[k] = byte(seed >> (8 * k))
		}
		h.Write(sb[:])
		h.Write([]byte(g))
		if frac > 0 && float64(finish(h.Sum64())>>11)/(1<<53) < frac {
			s.Calib = append(s.Calib, i)
		} else {
			s.Fit = append(s.Fit, i)
		}
	}
	return s
}

// Train fits a model. It is deterministic: single-threaded AdaGrad over
// the fitting part in an order drawn from Seed, then int8 quantisation,
// then Platt scaling fitted on the calibration part's quantised logits.
func Train(examples []Example, cfg Config) (*Model, error) {
	cfg.defaults()
	if err := cfg.Features.validate(); err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	norm, ok := lookupNormalizer(cfg.Features.Normalizer)
	if !ok {
		return nil, fmt.Errorf("classify: normaliser %q is not registered", cfg.Features.Normalizer)
	}
	if cfg.Epochs < 0 || cfg.L2 < 0 || !(cfg.LearningRate > 0) || cfg.CalibFraction >= 1 {
		return nil, errors.New("classify: invalid training settings")
	}
	var split Split
	if cfg.Calibration != nil {
		n := len(examples)
		for i := range n {
			split.Fit = append(split.Fit, i)
		}
		for i := range cfg.Calibration {
			split.Calib = append(split.Calib, n+i)
		}
		examples = append(slices.Clip(examples), cfg.Calibration...)
	} else {
		split = SplitGroups(examples, cfg.CalibFraction, cfg.Seed)
	}
	var pos, neg float64
	for _, i := range split.Fit {
		if examples[i].Label {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return nil, fmt.Errorf("classify: the fitting part needs both classes (%v positive, %v negative)", pos, neg)
	}
	wPos, wNeg := 1.0, 1.0
	if cfg.Balance {
		wPos, wNeg = (pos+neg)/(2*pos), (pos+neg)/(2*neg)
	}

	normed := make([][]byte, len(examples))
	for i, e := range examples {
		normed[i] = norm(nil, e.Text)
	}

	nb := 1 << cfg.Features.Bits
	w := make([]float64, nb)
	g2 := make([]float64, nb)
	var bias, biasG2 float64
	const eps = 1e-8
	var feats []int32
	collect := func(s []byte) []int32 {
		feats = feats[:0]
		forEachFeature(cfg.Features, Version, s, func(h uint64) {
			idx := int32(h >> bucketShift & uint64(nb-1))
			if h>>signBit&1 == 1 {
				idx = -idx - 1
			}
			feats = append(feats, idx)
		})
		return feats
	}
	var vals []float64
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	order := slices.Clone(split.Fit)
	for range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			e := examples[i]
			fs := collect(normed[i])
			if len(fs) == 0 {
				continue
			}
			if cfg.SublinearTF {
				fs, vals = sublinear(fs, vals)
			}
			v := 1 / math.Sqrt(float64(len(fs)))
			z := bias
			for k, f := range fs {
				if cfg.SublinearTF {
					v = vals[k]
				}
				if f < 0 {
					z -= w[-f-1] * v
				} else {
					z += w[f] * v
				}
			}
			y, cw := 0.0, wNeg
			if e.Label {
				y, cw = 1, wPos
			}
			if e.Weight > 0 {
				cw *= e.Weight
			}
			g := (sigmoid(z) - y) * cw
			for k, f := range fs {
				if cfg.SublinearTF {
					v = vals[k]
				}
				idx, s := f, v
				if f < 0 {
					idx, s = -f-1, -v
				}
				gi := g*s + cfg.L2*w[idx]
				g2[idx] += gi * gi
				w[idx] -= cfg.LearningRate * gi / math.Sqrt(g2[idx]+eps)
			}
			if !cfg.NoBias {
				biasG2 += g * g
				bias -= cfg.LearningRate * g / math.Sqrt(biasG2+eps)
			}
		}
	}

	m := &Model{feat: cfg.Features, norm: norm, weights: make([]int8, nb), mask: uint64(nb - 1), version: Version, bias: float32(bias), plattA: 1, threshold: 0.5}
	var maxAbs float64
	for _, x := range w {
		maxAbs = max(maxAbs, math.Abs(x))
	}
	if maxAbs > 0 {
		m.scale = float32(maxAbs / 127)
		for i, x := range w {
			m.weights[i] = int8(math.Round(x / float64(m.scale)))
		}
	}
	if len(split.Calib) > 0 {
		z := make([]float64, len(split.Calib))
		y := make([]bool, len(split.Calib))
		for k, i := range split.Calib {
			z[k] = m.LogitNormalized(normed[i])
			y[k] = examples[i].Label
		}
		if cfg.Quantization != nil {
			fz := make([]float64, len(split.Calib))
			for k, i := range split.Calib {
				fs := collect(normed[i])
				if len(fs) == 0 {
					fz[k] = bias
					continue
				}
				if cfg.SublinearTF {
					fs, vals = sublinear(fs, vals)
				}
				acc := 0.0
				for j, f := range fs {
					x := 1.0
					if cfg.SublinearTF {
						x = vals[j]
					}
					if f < 0 {
						acc -= w[-f-1] * x
					} else {
						acc += w[f] * x
					}
				}
				if !cfg.SublinearTF {
					acc /= math.Sqrt(float64(len(fs)))
				}
				fz[k] = bias + acc
			}
			cfg.Quantization(fz, z, y)
		}
		a, b, err := FitPlatt(z, y)
		if err != nil {
			return nil, fmt.Errorf("classify: calibration: %w", err)
		}
		m.plattA, m.plattB = float32(a), float32(b)
	}
	m.prepare()
	return m, nil
}

// FitPlatt fits p = 1/(1+exp(-(a*z+b))) to decision values z with labels y
// by Newton's method on the log loss with Platt's smoothed targets
// (Lin, Lin and Weng 2007). It needs both classes.
func FitPlatt(z []float64, y []bool) (a, b float64, err error) {
	var np, nn float64
	for _, l := range y {
		if l {
			np++
		} else {
			nn++
		}
	}
	if np == 0 || nn == 0 {
		return 0, 0, fmt.Errorf("needs both classes (%v positive, %v negative)", np, nn)
	}
	hi, lo := (np+1)/(np+2), 1/(nn+2)
	t := make([]float64, len(y))
	for i, l := range y {
		if l {
			t[i] = hi
		} else {
			t[i] = lo
		}
	}
	a, b = 1, math.Log((np+1)/(nn+1))
	loss := func(a, b float64) float64 {
		var f float64
		for i := range z {
			fz := a*z[i] + b
			// -t*log(p) - (1-t)*log(1-p), p = sigmoid(fz), computed stably
			if fz >= 0 {
				f += (1-t[i])*fz + math.Log1p(math.Exp(-fz))
			} else {
				f += -t[i]*fz + math.Log1p(math.Exp(fz))
			}
		}
		return f
	}
	const sigma = 1e-12
	cur := loss(a, b)
	for range 100 {
		var h11, h22, h21, g1, g2 float64
		h11, h22 = sigma, sigma
		for i := range z {
			p := sigmoid(a*z[i] + b)
			d2 := p * (1 - p)
			h11 += z[i] * z[i] * d2
			h22 += d2
			h21 += z[i] * d2
			d1 := p - t[i]
			g1 += z[i] * d1
			g2 += d1
		}
		if math.Abs(g1) < 1e-9 && math.Abs(g2) < 1e-9 {
			break
		}
		det := h11*h22 - h21*h21
		da := -(h22*g1 - h21*g2) / det
		db := -(-h21*g1 + h11*g2) / det
		gd := g1*da + g2*db
		step := 1.0
		for step >= 1e-10 {
			na, nb := a+step*da, b+step*db
			nl := loss(na, nb)
			if nl < cur+1e-4*step*gd {
				a, b, cur = na, nb, nl
				break
			}
			step /= 2
		}
		if step < 1e-10 {
			break
		}
	}
	return a, b, nil
}

// sublinear turns a list of signed bucket indices (one per feature
// occurrence) into distinct signed indices, in place, with values
// (1+ln count) divided by the L2 norm of those values (SublinearTF).
func sublinear(fs []int32, vals []float64) ([]int32, []float64) {
	slices.Sort(fs)
	vals = vals[:0]
	out := fs[:0]
	var ss float64
	for i := 0; i < len(fs); {
		j := i
		for j < len(fs) && fs[j] == fs[i] {
			j++
		}
		x := 1 + math.Log(float64(j-i))
		out = append(out, fs[i])
		vals = append(vals, x)
		ss += x * x
		i = j
	}
	inv := 1 / math.Sqrt(ss)
	for k := range vals {
		vals[k] *= inv
	}
	return out, vals
}
