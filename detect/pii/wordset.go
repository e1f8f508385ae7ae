package pii

import (
	"encoding/binary"
	"math/bits"
)

// wordSet is a set of lower-case words with a first-byte and length
// prefilter in front of the map, so that most words that are not in the
// set cost two array reads instead of a hash. A large set can add a Bloom
// filter between the two (seal).
type wordSet struct {
	lens  [256]uint32 // bit n: some word starting with this byte has length n (31: longer)
	m     map[string]struct{}
	bloom []uint64 // when not nil: two bits a word of at most 16 bytes (bloomHash)
}

func newWordSet(words ...string) *wordSet {
	s := &wordSet{m: make(map[string]struct{}, len(words))}
	for _, w := range words {
		s.add(w)
	}
	return s
}

func (s *wordSet) add(w string) {
	if w == "" {
		return
	}
	s.lens[w[0]] |= 1 << min(len(w), 31)
	s.m[w] = struct{}{}
}

// seal adds a Bloom filter of about eight bits a word (at least 512) to a
// set that is complete; has then reads the map for about one word in
// twenty of the words that are not in the set.
func (s *wordSet) seal() {
	n := max(512, 1<<bits.Len(uint(8*len(s.m)-1)))
	s.bloom = make([]uint64, n/64)
	for w := range s.m {
		if len(w) <= 16 {
			a, b := s.bloomBits([]byte(w))
			s.bloom[a/64] |= 1 << (a % 64)
			s.bloom[b/64] |= 1 << (b % 64)
		}
	}
}

// bloomBits returns the two Bloom filter bits of a word of at most 16
// bytes.
func (s *wordSet) bloomBits(w []byte) (uint64, uint64) {
	var b [16]byte
	copy(b[:], w)
	return s.bloomBitsOf(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]), len(w))
}

// bloomBitsOf returns the Bloom filter bits of the word of n bytes held,
// zero-padded, in the little-endian words lo and hi.
func (s *wordSet) bloomBitsOf(lo, hi uint64, n int) (uint64, uint64) {
	x := lo*0x9e3779b97f4a7c15 ^ hi*0xc2b2ae3d27d4eb4f ^ uint64(n)
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 32
	mask := uint64(len(s.bloom)*64 - 1)
	return x & mask, x >> 40 & mask
}

// hasWords reports whether the word of n bytes (1 to 16) held, zero-padded,
// in the little-endian words lo and hi is in the set.
func (s *wordSet) hasWords(lo, hi uint64, n int) bool {
	if n == 0 || s.lens[byte(lo)]&(1<<min(n, 31)) == 0 {
		return false
	}
	if s.bloom != nil {
		a, b := s.bloomBitsOf(lo, hi, n)
		if s.bloom[a/64]&(1<<(a%64)) == 0 || s.bloom[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	var w [16]byte
	binary.LittleEndian.PutUint64(w[:8], lo)
	binary.LittleEndian.PutUint64(w[8:], hi)
	_, ok := s.m[string(w[:n])]
	return ok
}

// has reports whether w is in the set.
func (s *wordSet) has(w []byte) bool {
	if len(w) == 0 || s.lens[w[0]]&(1<<min(len(w), 31)) == 0 {
		return false
	}
	if s.bloom != nil && len(w) <= 16 {
		a, b := s.bloomBits(w)
		if s.bloom[a/64]&(1<<(a%64)) == 0 || s.bloom[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	_, ok := s.m[string(w)]
	return ok
}
