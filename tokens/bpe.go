package tokens

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// rankTable maps the byte strings of an encoding's vocabulary to their
// ranks (token IDs): an open-addressing hash table with linear probing. A
// slot holds a token's first 8 bytes, so that most lookups (tokens are
// short) compare one word and read nothing else, and packs into meta its
// length (bits 0-7), the offset of its other bytes in bytes (bits 8-31),
// its rank (bits 32-49) and 14 bits of its hash (bits 50-63). A zero meta
// marks an empty slot: no token is empty.
//
// Tokens of two and three bytes, which make up most of the lookups when
// byte-pair encoding merges multi-byte characters, are also kept in two
// small tables that stay in the processor's caches: pairs, indexed by the
// two bytes, and triples, a hash table of 64-bit slots holding the three
// bytes (bits 0-23), the rank (bits 24-41) and bit 63 set.
type rankTable struct {
	slots  []rankSlot
	mask   uint64
	bytes  string // every token's bytes, in rank order
	maxLen int    // of the longest token

	pairs   [1 << 16]uint32
	triples [1 << tripleBits]uint64

	// filter is a Bloom filter of the tokens, two bits in one word per
	// token, small enough to stay in cache: most strings that byte-pair
	// encoding looks up are not tokens, and it rejects nearly all of them
	// without touching slots.
	filter [1 << filterBits]uint64
}

type rankSlot struct {
	prefix uint64 // the first 8 bytes, little-endian, zero-padded
	meta   uint64
}

const (
	maxTokenLen = 1<<8 - 1
	maxBytes    = 1<<24 - 1
	maxRank     = 1<<18 - 1
	noRank      = ^uint32(0)

	tagMask = ^uint64(1<<50 - 1)

	tripleBits = 15
	filterBits = 15
)

// buildRankTable returns the table of tokens, where tokens[i] has rank i.
func buildRankTable(tokens []string) (*rankTable, error) {
	if len(tokens) > maxRank {
		return nil, fmt.Errorf("%d tokens: more than the table's %d", len(tokens), maxRank)
	}
	total, maxLen := 0, 0
	for rank, tok := range tokens {
		if len(tok) == 0 || len(tok) > maxTokenLen {
			return nil, fmt.Errorf("token %d: length %d out of range 1..%d", rank, len(tok), maxTokenLen)
		}
		total += len(tok)
		maxLen = max(maxLen, len(tok))
	}
	if total > maxBytes {
		return nil, fmt.Errorf("%d bytes of tokens: more than the table's %d", total, maxBytes)
	}
	n := 1
	for n < len(tokens)*5/4 { // load factor at most 4/5: the filter keeps misses cheap
		n <<= 1
	}
	buf := make([]byte, 0, total)
	for _, tok := range tokens {
		buf = append(buf, tok...)
	}
	t := &rankTable{slots: make([]rankSlot, n), mask: uint64(n - 1), bytes: string(buf), maxLen: maxLen}
	for i := range t.pairs {
		t.pairs[i] = noRank
	}
	tripleCount := 0
	off := 0
	for rank, tok := range tokens {
		switch len(tok) {
		case 2:
			t.pairs[pairKey(tok, 0)] = uint32(rank)
		case 3:
			if tripleCount++; tripleCount > len(t.triples)*3/4 {
				return nil, fmt.Errorf("more than %d three-byte tokens", len(t.triples)*3/4)
			}
			key := tripleKey(tok, 0)
			i := tripleHash(key)
			for t.triples[i] != 0 {
				i = (i + 1) % len(t.triples)
			}
			t.triples[i] = key | uint64(rank)<<24 | 1<<63
		}
		prefix, h := fingerprint(tok)
		if _, ok := t.find(tok, prefix, h); ok {
			return nil, fmt.Errorf("token %d (%q): duplicate", rank, tok)
		}
		t.filter[filterWord(h)] |= filterMask(h)
		i := h & t.mask
		for t.slots[i].meta != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = rankSlot{prefix, uint64(len(tok)) | uint64(off)<<8 | uint64(rank)<<32 | h&tagMask}
		off += len(tok)
	}
	if err := t.checkBytes(); err != nil {
		return nil, err
	}
	return t, nil
}

// checkBytes verifies that every single byte is a token, which byte-pair
// encoding relies on.
func (t *rankTable) checkBytes() error {
	var errs []error
	for c := range 256 {
		b := [1]byte{byte(c)}
		if _, ok := t.rank(string(b[:])); !ok {
			errs = append(errs, fmt.Errorf("byte 0x%02x is not a token", c))
		}
	}
	return errors.Join(errs...)
}

