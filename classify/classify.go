// Package classify is a small binary text classifier: hashed character
// n-grams and word n-grams of a normalised text, scored by an L2-regularised
// logistic regression and mapped to a probability by Platt scaling.
//
// A Model is trained with Train, written with (*Model).WriteTo and read back
// with Load. The file format is compact and versioned (see format.go); the
// weights are stored as int8 with one scale factor.
//
// Features: the text is first normalised by a named Normalizer (the built-in
// "basic" lower-cases and collapses white space; other packages register
// their own with RegisterNormalizer). Every byte n-gram of length
// Config.CharMin..Config.CharMax of the normalised text, every word
// (a run of letters and digits; any non-ASCII byte counts as a letter) and,
// when Config.WordMax is 2, every pair of adjacent words, is hashed with
// a 64-bit mixing function (byte n-grams of up to 7 bytes are
// packed into one word with their length; words are hashed with FNV-1a
// first) into one of 2^Bits buckets (Bits bits of the mixed hash from bit
// 40) with a sign taken from bit 39 (signed feature hashing; model format
// 2). The feature vector is divided by the square root
// of the number of features so that long and short texts score on one scale.
//
// Scoring is allocation-free in steady state: the normalised text is built
// in a pooled scratch buffer and features are summed as they are hashed.
package classify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Normalizer appends the normalised form of s to dst and returns the
// extended slice. It must be deterministic and safe for concurrent use.
type Normalizer func(dst []byte, s string) []byte

var (
	normMu      sync.RWMutex
	normalizers = map[string]Normalizer{"basic": Basic}
)

// RegisterNormalizer makes a normaliser available under name to Train and
// Load. A model file records the name of the normaliser it was trained
// with, and Load refuses a file whose normaliser is not registered. It
// returns an error when the name is empty, longer than 255 bytes or already
// registered.
func RegisterNormalizer(name string, fn Normalizer) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("classify: normaliser name %q must be 1 to 255 bytes", name)
	}
	if fn == nil {
		return errors.New("classify: nil normaliser")
	}
	normMu.Lock()
	defer normMu.Unlock()
	if _, dup := normalizers[name]; dup {
		return fmt.Errorf("classify: normaliser %q already registered", name)
	}
	normalizers[name] = fn
	return nil
}

func lookupNormalizer(name string) (Normalizer, bool) {
	normMu.RLock()
	defer normMu.RUnlock()
	fn, ok := normalizers[name]
	return fn, ok
}

// Basic is the built-in normaliser "basic": it lower-cases letters (Unicode
// simple case folding to lower case), turns every run of white space and
// control characters into one space, trims leading and trailing space, and
// replaces invalid UTF-8 with U+FFFD.
func Basic(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	space := true // suppress leading space
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if c <= ' ' || c == 0x7f {
				if !space {
					dst = append(dst, ' ')
					space = true
				}
				continue
			}
			dst = append(dst, c|lowerBit[c])
			space = false
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		space = false
	}
	if space && len(dst) > 0 && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// lowerBit[c] is 0x20 for ASCII upper-case letters.
var lowerBit = func() (t [utf8.RuneSelf]byte) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 0x20
	}
	return t
}()

// Features is the feature configuration of a model.
type Features struct {
	// Bits is log2 of the number of hash buckets, 8 to 24.
	Bits int
	// CharMin and CharMax bound the byte n-gram lengths, 1 <= CharMin <=
	// CharMax <= 7; CharMax 0 disables character n-grams.
	CharMin, CharMax int
	// WordMax is 0 (no word features), 1 (words) or 2 (words and adjacent
	// pairs).
	WordMax int
	// Normalizer names a registered normaliser ("basic" when empty).
	Normalizer string
}

func (f Features) validate() error {
	if f.Bits < 8 || f.Bits > 24 {
		return fmt.Errorf("bits %d out of range 8..24", f.Bits)
	}
	if f.CharMax != 0 && (f.CharMin < 1 || f.CharMin > f.CharMax || f.CharMax > 7) {
		return fmt.Errorf("character n-gram range %d..%d invalid (want 1 <= min <= max <= 7)", f.CharMin, f.CharMax)
	}
	if f.WordMax < 0 || f.WordMax > 2 {
		return fmt.Errorf("word n-gram order %d invalid (want 0, 1 or 2)", f.WordMax)
	}
	if f.CharMax == 0 && f.WordMax == 0 {
		return errors.New("no features enabled")
	}
	if len(f.Normalizer) > 255 {
		return errors.New("normaliser name longer than 255 bytes")
	}
	return nil
}

