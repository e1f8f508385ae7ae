package tokens

import "sync/atomic"

// pieceCache remembers how many tokens recent pieces that are not single
// tokens came to. It is a fixed-size, direct-mapped table (new entries
// evict old ones) shared by all goroutines without locks: each slot is a
// sequence lock over atomic words, so a reader that races a writer sees a
// miss, never a torn entry. Keys are compared in full.
type pieceCache struct {
	slots [cacheSlots]cacheSlot
}

const (
	cacheSlots  = 4096                // 160 KiB per encoding
	cacheKeyMax = 8 * len(cacheKey{}) // longest piece cached, in bytes
)

type cacheKey = [4]atomic.Uint64

type cacheSlot struct {
	seq  atomic.Uint32 // odd while a writer holds the slot
	meta atomic.Uint32 // key length | token count << 8
	key  cacheKey      // the piece's bytes, little-endian, zero-padded
}

func (c *pieceCache) slot(h uint64) *cacheSlot {
	// The rank table indexes by the low bits; use the high ones.
	return &c.slots[(h>>32)%cacheSlots]
}

// get returns the token count of piece (at most cacheKeyMax bytes long),
// whose hash is h, if the cache holds it.
func (c *pieceCache) get(piece string, h uint64) (int, bool) {
	s := c.slot(h)
	seq := s.seq.Load()
	if seq&1 != 0 {
		return 0, false
	}
	meta := s.meta.Load()
	if int(meta&0xff) != len(piece) {
		return 0, false
	}
	for i := 0; i < len(piece); i += 8 {
		if s.key[i/8].Load() != word(piece, i) {
			return 0, false
		}
	}
	if s.seq.Load() != seq {
		return 0, false
	}
	return int(meta >> 8), true
}

// put records that piece (at most cacheKeyMax bytes long), whose hash is h,
// is n tokens. It gives up if another goroutine is writing the slot.
func (c *pieceCache) put(piece string, h uint64, n int) {
	s := c.slot(h)
	seq := s.seq.Load()
	if seq&1 != 0 || !s.seq.CompareAndSwap(seq, seq+1) {
		return
	}
	for i := range s.key {
		s.key[i].Store(word(piece, 8*i))
	}
	s.meta.Store(uint32(len(piece)) | uint32(n)<<8)
	s.seq.Store(seq + 2)
}

// word returns the 8 bytes of s from i, little-endian, zero-padded.
func word(s string, i int) uint64 {
	if len(s)-i >= 8 {
		return le64(s[i:])
	}
	var w uint64
	for j := len(s) - 1; j >= i; j-- {
		w = w<<8 | uint64(s[j])
	}
	return w
}
