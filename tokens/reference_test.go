package tokens

import (
	"slices"
	"sync"
	"testing"

	"github.com/dlclark/regexp2/v2"
	"github.com/tiktoken-go/tokenizer/codec"
)

// reference bundles the ways the tests check an Encoding:
//
//   - count: github.com/tiktoken-go/tokenizer's Count, the reference;
//   - generated: its split, through the same regexp2 matcher (the one the
//     tokenizer package generated and registered for its pattern);
//   - interpreted: the same pattern run by regexp2's interpreter, which
//     agrees with the generated matcher except for U+007F (see split.go);
//   - naiveCount: a textbook byte-pair merge over a map of the vocabulary,
//     so that inputs with U+007F can be checked end to end.
type reference struct {
	enc         *Encoding
	codec       *codec.Codec
	generated   *regexp2.Regexp
	interpreted *regexp2.Regexp

	vocabOnce sync.Once
	vocab     map[string]int
}

const (
	o200kPattern  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	cl100kPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

var (
	refO200k = newReference(O200kBase(), codec.NewO200kBase, o200kPattern)
	refCl100 = newReference(Cl100kBase(), codec.NewCl100kBase, cl100kPattern)
	refs     = []*reference{refO200k, refCl100}
)

func newReference(enc *Encoding, newCodec func() *codec.Codec, pattern string) *reference {
	interpreted, err := regexp2.Compile(pattern, regexp2.None) // Compile skips registered matchers
	if err != nil {
		panic(err)
	}
	return &reference{
		enc:         enc,
		codec:       newCodec(),
		generated:   regexp2.MustCompile(pattern, regexp2.None),
		interpreted: interpreted,
	}
}

// count returns the reference's count of s.
func (r *reference) count(t testing.TB, s string) int {
	t.Helper()
	n, err := r.codec.Count(s)
	if err != nil {
		t.Fatalf("reference %s count of %q: %v", r.enc.Name(), s, err)
	}
	return n
}

func regexpPieces(t testing.TB, re *regexp2.Regexp, s string) []string {
	t.Helper()
	var pieces []string
	m, err := re.FindStringMatch(s)
	for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
		pieces = append(pieces, m.String())
	}
	if err != nil {
		t.Fatalf("regexp on %q: %v", s, err)
	}
	return pieces
}

// pieces returns the Encoding's split of s, with invalid UTF-8 replaced as
// regexp2 reports it.
func (r *reference) pieces(s string) []string {
	loadClasses()
	var pieces []string
	for p := 0; p < len(s); {
		end := r.enc.split(s, p)
		pieces = append(pieces, replaceInvalid(s[p:end]))
		p = end
	}
	return pieces
}

// naiveCount splits s with the interpreted pattern and merges each piece
// the slow, obvious way.
func (r *reference) naiveCount(t testing.TB, s string) int {
	t.Helper()
	r.vocabOnce.Do(func() {
		r.vocab = make(map[string]int, r.enc.size)
		for id := range r.enc.size {
			tok, err := r.codec.Decode([]uint{uint(id)})
			if err != nil {
				panic(err)
			}
			r.vocab[tok] = id
		}
	})
	n := 0
	for _, piece := range regexpPieces(t, r.interpreted, s) {
		n += naiveMerge(r.vocab, piece)
	}
	return n
}

// naiveMerge is byte-pair encoding as described: start from single bytes,
// merge the leftmost lowest-ranked adjacent pair until none is a token.
// Part i is piece[bounds[i]:bounds[i+1]].
func naiveMerge(vocab map[string]int, piece string) int {
	bounds := make([]int, len(piece)+1)
	for i := range bounds {
		bounds[i] = i
	}
	for {
		best, bestRank := -1, 0
		for i := 0; i+2 < len(bounds); i++ {
			if rank, ok := vocab[piece[bounds[i]:bounds[i+2]]]; ok && (best < 0 || rank < bestRank) {
				best, bestRank = i, rank
			}
		}
		if best < 0 {
			return len(bounds) - 1
		}
		bounds = slices.Delete(bounds, best+1, best+2)
	}
}

// check compares the Encoding's split of s with the interpreted pattern
// and its count with the reference: with github.com/tiktoken-go/tokenizer
// where its generated matcher splits s as the pattern says, and with
// naiveCount where it doesn't (see split.go). It returns whether s is one
// of the latter.
func (r *reference) check(t testing.TB, s string) (deviates bool) {
	t.Helper()
	got := r.enc.Count(s)
	pieces := r.pieces(s)
	interpreted := regexpPieces(t, r.interpreted, s)
	if !slices.Equal(pieces, interpreted) {
		t.Errorf("%s split of %q:\ngot         %q\ninterpreted %q", r.enc.Name(), s, pieces, interpreted)
		return false
	}
	if slices.Equal(interpreted, regexpPieces(t, r.generated, s)) {
		if want := r.count(t, s); got != want {
			t.Errorf("%s Count(%q) = %d, reference %d\npieces: %q", r.enc.Name(), s, got, want, pieces)
		}
		return false
	}
	if want := r.naiveCount(t, s); got != want {
		t.Errorf("%s Count(%q) = %d, naive %d\npieces: %q", r.enc.Name(), s, got, want, pieces)
	}
	return true
}