// Model is a trained classifier. It is immutable and safe for concurrent
// use.
type Model struct {
	feat    Features
	norm    Normalizer
	weights []int8
	mask    uint64  // len(weights)-1
	version uint16  // file format: 1 or 2, the feature hashing
	scale   float32 // weight = int8 * scale
	bias    float32
	plattA  float32 // probability = 1 / (1 + exp(-(A*logit + B)))
	plattB  float32
	// threshold is an operating point on the calibrated probability chosen
	// by whoever trained the model (0.5 when they chose none).
	threshold float32
	// signed16 is, for a format 2 model with 2^16 weights none of which is
	// -128, every weight and its negation: entry bucket<<1|sign, which is
	// bits 39 to 55 of a finished hash (see prepare). Nil otherwise.
	signed16 *[1 << 17]int8
}

// prepare builds the tables scoring uses, once the weights are final.
func (m *Model) prepare() {
	m.signed16 = nil
	if m.version == 1 || len(m.weights) != 1<<16 {
		return
	}
	t := new([1 << 17]int8)
	for b, v := range m.weights {
		if v == -128 {
			return // its negation does not fit in an int8
		}
		t[b<<1], t[b<<1|1] = v, -v
	}
	m.signed16 = t
}

// Features returns the model's feature configuration.
func (m *Model) Features() Features { return m.feat }

// Threshold returns the operating point recorded with the model, a
// calibrated probability.
func (m *Model) Threshold() float64 { return float64(m.threshold) }

// SetThreshold records an operating point, for the file written next. It
// returns an error unless 0 <= t <= 1.
func (m *Model) SetThreshold(t float64) error {
	if !(t >= 0 && t <= 1) {
		return fmt.Errorf("classify: threshold %v outside [0, 1]", t)
	}
	m.threshold = float32(t)
	return nil
}

// Calibration returns the Platt parameters: the probability of a logit z
// is 1/(1+exp(-(a*z+b))).
func (m *Model) Calibration() (a, b float64) { return float64(m.plattA), float64(m.plattB) }

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Logit returns the raw (uncalibrated) decision value of text.
func (m *Model) Logit(text string) float64 {
	bp := scratch.Get().(*[]byte)
	buf := m.norm((*bp)[:0], text)
	z := m.LogitNormalized(buf)
	*bp = buf[:0]
	scratch.Put(bp)
	return z
}

// Score returns the calibrated probability that text is positive.
func (m *Model) Score(text string) float64 {
	return m.Calibrate(m.Logit(text))
}

// Calibrate maps a logit to a calibrated probability.
func (m *Model) Calibrate(z float64) float64 {
	return sigmoid(float64(m.plattA)*z + float64(m.plattB))
}

// Normalize appends the model's normalised form of text to dst.
func (m *Model) Normalize(dst []byte, text string) []byte { return m.norm(dst, text) }

// LogitNormalized returns the raw decision value of an already normalised
// text (for callers that score several windows of one normalised text).
func (m *Model) LogitNormalized(s []byte) float64 {
	var acc int64
	n := 0
	forEachFeature(m.feat, m.version, s, func(x uint64) {
		acc += m.signed(x)
		n++
	})
	return m.SumLogit(acc, n)
}

// signed returns the weight of the feature with finished hash x, signed.
func (m *Model) signed(x uint64) int64 {
	if m.version == 1 {
		hs := 64 - uint(m.feat.Bits)
		sg := int64(x >> (hs - 1) & 1)
		return int64(m.weights[x>>hs]) ^ -sg + sg
	}
	sg := int64(x >> signBit & 1)
	return int64(m.weights[x>>bucketShift&m.mask]) ^ -sg + sg
}

// Sums holds per-block partial sums of a text's features, from
// (*Model).BlockSums: block k covers the features that start in bytes
// [k<<shift, (k+1)<<shift) of the normalised text.
type Sums struct {
	Acc []int64
	N   []int32
	// words is scratch space: the hashes and end offsets of the words.
	words []wordEnd
}

// wordEnd is a word's hash and the offset of its last byte.
type wordEnd struct {
	h   uint64
	end int
}

