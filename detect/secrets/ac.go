package secrets

import "strings"

// keywordSet is an Aho-Corasick automaton over lower-cased keywords,
// compiled into a dense DFA over byte classes (two table loads a byte,
// whatever the number of keywords), with what the scan needs to run it
// only around the rare pairs of bytes that keywords are found from.
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
	// Every keyword is found from one pair of its bytes, the rarest of its
	// first maxAt+2 in ordinary text (keyAt: the pair's offset in it).
	// pairs is true for those pairs, in either case, indexed by the two
	// bytes as a big-endian uint16, and back is the largest offset of a
	// keyword found from the pair: the automaton starts that far before it.
	pairs *[1 << 16]bool
	back  *[1 << 16]uint8
	keyAt []uint8
	// tri has bit triHash(a, b, c) set for the three bytes of every keyword
	// at keyAt (lower case): a cheaper test than stepping the automaton.
	tri *[triBits / 64]uint64
}

const (
	triBits = 1 << 15
	// maxAt bounds keyAt (the scan table keeps back in three bits).
	maxAt = 7
)

// triHash hashes three bytes, folding ASCII case.
func triHash(a, b, c byte) uint32 {
	return (uint32(lower(a)) | uint32(lower(b))<<8 | uint32(lower(c))<<16) * 0x9E3779B1 >> (32 - 15)
}

// mayHold reports whether a keyword may have the bytes a, b, c at its
// keyAt offset.
func (k *keywordSet) mayHold(a, b, c byte) bool {
	h := triHash(a, b, c)
	return k.tri[h/64]&(1<<(h%64)) != 0
}

// commonPairs are the letter pairs most frequent in English text, most
// frequent first (after published bigram counts, with a few pairs of URLs
// and the ends of sentences; the order within the list matters little).
// pairWeight ranks a pair by them and, for pairs not in the list, by its
// bytes: the rarer the pair a keyword is found from, the less often the
// scan stops there.
const commonPairs = "th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng " +
	"tt tp ps s. s, e. e, d. t. :/ // " +
	"se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns " +
	"di fo ho pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em ad ol " +
	"rt po we na ul ni ts mo ow pa im mi ai sh ir su id os iv ia am fi ci vi pl ig tu ev ld ry mp " +
	"fe bl ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd do uc bu ei ov by rm ep tt " +
	"oc fa ef cu rn sc gi da yo cr cl du ga qu ue ff ba ey ls va um pp ua up lu go ht ru ug ds lt " +
	"pi rc rr eg au ck ew mu br bi pt ak pu ui rg ib tl ny ki rk ys ob mm fu ph og ms ye ud mb ip "

// pairWeight estimates how often the pair a, b occurs in ordinary text.
func pairWeight(a, b byte) int {
	if i := strings.Index(commonPairs, string([]byte{lower(a), lower(b), ' '})); i >= 0 && i%3 == 0 {
		return 10000 - i/3
	}
	return byteWeight(a) * byteWeight(b)
}

// byteWeight is a rough frequency of each byte in prose, code and
// configuration (letters by their frequency in English text; digits,
// punctuation and spaces by guess), for pairs not in commonPairs.
func byteWeight(c byte) int {
	const letters = "etaoinshrdlcumwfgypbvkjxqz" // most to least frequent
	if i := strings.IndexByte(letters, lower(c)); i >= 0 {
		return 40 - i
	}
	switch {
	case c == ' ' || c == '\n':
		return 45
	case c == '.' || c == ',':
		return 30
	case '0' <= c && c <= '9', c == '"', c == ':':
		return 12
	case c == '_' || c == '-' || c == '/' || c == '=':
		return 10
	}
	return 4
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
	k.pairs, k.back = new([1 << 16]bool), new([1 << 16]uint8)
	k.tri = new([triBits / 64]uint64)
	k.keyAt = make([]uint8, len(kws))
	for wi, w := range kws {
		if len(w.text) < 3 {
			return nil, false
		}
		at, best := 0, -1
		for i := 0; i <= min(maxAt, len(w.text)-3); i++ {
			if wt := pairWeight(w.text[i], w.text[i+1]); best < 0 || wt < best {
				at, best = i, wt
			}
		}
		k.keyAt[wi] = uint8(at)
		for _, a := range [...]byte{w.text[at], upper(w.text[at])} {
			for _, b := range [...]byte{w.text[at+1], upper(w.text[at+1])} {
				k.pairs[uint16(a)<<8|uint16(b)] = true
				k.back[uint16(a)<<8|uint16(b)] = max(k.back[uint16(a)<<8|uint16(b)], uint8(at))
			}
		}
		h := triHash(w.text[at], w.text[at+1], w.text[at+2])
		k.tri[h/64] |= 1 << (h % 64)
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
// offset just past it. It returns the depth of the automaton's state at the
// end of t: how many bytes at the end of t could begin a keyword. It finds
// the keywords as the detector's scan loop does (which reads the pairs
// from its own table): from every pair of bytes that some keyword is found
// from (pairs), with the three bytes there in tri, it runs the automaton
// (at).
func (k *keywordSet) scan(t string, f func(end int, kw uint16)) int {
	for q := 0; q+2 < len(t); q++ {
		p := uint16(t[q])<<8 | uint16(t[q+1])
		if k.pairs[p] && k.mayHold(t[q], t[q+1], t[q+2]) {
			k.at(t, q, int(k.back[p]), f)
		}
	}
	return k.endDepth(t)
}

// at finds the keywords whose pair (keyAt) is at t[q:q+2]: it steps the
// automaton from its start state back bytes before q until it is past q
// and back in its start state, and calls f(end, kw) for each occurrence
// that has its pair at q. Every occurrence is so reported once, from its
// own pair.
func (k *keywordSet) at(t string, q, back int, f func(end int, kw uint16)) {
	var off uint32
	next, cls := k.next, &k.cls
	for i := max(0, q-back); i < len(t); {
		v := next[off+uint32(cls[t[i]])]
		off = v &^ hasOut
		i++
		if v&hasOut != 0 {
			for _, w := range k.out[int(off)/k.ncls] {
				if i-len(k.kws[w].text)+int(k.keyAt[w]) == q {
					f(i, w)
				}
			}
		}
		if off == 0 && i > q {
			break
		}
	}
}

// endDepth returns the depth of the automaton's state after all of t: the
// longest end of t that begins a keyword (or is one).
func (k *keywordSet) endDepth(t string) int {
	var off uint32
	for i := max(0, len(t)-maxKeyword); i < len(t); i++ {
		off = k.next[off+uint32(k.cls[t[i]])] &^ hasOut
	}
	return int(k.depth[int(off)/k.ncls])
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
