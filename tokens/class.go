package tokens

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// Character class flags used by the pre-tokenizers. They mirror the classes
// of the split patterns, with the Unicode tables of the Go standard library
// (the tables the reference tokenizer's regular expressions use).
const (
	fL   = 1 << iota // \p{L}
	fN               // \p{N}
	fS               // \s (unicode.IsSpace)
	fNL              // \r or \n
	fU               // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	fW               // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
	fEnd             // past the end of the input

	fMultibyte = 1 << 7 // in byteClass: not ASCII
)

// isP1 reports whether f is in [^\r\n\p{L}\p{N}].
func isP1(f uint8) bool { return f&(fL|fN|fNL|fEnd) == 0 }

// isP2 reports whether f is in [^\s\p{L}\p{N}].
func isP2(f uint8) bool { return f&(fS|fL|fN|fEnd) == 0 }

// asciiClass holds the flags of the ASCII characters.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		t[c] = classOfSlow(rune(c))
	}
	return t
}()

// classOfSlow computes the flags of r from the unicode package. It is the
// definition the lookup tables are built from and tested against.
func classOfSlow(r rune) uint8 {
	var f uint8
	if unicode.IsLetter(r) {
		f |= fL
	}
	if unicode.Is(unicode.N, r) {
		f |= fN
	}
	if unicode.IsSpace(r) {
		f |= fS
	}
	if r == '\r' || r == '\n' {
		f |= fNL
	}
	if unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M) {
		f |= fU
	}
	if unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M) {
		f |= fW
	}
	return f
}

// The flags of every code point, as a two-stage table: classIndex maps a
// block of 256 code points to its offset in classBlocks, where identical
// blocks are stored once.
var (
	classOnce   sync.Once
	classIndex  []uint32
	classBlocks []uint8
)

// loadClasses builds the two-stage table from the unicode package's range
// tables. It takes about a millisecond.
func loadClasses() {
	classOnce.Do(func() {
		all := make([]uint8, unicode.MaxRune+1)
		set := func(flag uint8, tables ...*unicode.RangeTable) {
			for _, t := range tables {
				for _, r := range t.R16 {
					for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
						all[c] |= flag
					}
				}
				for _, r := range t.R32 {
					for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
						all[c] |= flag
					}
				}
			}
		}
		set(fL, unicode.L)
		set(fN, unicode.N)
		set(fS, unicode.White_Space) // unicode.IsSpace outside Latin-1
		set(fU, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
		set(fW, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
		for c := range rune(0x100) {
			all[c] = classOfSlow(c) // Latin-1: unicode.IsSpace's own list
		}

		const block = 256
		index := make([]uint32, len(all)/block)
		var blocks []uint8
		seen := make(map[[block]uint8]uint32)
		for i := range index {
			var b [block]uint8
			copy(b[:], all[i*block:])
			off, ok := seen[b]
			if !ok {
				off = uint32(len(blocks))
				blocks = append(blocks, b[:]...)
				seen[b] = off
			}
			index[i] = off
		}
		classIndex, classBlocks = index, blocks
	})
}

// classOf returns the flags of r, which must be a valid code point (or
// utf8.RuneError). loadClasses must have run.
func classOf(r rune) uint8 {
	return classBlocks[classIndex[r>>8]+uint32(r&0xff)]
}

// at returns the flags of the character that starts at s[i] and its width in
// bytes; at the end of s it returns fEnd and 0. An invalid UTF-8 byte counts
// as one U+FFFD, as the reference tokenizer reads it.
func at(s string, i int) (uint8, int) {
	if uint(i) < uint(len(s)) && s[i] < utf8.RuneSelf {
		return asciiClass[s[i]], 1
	}
	return atSlow(s, i)
}

func atSlow(s string, i int) (uint8, int) {
	if i >= len(s) {
		return fEnd, 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return classOf(r), n
}

// byteClass holds the flags of ASCII bytes, and fMultibyte for the others.
var byteClass = func() (t [256]uint8) {
	for c := range t {
		if c < utf8.RuneSelf {
			t[c] = asciiClass[c]
		} else {
			t[c] = fMultibyte
		}
	}
	return t
}()
