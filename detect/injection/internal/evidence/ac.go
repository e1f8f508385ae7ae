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
// boundaries, with the pattern and its half-open byte span.
func (m *matcher) scan(s []byte, fn func(p *pattern, start, end int)) {
	var e uint32
	next, class := m.next, &m.class
	for i := 0; i < len(s); i++ {
		e = next[int(e>>1)+int(class[s[i]])]
		if e&1 == 0 {
			continue
		}
		for _, id := range m.out[int(e>>1)/m.nclass] {
			p := &m.pats[id]
			end := i + 1
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
}
