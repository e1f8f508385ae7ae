package tokens

import (
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/cputime"
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
			// The bound is on the CPU time of the counting thread, not the
			// wall clock, which other jobs on a shared machine stretch; a
			// quadratic merge over 1 MiB would take minutes.
			var got int
			start := time.Now()
			took := cputime.MedianOf(1, 1, func() { got = enc.Count(s) })
			if took == 0 { // no thread CPU clock on this platform
				took = time.Since(start) / 2
			}
			// -race multiplies the CPU cost (1.4–1.6 s measured for these
			// inputs under -race, 0.05–0.27 s without).
			limit := 2 * time.Second
			if raceEnabled {
				limit = 10 * time.Second
			}
			if took > limit {
				t.Errorf("%s: %d bytes took %v of CPU, limit %v", enc.Name(), len(s), took, limit)
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
