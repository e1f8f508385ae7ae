package secrets

// keywordSet is an Aho-Corasick automaton over lower-cased keywords,
// compiled into a dense DFA over byte classes: every byte of the text
// costs two table loads, whatever the number of keywords.
type keywordSet struct {
	cls  [256]uint8 // byte → class; 0 for bytes in no keyword
	ncls int
	// next maps state*ncls + class to the next state's row offset
	// (state*ncls), with hasOut set when keywords end there: the scan loop
	// then needs no multiplication on its critical path.
	next  []uint32
	depth []uint8 // length of the longest keyword prefix a state stands for
	// out[state] lists the keywords (indices into kws) that end in state,
	// including those reached by failure links; nil for most states.
	out [][]uint16
	kws []keyword
	// pairs is true for the first two bytes of every keyword, in either
	// case, indexed by the two bytes as a big-endian uint16.
	pairs *[1 << 16]bool
}

const (
	hasOut   uint32 = 1 << 31
	maxState        = 1<<15 - 1
)

// keyword is one literal with the rule it belongs to.
type keyword struct {
	text string // lower case
	rule int    // index into loaded.regexes
}

// newKeywordSet builds the automaton. Keywords are at most maxKeyword
// bytes; the number of states fits in 15 bits for any realistic rules file
// and newKeywordSet reports false when it does not.
func newKeywordSet(kws []keyword) (*keywordSet, bool) {
	k := &keywordSet{kws: kws}
	// Byte classes: one per distinct lower-cased byte in any keyword.
	for _, w := range kws {
		for i := 0; i < len(w.text); i++ {
			c := w.text[i]
			if k.cls[c] == 0 {
				k.ncls++
				if k.ncls > 255 {
					return nil, false
				}
				k.cls[c] = uint8(k.ncls)
				if 'a' <= c && c <= 'z' {
					k.cls[c-'a'+'A'] = uint8(k.ncls)
				}
			}
		}
	}
	k.ncls++ // class 0
	// Trie.
	type node struct {
		child map[uint8]int
		fail  int
		out   []uint16
		depth int
	}
	nodes := []node{{child: map[uint8]int{}}}
	for wi, w := range kws {
		s := 0
		for i := 0; i < len(w.text); i++ {
			c := k.cls[w.text[i]]
			n, ok := nodes[s].child[c]
			if !ok {
				n = len(nodes)
				nodes = append(nodes, node{child: map[uint8]int{}, depth: nodes[s].depth + 1})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, uint16(wi))
	}
	if len(nodes) > maxState {
		return nil, false
	}
	// Failure links breadth first, and the DFA.
	next := make([]uint16, len(nodes)*k.ncls)
	k.depth = make([]uint8, len(nodes))
	queue := []int{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		k.depth[s] = uint8(nodes[s].depth)
		for c := 0; c < k.ncls; c++ {
			n, ok := nodes[s].child[uint8(c)]
			if !ok {
				if s == 0 {
					next[c] = 0
				} else {
					next[s*k.ncls+c] = next[nodes[s].fail*k.ncls+c]
				}
				continue
			}
			if s != 0 {
				nodes[n].fail = int(next[nodes[s].fail*k.ncls+c])
			}
			nodes[n].out = append(nodes[n].out, nodes[nodes[n].fail].out...)
			next[s*k.ncls+c] = uint16(n)
			queue = append(queue, n)
		}
	}
	k.out = make([][]uint16, len(nodes))
	for i := range nodes {
		k.out[i] = nodes[i].out
	}
	k.pairs = new([1 << 16]bool)
	for _, w := range kws {
		for _, a := range [...]byte{w.text[0], upper(w.text[0])} {
			for _, b := range [...]byte{w.text[1], upper(w.text[1])} {
				k.pairs[uint16(a)<<8|uint16(b)] = true
			}
		}
	}
	k.next = make([]uint32, len(next))
	for i, n := range next {
		k.next[i] = uint32(int(n) * k.ncls)
		if k.out[n] != nil {
			k.next[i] |= hasOut
		}
	}
	return k, true
}

// scan calls f(end, kw) for every keyword occurrence in t, end being the
// offset just past it, in order of end. It returns the depth of the final
// state: how many bytes at the end of t could begin a keyword.
//
// In the start state the automaton skips ahead over every position whose
// two bytes begin no keyword (the pairs table), a loop with no dependency
// from one byte to the next; it steps the DFA only from a possible keyword
// start until it falls back to the start state.
func (k *keywordSet) scan(t string, f func(end int, kw uint16)) int {
	var off uint32
	next, cls, pairs := k.next, &k.cls, k.pairs
	i := 0
	for i < len(t) {
		if off == 0 {
			for i+1 < len(t) && !pairs[uint16(t[i])<<8|uint16(t[i+1])] {
				i++
			}
		}
		v := next[off+uint32(cls[t[i]])]
		off = v &^ hasOut
		i++
		if v&hasOut != 0 {
			for _, w := range k.out[int(off)/k.ncls] {
				f(i, w)
			}
		}
	}
	return int(k.depth[int(off)/k.ncls])
}

// run steps the automaton from its start state at t[i] until it falls
// back to the start state or t ends, calling f(end, kw) for every keyword
// occurrence as scan does. It returns the offset where it stopped and the
// row offset of the state it ended in (0 unless t ended first).
func (k *keywordSet) run(t string, i int, f func(end int, kw uint16)) (int, uint32) {
	var off uint32
	next, cls := k.next, &k.cls
	for i < len(t) {
		v := next[off+uint32(cls[t[i]])]
		off = v &^ hasOut
		i++
		if v&hasOut != 0 {
			for _, w := range k.out[int(off)/k.ncls] {
				f(i, w)
			}
		}
		if off == 0 {
			break
		}
	}
	return i, off
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