// rank returns the rank of s, if s is a token. It consults the filter
// first, since most strings byte-pair encoding asks about are not tokens.
func (t *rankTable) rank(s string) (uint32, bool) {
	prefix, h := fingerprint(s)
	if m := filterMask(h); t.filter[filterWord(h)]&m != m {
		return 0, false
	}
	return t.find(s, prefix, h)
}

// find returns the rank of s, whose fingerprint is prefix and h, if s is a
// token.
func (t *rankTable) find(s string, prefix, h uint64) (uint32, bool) {
	want := uint64(len(s)) | h&tagMask
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		slot := &t.slots[i]
		if slot.meta == 0 {
			return 0, false
		}
		if slot.prefix == prefix && slot.meta&(0xff|tagMask) == want {
			if len(s) > 8 {
				off := int(slot.meta>>8)&maxBytes + 8
				if t.bytes[off:off+len(s)-8] != s[8:] {
					continue
				}
			}
			return uint32(slot.meta>>32) & maxRank, true
		}
	}
}

// filterWord and filterMask take bits of h that the slot index (the low
// bits) and the tag (the high ones) don't use.
func filterWord(h uint64) uint64 { return h >> 20 & (1<<filterBits - 1) }
func filterMask(h uint64) uint64 { return 1<<(h>>36&63) | 1<<(h>>42&63) }

// pairRank returns the rank of s[a:b], or noRank.
func (t *rankTable) pairRank(s string, a, b int) uint32 {
	switch b - a {
	case 2:
		return t.pairs[pairKey(s, a)]
	case 3:
		return t.tripleRank(tripleKey(s, a))
	}
	if b-a > t.maxLen {
		return noRank
	}
	if r, ok := t.rank(s[a:b]); ok {
		return r
	}
	return noRank
}

func pairKey(s string, i int) uint16 { return uint16(s[i]) | uint16(s[i+1])<<8 }

func tripleKey(s string, i int) uint64 {
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16
}

func tripleHash(key uint64) int { return int((key * 0x9e3779b97f4a7c15) >> (64 - tripleBits)) }

// tripleRank returns the rank of the three bytes in key, or noRank.
func (t *rankTable) tripleRank(key uint64) uint32 {
	for i := tripleHash(key); ; i = (i + 1) % len(t.triples) {
		slot := t.triples[i]
		if slot == 0 {
			return noRank
		}
		if slot&(1<<24-1) == key {
			return uint32(slot>>24) & maxRank
		}
	}
}

// smallPiece is the longest piece that count merges with arrays on the
// stack; longer pieces go through countLarge.
const smallPiece = 64

// count returns the number of tokens byte-pair encoding gives piece: it
// repeatedly merges the adjacent pair of parts whose concatenation has the
// lowest rank (the leftmost of equals), starting from single bytes, until no
// concatenation is a token.
func (t *rankTable) count(piece string) int {
	n := len(piece)
	if n <= 1 {
		return n
	}
	if n > smallPiece {
		return t.countLarge(piece)
	}
	// The parts form a linked list of their start offsets. key[i] is, for
	// the part that starts at i, the rank of it merged with the next part,
	// shifted left 8 bits, or'ed with i: so the smallest key is the merge to
	// make, and the leftmost of equal ranks. Parts that can't merge and
	// offsets that no longer start a part hold noKey.
	const noKey = uint64(noRank) << 8
	var key [smallPiece]uint64
	var next, prev [smallPiece]uint8
	for i := range n {
		next[i], prev[i] = uint8(i+1), uint8(i-1)
		key[i] = noKey | uint64(i)
	}
	for i := range n - 1 {
		key[i] = uint64(t.pairRank(piece, i, i+2))<<8 | uint64(i)
	}
	keys := key[:n]
	parts := n
	for parts > 1 {
		best := keys[0]
		for _, k := range keys[1:] {
			best = min(best, k)
		}
		if best >= noKey {
			break
		}
		// Merge the part at i with the next one, at j.
		i := int(best & 0xff)
		j := int(next[i])
		k := int(next[j]) // the part after, or n
		keys[j] = noKey | uint64(j)
		next[i] = uint8(k)
		keys[i] = noKey | uint64(i)
		if k < n {
			prev[k] = uint8(i)
			keys[i] = uint64(t.pairRank(piece, i, int(next[k])))<<8 | uint64(i)
		}
		if i > 0 {
			p := int(prev[i])
			keys[p] = uint64(t.pairRank(piece, p, k))<<8 | uint64(p)
		}
		parts--
	}
	return parts
}

// largeScratch is countLarge's working memory, reused through a pool.
type largeScratch struct {
	next []int32
	prev []int32
	rank []uint32
	heap mergeHeap
}

var largePool = sync.Pool{New: func() any { return new(largeScratch) }}

// maxPooledPiece is the longest piece whose scratch memory goes back to
// largePool.
const maxPooledPiece = 1 << 16

