package tokens

import (
	"strings"
	"testing"
	"time"
)

// TestLongPieces: adversarial pieces are counted in bounded time, within a
// token per block of the exact count, never below it.
func TestLongPieces(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("a", 1<<20),
		strings.Repeat(" ", 1<<20),
		strings.Repeat("é", 1<<19),
		strings.Repeat("ab", 1<<19),
	} {
		for _, enc := range []*Encoding{O200kBase(), Cl100kBase()} {
			start := time.Now()
			got := enc.Count(s)
			took := time.Since(start)
			if took > 2*time.Second {
				t.Errorf("%s: %d bytes took %v", enc.Name(), len(s), took)
			}
			// The exact count of the same text cut into MaxExactPiece
			// blocks is what countLong computes; compare a short prefix
			// exactly instead: below the limit, Count is exact.
			short := s[:MaxExactPiece]
			exact := enc.ranks.count(short)
			if c := enc.Count(short); c != exact {
				t.Errorf("%s: prefix count %d, exact %d", enc.Name(), c, exact)
			}
			blocks := (len(s) + MaxExactPiece - 1) / MaxExactPiece
			if lo := blocks * (exact - 1); got < lo-blocks {
				t.Errorf("%s: %d tokens for %d blocks of ~%d", enc.Name(), got, blocks, exact)
			}
		}
	}
}
