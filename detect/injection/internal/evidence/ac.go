package evidence

// matcher is an Aho-Corasick automaton over bytes with a dense transition
// table over byte classes, so that a scan is one table load per byte.
// Table entries are premultiplied: entry = (state*nclass)<<1 | hasOutput,
// so the scan's dependent chain per byte is a shift, an add and a load.
type matcher struct {
	class  [256]uint8
	nclass int
	next   []uint32 // (state*nclass + class) -> (state'*nclass)<<1 | output bit
	out    [][]int32
	pats   []pattern
	maxLen int
}

type pattern struct {
	lit       string
	cat       Category
	part      part
	wordStart bool // must begin at a word boundary
	wordEnd   bool // must end at a word boundary
}

type part uint8

const (
	whole part = iota // the phrase alone is evidence
	verb              // pairs with an object of the same category
	object
)

func isASCIIWord(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z')
}

func newMatcher(pats []pattern) *matcher {
	m := &matcher{pats: pats}
	// Byte classes: every byte used by a pattern gets its own class,
	// everything else class 0.
	used := [256]bool{}
	for _, p := range pats {
		for i := 0; i < len(p.lit); i++ {
			used[p.lit[i]] = true
		}
		m.maxLen = max(m.maxLen, len(p.lit))
	}
	m.nclass = 1
	for b := range 256 {
		if used[b] {
			m.class[b] = uint8(m.nclass)
			m.nclass++
		}
	}
	// Trie.
	type node struct {
		child map[uint8]int
		fail  int
		out   []int32
	}
	nodes := []node{{child: map[uint8]int{}}}
	for id, p := range pats {
		s := 0
		for i := 0; i < len(p.lit); i++ {
			c := m.class[p.lit[i]]
			nx, ok := nodes[s].child[c]
			if !ok {
				nx = len(nodes)
				nodes = append(nodes, node{child: map[uint8]int{}})
				nodes[s].child[c] = nx
			}
			s = nx
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	if len(nodes)*m.nclass >= 1<<31 {
		panic("evidence: phrase automaton too large") // fixed built-in lists
	}
	next := make([]int, len(nodes)*m.nclass)
	// BFS for failure links, filling the dense table.
	queue := []int{}
	for c := range m.nclass {
		if nx, ok := nodes[0].child[uint8(c)]; ok {
			next[c] = nx
			nodes[nx].fail = 0
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := range m.nclass {
			if nx, ok := nodes[s].child[uint8(c)]; ok {
				nodes[nx].fail = next[f*m.nclass+c]
				next[s*m.nclass+c] = nx
				queue = append(queue, nx)
			} else {
				next[s*m.nclass+c] = next[f*m.nclass+c]
			}
		}
	}
	// Number the states breadth first, so that the rows of the shallow
	// states, where a scan spends most of its time, share cache lines.
	order := make([]int, 0, len(nodes))
	order = append(order, 0)
	for k := 0; k < len(order); k++ {
		for c := range m.nclass {
			if nx, ok := nodes[order[k]].child[uint8(c)]; ok {
				order = append(order, nx)
			}
		}
	}
	renum := make([]int, len(nodes))
	for k, old := range order {
		renum[old] = k
	}
	m.out = make([][]int32, len(nodes))
	m.next = make([]uint32, len(next))
	for old := range nodes {
		st := renum[old]
		m.out[st] = nodes[old].out
		for c := range m.nclass {
			nx := next[old*m.nclass+c]
			e := uint32(renum[nx]*m.nclass) << 1
			if len(nodes[nx].out) > 0 {
				e |= 1
			}
			m.next[st*m.nclass+c] = e
		}
	}
	return m
}

// scan calls fn for every pattern occurrence in s that respects its word
// boundaries, with the pattern and its half-open byte span, in the order
// of their ends.
//
// A scan is a chain of dependent loads, one per byte, so a long text is
// scanned as four or six segments at once: independent chains in one
// loop, each segment starting maxLen-1 bytes before the previous one ends
// so that it sees every match that ends in it. The states where a match
// ends are noted, and the matches reported afterwards, segment by segment.
func (m *matcher) scan(s []byte, fn func(p *pattern, start, end int)) {
	switch {
	case len(s) >= 12*m.maxLen+64:
		m.scan6(s, fn)
	case len(s) >= 8*m.maxLen+64:
		m.scan4(s, fn)
	default:
		m.scanFrom(s, fn)
	}
}

// scan6 is scan in six segments (len(s) >= 12*maxLen+64).
func (m *matcher) scan6(s []byte, fn func(p *pattern, start, end int)) {
	const k = 6
	// k segments of q bytes from st[j]; consecutive segments overlap by
	// at least maxLen-1 bytes, so the segment where a match ends also
	// holds its start. Segment j reports the matches that end after
	// segment j-1 ends.
	q := (len(s) + (k-1)*(m.maxLen-1) + 2*(k-1) + k - 1) / k
	step := (len(s) - q) / (k - 1)
	var st [k]int
	for j := range k - 1 {
		st[j] = j * step
	}
	st[k-1] = len(s) - q
	var bufs [k][8]hit
	var hs [k][]hit
	for j := range hs {
		hs[j] = bufs[j][:0]
	}
	var e0, e1, e2, e3, e4, e5 uint32
	next, class := m.next, &m.class
	s0 := s[st[0] : st[0]+q]
	s1, s2, s3, s4, s5 := s[st[1]:st[1]+q], s[st[2]:st[2]+q], s[st[3]:st[3]+q], s[st[4]:st[4]+q], s[st[5]:]
	s1, s2, s3, s4, s5 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)], s4[:len(s0)], s5[:len(s0)]
	for i := range s0 {
		e0 = next[int(e0>>1)+int(class[s0[i]])]
		e1 = next[int(e1>>1)+int(class[s1[i]])]
		e2 = next[int(e2>>1)+int(class[s2[i]])]
		e3 = next[int(e3>>1)+int(class[s3[i]])]
		e4 = next[int(e4>>1)+int(class[s4[i]])]
		e5 = next[int(e5>>1)+int(class[s5[i]])]
		if (e0|e1|e2|e3|e4|e5)&1 == 0 {
			continue
		}
		for j, e := range [k]uint32{e0, e1, e2, e3, e4, e5} {
			end := st[j] + i + 1
			if e&1 != 0 && (j == 0 || end > st[j-1]+q) {
				hs[j] = append(hs[j], hit{state: e >> 1, end: int32(end)})
			}
		}
	}
	for _, h := range hs {
		for _, x := range h {
			m.report(s, x, fn)
		}
	}
}

// scan4 is scan in four segments (len(s) >= 8*maxLen+64).
func (m *matcher) scan4(s []byte, fn func(p *pattern, start, end int)) {
	// Four segments of q bytes from st[k]; consecutive segments overlap
	// by at least maxLen-1 bytes, so the segment where a match ends also
	// holds its start. Segment k reports the matches that end after
	// segment k-1 ends.
	q := (len(s) + 3*(m.maxLen-1) + 6 + 3) / 4
	step := (len(s) - q) / 3
	st := [4]int{0, step, 2 * step, len(s) - q}
	var bufs [4][8]hit
	hs := [4][]hit{bufs[0][:0], bufs[1][:0], bufs[2][:0], bufs[3][:0]}
	var e0, e1, e2, e3 uint32
	next, class := m.next, &m.class
	s0, s1, s2, s3 := s[st[0]:st[0]+q], s[st[1]:st[1]+q], s[st[2]:st[2]+q], s[st[3]:]
	s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
	for i := range s0 {
		e0 = next[int(e0>>1)+int(class[s0[i]])]
		e1 = next[int(e1>>1)+int(class[s1[i]])]
		e2 = next[int(e2>>1)+int(class[s2[i]])]
		e3 = next[int(e3>>1)+int(class[s3[i]])]
		if (e0|e1|e2|e3)&1 == 0 {
			continue
		}
		for k, e := range [4]uint32{e0, e1, e2, e3} {
			end := st[k] + i + 1
			if e&1 != 0 && (k == 0 || end > st[k-1]+q) {
				hs[k] = append(hs[k], hit{state: e >> 1, end: int32(end)})
			}
		}
	}
	for _, h := range hs {
		for _, x := range h {
			m.report(s, x, fn)
		}
	}
}

// hit is a state with output reached by a scan, and where.
type hit struct {
	state uint32 // premultiplied state number
	end   int32  // offset after the byte that reached it
}

// scanFrom is scan in one chain, for short texts.
func (m *matcher) scanFrom(s []byte, fn func(p *pattern, start, end int)) {
	var e uint32
	next, class := m.next, &m.class
	for i := 0; i < len(s); i++ {
		e = next[int(e>>1)+int(class[s[i]])]
		if e&1 == 0 {
			continue
		}
		m.report(s, hit{state: e >> 1, end: int32(i + 1)}, fn)
	}
}

// report calls fn for the patterns that end at h.end in state h.state and
// respect their word boundaries.
func (m *matcher) report(s []byte, h hit, fn func(p *pattern, start, end int)) {
	end := int(h.end)
	for _, id := range m.out[int(h.state)/m.nclass] {
		p := &m.pats[id]
		start := end - len(p.lit)
		if p.wordStart && start > 0 && isASCIIWord(s[start-1]) {
			continue
		}
		if p.wordEnd && end < len(s) && isASCIIWord(s[end]) {
			continue
		}
		fn(p, start, end)
	}
}
