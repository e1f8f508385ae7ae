package textnorm

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// stableBits marks the BMP characters that NFKC leaves alone whatever
// surrounds them: starters (canonical combining class 0) with no
// decomposition that cannot combine with a preceding character. A
// character before one of them may still combine with what follows it, so
// appendNFKC normalises the runs of other characters together with the
// character before them. Characters outside the BMP are never taken as
// stable. It is built on first use from golang.org/x/text/unicode/norm.
var stableBits = sync.OnceValue(func() *[1 << 16 / 64]uint64 {
	var t [1 << 16 / 64]uint64
	var buf [4]byte
	for r := rune(0x80); r < 1<<16; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		b := utf8.AppendRune(buf[:0], r)
		if p := norm.NFKC.Properties(b); p.CCC() == 0 && p.BoundaryBefore() && norm.NFKC.IsNormal(b) {
			t[r>>6] |= 1 << (r & 63)
		}
	}
	return &t
})

// stable reports whether r is ASCII or marked in bits (see stableBits).
func stable(bits *[1 << 16 / 64]uint64, r rune) bool {
	if r < utf8.RuneSelf {
		return true
	}
	return r < 1<<16 && bits[r>>6]&(1<<(r&63)) != 0
}

// ascii8 reports whether the 8 bytes of s at i are all ASCII.
func ascii8(s string, i int) bool {
	return load8(s, i)&highs8 == 0
}

// appendNFKC appends NFKC(t) to b and reports whether it differs from t;
// when it does not, b is left as it was. t must be valid UTF-8. Only the
// runs of characters that are not known to be stable are given to the norm
// package, each with the character before it, and only when its quick
// check does not find them normal already.
func appendNFKC(b []byte, t string) ([]byte, bool) {
	start := len(b)
	normalised := false
	done := 0    // t[:done] is in b
	prev := -1   // start of the rune before i
	island := -1 // start of the current run of unstable runes (with the rune before)
	bits := stableBits()
	for i := 0; i <= len(t); {
		if island < 0 && i+8 <= len(t) && ascii8(t, i) {
			prev = i + 7
			i += 8
			continue
		}
		var r rune = utf8.RuneError
		n := 1
		if i < len(t) {
			r, n = rune(t[i]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(t[i:])
			}
		}
		if i < len(t) && !stable(bits, r) {
			if island < 0 {
				island = max(prev, done)
				if island < 0 {
					island = 0
				}
			}
		} else if island >= 0 {
			if norm.NFKC.QuickSpanString(t[island:i]) == i-island {
				// Already normal: copied with what follows.
				island = -1
				prev = i
				i += n
				continue
			}
			normalised = true
			b = append(b, t[done:island]...)
			b = norm.NFKC.AppendString(b, t[island:i])
			done, island = i, -1
		}
		prev = i
		i += n
	}
	if !normalised {
		return b, false
	}
	b = append(b, t[done:]...)
	if string(b[start:]) == t {
		return b[:start], false
	}
	return b, true
}