// BlockSums computes the per-block feature sums of a normalised text with
// blocks of 1<<shift bytes, reusing the memory of into. A byte n-gram
// counts in the block where it ends, a word and its pair in the block
// where the word ends. With one n-gram order (CharMin == CharMax) the
// n-grams are rolled through a register, one table load per byte.
func (m *Model) BlockSums(s []byte, shift uint, into Sums) Sums {
	nb := len(s)>>shift + 1
	acc, cnt := into.Acc[:0], into.N[:0]
	for range nb {
		acc = append(acc, 0)
		cnt = append(cnt, 0)
	}
	if m.version == 1 {
		m.blockSumsV1(s, shift, acc, cnt)
		return Sums{Acc: acc, N: cnt}
	}
	w := m.weights
	lo, hi := m.feat.CharMin, m.feat.CharMax
	switch {
	case lo == 4 && hi == 4 && m.feat.WordMax > 0 && m.signed16 != nil:
		// The shipped configuration, over a table of signed weights whose
		// size the compiler knows.
		words := sums16(m.signed16, s, m.feat.WordMax > 1, shift, acc, cnt, into.words)
		return Sums{Acc: acc, N: cnt, words: words}
	case hi > 0 && lo == hi:
		gramSums(s, w, m.mask, gramMask[lo&7], uint64(lo)<<60, lo, shift, acc, cnt)
	case hi > 0:
		var g uint64
		for j, c := range s {
			g = g<<8 | uint64(c)
			for k := lo; k <= min(hi, j+1); k++ {
				x := finish(g&gramMask[k&7] | uint64(k)<<60)
				sg := int64(x >> signBit & 1)
				acc[j>>shift] += int64(w[x>>bucketShift&m.mask]) ^ -sg + sg
				cnt[j>>shift]++
			}
		}
	}
	if m.feat.WordMax > 0 {
		wordSums(s, w, m.mask, m.feat.WordMax > 1, shift, acc, cnt)
	}
	return Sums{Acc: acc, N: cnt}
}

// gramSums adds the byte k-grams of s (mask keeps k bytes, tag is k<<60)
// to the blocks' sums, each in the block where it ends. It is a function of
// its own, with constant shifts, so that its loop keeps its few variables in
// registers.
func gramSums(s []byte, w []int8, bmask, mask, tag uint64, k int, shift uint, acc []int64, cnt []int32) {
	if len(s) < k {
		return
	}
	var g uint64
	for _, c := range s[:k-1] {
		g = g<<8 | uint64(c)
	}
	// Counts: every position from k-1 on ends one n-gram.
	for b := range acc {
		start, end := max(b<<shift, k-1), min((b+1)<<shift, len(s))
		if end > start {
			cnt[b] += int32(end - start)
		}
	}
	var a int64
	b, next := (k-1)>>shift, ((k-1)>>shift+1)<<shift
	for j := k - 1; j < len(s); j++ {
		if j == next {
			acc[b] += a
			a, b, next = 0, b+1, next+1<<shift
		}
		g = g<<8 | uint64(s[j])
		x := finish(g&mask | tag)
		sg := int64(x >> signBit & 1)
		a += int64(w[x>>bucketShift&bmask]) ^ -sg + sg
	}
	acc[b] += a
}

// sums16 is gramSums (4-grams) and wordSums for a model of 2^16 weights,
// the shipped configuration, over its table of signed weights
// (Model.signed16), through small kernels that are not inlined, so that
// their few variables stay in registers (the generic gram loop spills its
// accumulator to the stack, which puts a store and a load on the
// dependency chain of every byte: 15 µs against 9 µs per 4 KiB).
func sums16(w *[1 << 17]int8, s []byte, pairs bool, shift uint, acc []int64, cnt []int32, words []wordEnd) []wordEnd {
	const k = 4
	var g uint64
	for b := range acc {
		start, end := b<<shift, min((b+1)<<shift, len(s))
		if start >= end {
			break
		}
		// The first k-1 bytes of the text end no 4-gram.
		lead := min(max(k-1-start, 0), end-start)
		for _, c := range s[start : start+lead] {
			g = g<<8 | uint64(c)
		}
		var a int64
		a, g = grams4(w, s[start+lead:end], g)
		acc[b] += a
		cnt[b] += int32(end - start - lead)
	}
	words = hashWords(s, words)
	for i, we := range words {
		b := we.end >> shift
		a := signed16(w, finish(we.h))
		n := int32(1)
		if pairs && i > 0 {
			a += signed16(w, finish(words[i-1].h*pairSeed^we.h))
			n++
		}
		acc[b] += a
		cnt[b] += n
	}
	return words
}

