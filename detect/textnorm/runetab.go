package textnorm

import "unicode"

// BMP membership bitmaps for the hot paths, built at init from the range
// tables the unicode package's IsLetter, IsMark and IsDigit use.
var (
	letterBits   [1 << 16 / 64]uint64 // unicode.IsLetter
	wordRuneBits [1 << 16 / 64]uint64 // unicode.IsLetter, IsMark or IsDigit
)

func init() {
	set := func(t *[1 << 16 / 64]uint64, r rune) { t[r>>6] |= 1 << (r & 63) }
	add := func(t *[1 << 16 / 64]uint64, rt *unicode.RangeTable) {
		for _, rg := range rt.R16 {
			for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
				if r >= 0x100 {
					set(t, r)
				}
			}
		}
	}
	for r := rune(0); r < 0x100; r++ {
		if unicode.IsLetter(r) {
			set(&letterBits, r)
			set(&wordRuneBits, r)
		}
		if unicode.IsMark(r) || unicode.IsDigit(r) {
			set(&wordRuneBits, r)
		}
	}
	add(&letterBits, unicode.Letter)
	add(&wordRuneBits, unicode.Letter)
	add(&wordRuneBits, unicode.Mark)
	add(&wordRuneBits, unicode.Digit)
}

// isLetter is unicode.IsLetter.
func isLetter(r rune) bool {
	if uint32(r) < 1<<16 {
		return letterBits[r>>6]&(1<<(r&63)) != 0
	}
	return unicode.IsLetter(r)
}
