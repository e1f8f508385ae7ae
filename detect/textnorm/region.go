package textnorm

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// Flags of simpleRunes.
const (
	sWord   = 1 << iota // a word character Fold only lower-cases
	sOther              // a character Fold copies as it is
	sLetter             // a letter once lower-cased (for leetspeak)
	sLatin              // a Latin letter once lower-cased
	sConf               // a confusable letter of another script once lower-cased
	sStrict             // ... whose confusable mapping is exact
	sUpper              // changes when lower-cased
)

// simpleRunes gives, for every BMP character, whether Fold treats it
// simply wherever it stands: it is not removed, NFKC leaves it alone
// whatever surrounds it (see stableBits), and lower case turns it into one
// such character. A word character (sWord) is then only lower-cased,
// unless its word mixes Latin letters with confusables of other scripts
// (sConf) or is made only of exact confusables — the cases in which
// foldWords maps confusables (a Latin-script confusable, which is always
// mapped, is not simple). Any other character that is no white space and
// has no case (sOther) is copied. Built on first use.
var simpleRunes = sync.OnceValue(func() *[1 << 16]uint8 {
	var t [1 << 16]uint8
	bits := stableBits()
	plain := func(r rune) bool {
		return r < 1<<16 && r >= utf8.RuneSelf && stable(bits, r) && !dropped(r) && !unicode.IsSpace(r)
	}
	for r := rune(0x80); r < 1<<16; r++ {
		if r >= 0xD800 && r <= 0xDFFF || !plain(r) {
			continue
		}
		lr := r
		if mayHaveCase(r) {
			lr = unicode.ToLower(r)
		}
		if lr != r && !plain(lr) {
			continue
		}
		if !isWordRune(r) || !isWordRune(lr) {
			if !isWordRune(r) && !isWordRune(lr) && lr == r {
				t[r] = sOther
			}
			continue
		}
		f := uint8(sWord)
		if lr != r {
			f |= sUpper
		}
		if isLetter(lr) {
			f |= sLetter
			_, strict, conf := lookupConf(lr)
			switch {
			case IsLatin(lr) && conf:
				continue // always mapped
			case IsLatin(lr):
				f |= sLatin
			case conf:
				f |= sConf
				if strict {
					f |= sStrict
				}
			}
		}
		t[r] = f
	}
	return &t
})

// lowerSimple is the lower case of a character marked sWord.
func lowerSimple(r rune) rune {
	if mayHaveCase(r) {
		return unicode.ToLower(r)
	}
	return r
}

// foldSimple appends the folded form of s, a region of foldRegions, to dst
// (dst[start:] is the output so far) when every non-ASCII character in it
// is simple (see simpleRunes) and it has no control character; otherwise
// it appends nothing and reports false. It gives what foldText gives for
// such a region, in one pass and without its scratch buffers: words are
// lower-cased, white space is collapsed, the rest copied. A word with
// non-ASCII characters and a leet character between two letters reports
// false too (foldText's strict rule: a mapped character).
func foldSimple(dst []byte, s string, start int) (_ []byte, ok bool) {
	n0 := len(dst)
	tab := simpleRunes()
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch asciiClass[c] {
			case cSpace:
				dst = appendSpace(dst, start)
				i++
				continue
			case cCtrl:
				return dst[:n0], false
			case cOther:
				dst = append(dst, c)
				i++
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r >= 1<<16 || n == 1 {
				return dst[:n0], false
			}
			f := tab[r]
			if f&sOther != 0 {
				dst = append(dst, s[i:i+n]...)
				i += n
				continue
			}
			if f&sWord == 0 {
				return dst[:n0], false
			}
		}
		// A word: the run of word characters from i.
		j, ascii := i, true
		for j < len(s) {
			if c := s[j]; c < utf8.RuneSelf {
				if asciiClass[c] < cLetter {
					break
				}
				j++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[j:])
			if r >= 1<<16 || n == 1 || tab[r]&sWord == 0 {
				if r < 1<<16 && n > 1 && tab[r]&sOther != 0 {
					break // a simple non-word character ends the word
				}
				return dst[:n0], false
			}
			ascii = false
			j += n
		}
		if ascii {
			dst = foldASCIIWord(dst, s[i:j])
		} else if dst, ok = foldSimpleWord(dst, s[i:j], tab); !ok {
			// Leetspeak mapped in a word with non-ASCII characters:
			// Fold then normalises everything again (see foldText).
			return dst[:n0], false
		}
		i = j
	}
	return dst, true
}

// foldSimpleWord appends the folded word w, whose non-ASCII characters are
// marked sWord: lower case. When foldWords would map a character of it —
// a leet character between two letters, Latin letters mixed with
// confusables of other scripts, a word made only of exact confusables
// (classify's rules) — it appends nothing and reports false.
func foldSimpleWord(dst []byte, w string, tab *[1 << 16]uint8) ([]byte, bool) {
	seenLetter, pending, latin := false, false, false
	letters, loose, exact := 0, 0, 0
	for i := 0; i < len(w); {
		c := w[i]
		var f uint8
		if c < utf8.RuneSelf {
			i++
			switch {
			case leet[c] != 0:
				pending = pending || seenLetter
				continue
			case asciiClass[c] != cLetter:
				continue
			}
			f = sLetter | sLatin
		} else {
			r, n := utf8.DecodeRuneInString(w[i:])
			i += n
			if f = tab[r]; f&sLetter == 0 {
				continue
			}
		}
		if pending {
			return dst, false
		}
		seenLetter = true
		letters++
		latin = latin || f&sLatin != 0
		if f&sConf != 0 {
			loose++
			if f&sStrict != 0 {
				exact++
			}
		}
	}
	if latin && loose > 0 || !latin && letters >= 2 && exact == letters {
		return dst, false
	}
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			dst = append(dst, lowerASCII[c])
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(w[i:])
		if tab[r]&sUpper != 0 {
			dst = utf8.AppendRune(dst, lowerSimple(r))
		} else {
			dst = append(dst, w[i:i+n]...)
		}
		i += n
	}
	return dst, true
}
