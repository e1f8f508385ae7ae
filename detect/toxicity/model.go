package toxicity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/rampartsec/rampart/classify"
	"github.com/rampartsec/rampart/detect/textnorm"
)

// NormalizerName is the classify normaliser this package registers:
// textnorm.Fold.
const NormalizerName = "toxicity-fold-v1"

func init() {
	if err := classify.RegisterNormalizer(NormalizerName, textnorm.Fold); err != nil {
		panic(err) // registered once, at init
	}
}

// numFull is the number of inputs of the full combiner: the classifier's
// logit and one indicator per category.
const numFull = 1 + int(NumCategories)

// Model is the trained part of the detector: the n-gram classifier and the
// two small logistic models that turn its logit and the lexicon's evidence
// into one calibrated probability.
//
//	full:    p = sigmoid(Bias + Logit*z + Σ_c Cat[c]*[category c matched])
//	lexicon: p = sigmoid(LexBias + LexCat[c]) for a match of category c
//
// The full model scores a whole text; the lexicon model scores one match on
// its own (the detector's classifier-free, streamable mode).
type Model struct {
	// Classifier is the n-gram classifier; its logit is the full model's
	// first input.
	Classifier *classify.Model
	// Full is [bias, logit weight, category weights...].
	Full [1 + numFull]float64
	// Lex is [bias, category weights...].
	Lex [1 + int(NumCategories)]float64
	// Threshold and LexThreshold are the operating points chosen on the
	// calibration split for the two modes.
	Threshold, LexThreshold float64
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// fullScore returns the calibrated probability for logit z and matched
// categories cats (bit per Category).
func (m *Model) fullScore(z float64, cats uint8) float64 {
	x := m.Full[0] + m.Full[1]*z
	for c := range int(NumCategories) {
		if cats&(1<<c) != 0 {
			x += m.Full[2+c]
		}
	}
	return sigmoid(x)
}

// lexScore returns the probability of a match of category c alone.
func (m *Model) lexScore(c Category) float64 { return sigmoid(m.Lex[0] + m.Lex[1+int(c)]) }

// The model file, little-endian:
//
//	0   4      magic "RPTX"
//	4   2      version (1)
//	6   8×2    float64 Threshold, LexThreshold
//	22  8×9    float64 Full
//	94  8×7    float64 Lex
//	150 4      length N of the classifier file
//	154 N      classifier file (classify's format)
//	…   4      CRC-32 (IEEE) of everything before it
const (
	modelMagic   = "RPTX"
	modelVersion = 1
	headerBytes  = 4 + 2 + 8*2 + 8*(1+numFull) + 8*(1+int(NumCategories)) + 4
)

// ErrFormat is wrapped by every error ParseModel returns for a malformed
// file.
var ErrFormat = errors.New("toxicity: malformed model file")

// MarshalBinary returns the model in its file format.
func (m *Model) MarshalBinary() ([]byte, error) {
	if m.Classifier == nil {
		return nil, errors.New("toxicity: model has no classifier")
	}
	cb, err := m.Classifier.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("toxicity: classifier: %w", err)
	}
	b := make([]byte, 0, headerBytes+len(cb)+4)
	b = append(b, modelMagic...)
	b = binary.LittleEndian.AppendUint16(b, modelVersion)
	put := func(x float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x)) }
	put(m.Threshold)
	put(m.LexThreshold)
	for _, x := range m.Full {
		put(x)
	}
	for _, x := range m.Lex {
		put(x)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cb)))
	b = append(b, cb...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return b, nil
}

// ParseModel reads a model file. It never panics on bad input.
func ParseModel(data []byte) (*Model, error) {
	if len(data) < headerBytes+4 {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrFormat, len(data))
	}
	if string(data[:4]) != modelMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != modelVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrFormat, v, modelVersion)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrFormat)
	}
	m := &Model{}
	off := 6
	get := func() float64 {
		x := math.Float64frombits(binary.LittleEndian.Uint64(data[off:]))
		off += 8
		return x
	}
	m.Threshold, m.LexThreshold = get(), get()
	for i := range m.Full {
		m.Full[i] = get()
	}
	for i := range m.Lex {
		m.Lex[i] = get()
	}
	for _, x := range append(m.Full[:], append(m.Lex[:], m.Threshold, m.LexThreshold)...) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: non-finite parameter", ErrFormat)
		}
	}
	if !(m.Threshold >= 0 && m.Threshold <= 1 && m.LexThreshold >= 0 && m.LexThreshold <= 1) {
		return nil, fmt.Errorf("%w: threshold outside [0, 1]", ErrFormat)
	}
	n := int(binary.LittleEndian.Uint32(data[off:]))
	off += 4
	if n != len(body)-off {
		return nil, fmt.Errorf("%w: classifier length %d, %d bytes left", ErrFormat, n, len(body)-off)
	}
	c, err := classify.Parse(body[off:])
	if err != nil {
		return nil, fmt.Errorf("%w: classifier: %w", ErrFormat, err)
	}
	if c.Features().Normalizer != NormalizerName {
		return nil, fmt.Errorf("%w: classifier normaliser %q, want %q", ErrFormat, c.Features().Normalizer, NormalizerName)
	}
	m.Classifier = c
	return m, nil
}

// Score returns the calibrated probability for evidence: the full model's
// for Latin-script text, the lexicon model's otherwise.
func (m *Model) Score(e Evidence) float64 {
	if !e.Latin {
		return m.lexOnly(e.Cats)
	}
	return m.fullScore(e.Logit, e.Cats)
}

// lexOnly is the highest lexicon-model probability of the matched
// categories, 0 when none matched.
func (m *Model) lexOnly(cats uint8) float64 {
	p := 0.0
	for c := range NumCategories {
		if cats&(1<<c) != 0 {
			p = max(p, m.lexScore(c))
		}
	}
	return p
}