// countLarge is count for long pieces (up to 2 GiB), in O(n log n): parts
// form a linked list of their start offsets and candidate merges wait in a
// heap ordered by rank, then offset. A heap entry is stale once its part is
// gone or its rank changed; since merging only lengthens parts, a part's
// pair never returns to an earlier rank.
func (t *rankTable) countLarge(piece string) int {
	n := len(piece)
	sc := largePool.Get().(*largeScratch)
	defer func() {
		if n <= maxPooledPiece { // don't keep huge buffers around
			largePool.Put(sc)
		}
	}()
	sc.next = grow(sc.next, n)
	sc.prev = grow(sc.prev, n)
	sc.rank = grow(sc.rank, n)
	next, prev, rank := sc.next, sc.prev, sc.rank
	h := sc.heap[:0]
	for i := range n {
		next[i] = int32(i + 1)
		prev[i] = int32(i - 1)
		rank[i] = noRank
		if i+2 <= n {
			rank[i] = t.pairRank(piece, i, i+2)
			if rank[i] != noRank {
				h = append(h, mergeItem(rank[i], int32(i)))
			}
		}
	}
	h.init()
	parts := n
	// pairAt is the rank of the part at i merged with the next one.
	pairAt := func(i int32) uint32 {
		j := next[i]
		if int(j) >= n {
			return noRank
		}
		return t.pairRank(piece, int(i), int(next[j]))
	}
	for len(h) > 0 {
		top := h.pop()
		i := int32(uint32(top))
		if rank[i] != uint32(top>>32) {
			continue
		}
		j := next[i]
		next[i] = next[j]
		if int(next[j]) < n {
			prev[next[j]] = i
		}
		rank[j] = noRank
		parts--
		if rank[i] = pairAt(i); rank[i] != noRank {
			h.push(mergeItem(rank[i], i))
		}
		if p := prev[i]; p >= 0 {
			if rank[p] = pairAt(p); rank[p] != noRank {
				h.push(mergeItem(rank[p], p))
			}
		}
	}
	sc.heap = h[:0]
	return parts
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// mergeItem packs a candidate merge into a heap key: its rank, then its
// position, so that keys order merges by rank and equal ranks leftmost
// first.
func mergeItem(rank uint32, pos int32) uint64 { return uint64(rank)<<32 | uint64(uint32(pos)) }

// mergeHeap is a 4-ary min-heap of merge keys: shallower than a binary
// heap, which matters once it outgrows the processor's caches.
type mergeHeap []uint64

func (h mergeHeap) init() {
	for i := (len(h) - 2) / 4; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) push(k uint64) {
	*h = append(*h, k)
	h.up(len(*h) - 1)
}

func (h *mergeHeap) pop() uint64 {
	old := *h
	top := old[0]
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	h.down(0)
	return top
}

func (h mergeHeap) up(i int) {
	k := h[i]
	for i > 0 {
		parent := (i - 1) / 4
		if h[parent] <= k {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = k
}

func (h mergeHeap) down(i int) {
	if len(h) == 0 {
		return
	}
	k := h[i]
	for {
		first := 4*i + 1
		if first >= len(h) {
			break
		}
		child, min := first, h[first]
		for c := first + 1; c < first+4 && c < len(h); c++ {
			if h[c] < min {
				child, min = c, h[c]
			}
		}
		if k <= min {
			break
		}
		h[i] = min
		i = child
	}
	h[i] = k
}

// fingerprint returns the first 8 bytes of s, little-endian and
// zero-padded, and a 64-bit hash of s in the style of wyhash. The hash
// needn't resist collisions chosen by an attacker: the rank table is fixed
// and the cache compares whole keys.
func fingerprint(s string) (prefix, h uint64) {
	const (
		k0 = 0xa0761d6478bd642f
		k1 = 0xe7037ed1a0b428db
		k2 = 0x8ebc6af09c88c6e3
	)
	n := len(s)
	var b uint64
	switch {
	case n == 0:
	case n < 4:
		prefix = uint64(s[0]) | uint64(s[n>>1])<<(8*(n>>1)) | uint64(s[n-1])<<(8*(n-1))
	case n < 8:
		prefix = uint64(le32(s)) | uint64(le32(s[n-4:]))<<(8*(n-4))
	case n <= 16:
		prefix, b = le64(s), le64(s[n-8:])
	default:
		seed := uint64(k2)
		for i := 8; n-i > 8; i += 16 {
			seed = mix(le64(s[i:])^k1, le64(s[min(i+8, n-8):])^seed)
		}
		prefix, b = le64(s), le64(s[n-8:])^seed
	}
	return prefix, mix(prefix^k0^uint64(n), b^k1)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}