// grams4 returns the sum of the signed weights of the 4-grams that end in
// s, g holding the bytes before s, and the updated g. It is not inlined,
// so that its loop keeps its registers.
//
//go:noinline
func grams4(w *[1 << 17]int8, s []byte, g uint64) (int64, uint64) {
	var a, b int64
	i := 0
	// Four bytes at a time: the window G holds the bytes up to s[i+3],
	// the latest in the low byte, and the four 4-grams that end in s[i:i+4]
	// are its four 32-bit slices, hashed independently.
	for ; i+4 <= len(s); i += 4 {
		G := g<<32 | uint64(bits.ReverseBytes32(binary.LittleEndian.Uint32(s[i:])))
		x0 := finish(G>>24&0xffffffff | 4<<60)
		x1 := finish(G>>16&0xffffffff | 4<<60)
		x2 := finish(G>>8&0xffffffff | 4<<60)
		x3 := finish(G&0xffffffff | 4<<60)
		a += signed16(w, x0) + signed16(w, x1)
		b += signed16(w, x2) + signed16(w, x3)
		g = G
	}
	for _, c := range s[i:] {
		g = g<<8 | uint64(c)
		a += signed16(w, finish(g&0xffffffff|4<<60))
	}
	return a + b, g
}

// hashWords returns the hash (FNV-1a from wordSeed) and last offset of
// every word of s, in order, in the memory of words. It has no branch that
// depends on the text: every byte updates the hash or resets it (a
// conditional move), and every byte stores the hash of the word that would
// end before it, advancing the output only where one does, so word
// boundaries cost no mispredicted branches. It is not inlined, so that its
// variables stay in registers. (Measured per mixed 4 KiB prompt, 4-grams
// and words: 23 µs against 28 µs with a branching word loop; two
// interleaved hash chains, the 4-grams in the same loop, and storing only
// the hashes with per-block counts were all slower or no faster.)
//
//go:noinline
func hashWords(s []byte, words []wordEnd) []wordEnd {
	// At most one word per two bytes, and one more slot for the store
	// that does not advance.
	out := slices.Grow(words[:0], len(s)/2+2)[:len(s)/2+2]
	n := 0
	h := uint64(wordSeed)
	var prevW uint8
	for j, c := range s {
		isW := wordTab[c]
		// A word ended at j-1 when s[j-1] is a word byte and c is not.
		out[n] = wordEnd{h, j - 1}
		n += int(prevW &^ isW)
		t := (h ^ uint64(c)) * fnvPrime
		if isW == 0 {
			t = wordSeed
		}
		h = t
		prevW = isW
	}
	if prevW != 0 {
		out[n] = wordEnd{h, len(s) - 1}
		n++
	}
	return out[:n]
}

// wordTab is wordByte as 0 and 1.
var wordTab = func() (t [256]uint8) {
	for c := range t {
		if isWordByte(byte(c)) {
			t[c] = 1
		}
	}
	return t
}()

// signed16 returns the signed weight of the feature with finished hash x
// from a table of signed weights (Model.signed16).
func signed16(w *[1 << 17]int8, x uint64) int64 {
	return int64(w[uint32(x>>signBit)&(1<<17-1)])
}

// wordSums adds the words of s, and with pairs the pairs of adjacent
// words, to the blocks' sums, each in the block where the word ends.
func wordSums(s []byte, w []int8, bmask uint64, pairs bool, shift uint, acc []int64, cnt []int32) {
	var prev uint64
	havePrev := false
	for i := 0; i < len(s); {
		if !wordByte[s[i]] {
			i++
			continue
		}
		h := uint64(wordSeed)
		for ; i < len(s) && wordByte[s[i]]; i++ {
			h = (h ^ uint64(s[i])) * fnvPrime
		}
		b := (i - 1) >> shift
		x := finish(h)
		sg := int64(x >> signBit & 1)
		a := int64(w[x>>bucketShift&bmask]) ^ -sg + sg
		n := int32(1)
		if pairs && havePrev {
			x := finish(prev*pairSeed ^ h)
			sg := int64(x >> signBit & 1)
			a += int64(w[x>>bucketShift&bmask]) ^ -sg + sg
			n++
		}
		acc[b] += a
		cnt[b] += n
		prev, havePrev = h, true
	}
}

