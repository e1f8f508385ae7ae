package pii

// wordSet is a set of lower-case words with a first-byte and length
// prefilter in front of the map, so that most words that are not in the
// set cost two array reads instead of a hash.
type wordSet struct {
	lens [256]uint32 // bit n: some word starting with this byte has length n (31: longer)
	m    map[string]struct{}
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

// has reports whether w is in the set.
func (s *wordSet) has(w []byte) bool {
	if len(w) == 0 || s.lens[w[0]]&(1<<min(len(w), 31)) == 0 {
		return false
	}
	_, ok := s.m[string(w)]
	return ok
}
