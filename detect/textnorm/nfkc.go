package textnorm

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// stableRanges lists characters that NFKC leaves alone whatever surrounds
// them: starters (canonical combining class 0) with no decomposition that
// cannot combine with a preceding character. A character before one of
// them may still combine with what follows it, so appendNFKC normalises
// the runs of other characters together with the character before them.
// TestStableRanges checks every character of these ranges against
// golang.org/x/text/unicode/norm.
var stableRanges = [...][2]rune{
	{0x00C0, 0x00FF}, {0x0100, 0x0131}, {0x0134, 0x013E}, {0x0141, 0x0148}, {0x014A, 0x017E},
	{0x0386, 0x0386}, {0x0388, 0x03CE}, {0x0400, 0x045F}, {0x05D0, 0x05EA},
	{0x0621, 0x063A}, {0x0641, 0x064A}, {0x0905, 0x0928}, {0x092A, 0x0930}, {0x0932, 0x0933}, {0x0935, 0x0939},
	{0x0E01, 0x0E30}, {0x0E32, 0x0E32}, {0x0E40, 0x0E46},
	{0x3001, 0x3002}, {0x300C, 0x3011}, {0x3041, 0x3096}, {0x30A1, 0x30FA},
	{0x4E00, 0x9FFF}, {0xAC00, 0xD7A3},
}

func stable(r rune) bool {
	if r < utf8.RuneSelf {
		return true
	}
	if r >= 0x4E00 && r <= 0x9FFF {
		return true
	}
	lo, hi := 0, len(stableRanges)
	for lo < hi {
		m := (lo + hi) / 2
		switch rg := stableRanges[m]; {
		case r < rg[0]:
			hi = m
		case r > rg[1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// appendNFKC appends NFKC(t) to b and reports whether it differs from t;
// when it does not, b is left as it was. t must be valid UTF-8. Only the runs of characters that
// are not known to be stable are given to the norm package, each with the
// character before it.
func appendNFKC(b []byte, t string) ([]byte, bool) {
	if norm.NFKC.QuickSpanString(t) == len(t) {
		return b, false
	}
	start := len(b)
	done := 0    // t[:done] is in b
	prev := -1   // start of the rune before i
	island := -1 // start of the current run of unstable runes (with the rune before)
	for i := 0; i <= len(t); {
		var r rune = utf8.RuneError
		n := 1
		if i < len(t) {
			r, n = rune(t[i]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(t[i:])
			}
		}
		if i < len(t) && !stable(r) {
			if island < 0 {
				island = max(prev, done)
				if island < 0 {
					island = 0
				}
			}
		} else if island >= 0 {
			b = append(b, t[done:island]...)
			b = norm.NFKC.AppendString(b, t[island:i])
			done, island = i, -1
		}
		prev = i
		i += n
	}
	b = append(b, t[done:]...)
	if string(b[start:]) == t {
		return b[:start], false
	}
	return b, true
}