// wordByte marks the bytes of words (isWordByte as a table).
var wordByte = func() (t [256]bool) {
	for c := range t {
		t[c] = isWordByte(byte(c))
	}
	return t
}()

// SumLogit returns the logit of a feature sum over n features (as
// LogitNormalized would for the text they came from).
func (m *Model) SumLogit(acc int64, n int) float64 {
	if n == 0 {
		return float64(m.bias)
	}
	return float64(m.bias) + float64(acc)*float64(m.scale)/math.Sqrt(float64(n))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

const (
	fnvPrime = 1099511628211
	wordSeed = 0x9e3779b97f4a7c15
	pairSeed = 0xc2b2ae3d27d4eb4f
)

// gramMask[k] keeps the low k bytes of a little-endian load.
var gramMask = [9]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff, 0}

// finish mixes a feature word: a multiplication by an odd constant carries
// every input bit into the high bits. The bucket is the top Bits bits, the
// sign the bit below them.
func finish(h uint64) uint64 {
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>29
}

func isWordByte(c byte) bool {
	return c >= 0x80 || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || c == '_'
}

// A feature's finished hash x gives its bucket, x>>bucketShift masked to
// Bits bits, and its sign, bit signBit (feature hashing format 2).
const (
	bucketShift = 40
	signBit     = 39
)

// blockSumsV1 is BlockSums for version 1 models: n-grams are the
// little-endian load of k bytes from where they start, and count in that
// block; words count in the block where they end.
func (m *Model) blockSumsV1(s []byte, shift uint, acc []int64, cnt []int32) {
	if lo, hi := m.feat.CharMin, m.feat.CharMax; hi > 0 {
		for i := range s {
			g := load(s, i)
			for k := lo; k <= hi && i+k <= len(s); k++ {
				acc[i>>shift] += m.signed(finish(g&gramMask[k&7] | uint64(k)<<60))
				cnt[i>>shift]++
			}
		}
	}
	if m.feat.WordMax > 0 {
		var prev uint64
		havePrev := false
		for i := 0; i < len(s); {
			if !wordByte[s[i]] {
				i++
				continue
			}
			h := uint64(wordSeed)
			for ; i < len(s) && wordByte[s[i]]; i++ {
				h = (h ^ uint64(s[i])) * fnvPrime
			}
			b := (i - 1) >> shift
			acc[b] += m.signed(finish(h))
			cnt[b]++
			if m.feat.WordMax > 1 && havePrev {
				acc[b] += m.signed(finish(prev*pairSeed ^ h))
				cnt[b]++
			}
			prev, havePrev = h, true
		}
	}
}

// load returns up to 8 bytes of s from i, little-endian, zero-padded.
func load(s []byte, i int) uint64 {
	if i+8 <= len(s) {
		return binary.LittleEndian.Uint64(s[i:])
	}
	var g uint64
	for k := len(s) - 1; k >= i; k-- {
		g = g<<8 | uint64(s[k])
	}
	return g
}

// forEachFeature calls add with the finished hash of every feature of s:
// for every byte, the byte n-grams that end there (the last k bytes, the
// latest in the low byte, tagged with k; in version 1, the n-grams that
// start there, the first byte in the low byte), then every word and pair
// of adjacent words. BlockSums sums the same features in another order.
func forEachFeature(f Features, version uint16, s []byte, add func(uint64)) {
	if lo, hi := f.CharMin, f.CharMax; hi > 0 && version == 1 {
		for i := range s {
			g := load(s, i)
			for k := lo; k <= hi && i+k <= len(s); k++ {
				add(finish(g&gramMask[k&7] | uint64(k)<<60))
			}
		}
	} else if hi > 0 {
		var g uint64
		for j, c := range s {
			g = g<<8 | uint64(c)
			for k := lo; k <= min(hi, j+1); k++ {
				add(finish(g&gramMask[k&7] | uint64(k)<<60))
			}
		}
	}
	if f.WordMax > 0 {
		var prev uint64
		havePrev := false
		for i := 0; i < len(s); {
			if !isWordByte(s[i]) {
				i++
				continue
			}
			h := uint64(wordSeed)
			for ; i < len(s) && isWordByte(s[i]); i++ {
				h = (h ^ uint64(s[i])) * fnvPrime
			}
			add(finish(h))
			if f.WordMax > 1 && havePrev {
				add(finish(prev*pairSeed ^ h))
			}
			prev, havePrev = h, true
		}
	}
}
