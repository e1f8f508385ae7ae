package unicode

import (
	"math/bits"
	stdunicode "unicode"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/textnorm"
)

// lookalikeScript reports whether r is a letter of a script whose letters
// can pass for Latin ones.
func lookalikeScript(r rune) bool {
	return stdunicode.In(r, stdunicode.Cyrillic, stdunicode.Greek, stdunicode.Armenian, stdunicode.Cherokee,
		stdunicode.Coptic, stdunicode.Lisu, stdunicode.Canadian_Aboriginal)
}

// latinForm reports whether r is a non-ASCII letter that NFKC turns into an
// ASCII letter: fullwidth and mathematical letters.
func latinForm(r rune) bool {
	return r >= 0xFF21 && r <= 0xFF3A || r >= 0xFF41 && r <= 0xFF5A || r >= 0x1D400 && r <= 0x1D6A3
}

// wordClass is what mixedScript counts in a word.
type wordClass struct {
	latin   int // Latin letters
	exact   int // look-alike letters confusable with Latin ones (or fullwidth/math Latin)
	lookOth int // other letters of look-alike scripts
	foreign int // letters of other scripts
	letters int
}

// Letter classes, as counted by wordClass.
const (
	clsLatin = iota
	clsExact
	clsLookOth
	clsForeign
)

// letterClass returns the class of the letter r.
func letterClass(r rune) uint8 {
	switch {
	case r < utf8.RuneSelf:
		return clsLatin
	case latinForm(r):
		return clsExact
	case textnorm.IsLatin(r):
		return clsLatin
	case lookalikeScript(r):
		if _, ok := textnorm.ConfusableExact(r); ok {
			return clsExact
		}
		return clsLookOth
	}
	return clsForeign
}

// Rune information bits: whether a rune is a letter, a mark, and a
// letter's class (bits 2–3).
const (
	fLetter   = 1 << 0
	fMark     = 1 << 1
	clsShift  = 2
	fLookLike = (clsExact | clsLookOth) << clsShift // either bit: exact or lookOth
)

// bmpInfo holds runeInfo for the Basic Multilingual Plane.
var bmpInfo [0x10000]uint8

func init() {
	const bmp = 0xFFFF
	set := func(t *stdunicode.RangeTable, f func(r rune)) {
		for _, rg := range t.R16 {
			for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
				f(r)
				if r+rune(rg.Stride) < r || r+rune(rg.Stride) > bmp {
					break
				}
			}
		}
		for _, rg := range t.R32 {
			if rg.Lo > bmp {
				break
			}
			for r := rune(rg.Lo); r <= rune(rg.Hi) && r <= bmp; r += rune(rg.Stride) {
				f(r)
			}
		}
	}
	set(stdunicode.Letter, func(r rune) { bmpInfo[r] |= fLetter | clsForeign<<clsShift })
	set(stdunicode.Mark, func(r rune) { bmpInfo[r] |= fMark })
	// Letters whose class may be other than foreign: compute it.
	classify := func(r rune) {
		if bmpInfo[r]&fLetter != 0 {
			bmpInfo[r] = bmpInfo[r]&^(3<<clsShift) | letterClass(r)<<clsShift
		}
	}
	for r := rune(0); r < 0x250; r++ {
		classify(r)
	}
	for r := rune(0xFF21); r <= 0xFF5A; r++ {
		classify(r)
	}
	for _, t := range []*stdunicode.RangeTable{stdunicode.Latin, stdunicode.Cyrillic, stdunicode.Greek, stdunicode.Armenian,
		stdunicode.Cherokee, stdunicode.Coptic, stdunicode.Lisu, stdunicode.Canadian_Aboriginal} {
		set(t, classify)
	}
}

// runeInfo returns the information bits of r: fLetter, fMark and, for
// letters, the class.
func runeInfo(r rune) uint8 {
	if uint32(r) < uint32(len(bmpInfo)) {
		return bmpInfo[r]
	}
	var f uint8
	if stdunicode.IsLetter(r) {
		f = fLetter | letterClass(r)<<clsShift
	}
	if stdunicode.IsMark(r) {
		f |= fMark
	}
	return f
}

func isLetter(r rune) bool       { return runeInfo(r)&fLetter != 0 }
func isLetterOrMark(r rune) bool { return runeInfo(r)&(fLetter|fMark) != 0 }

func classifyWord(w string) wordClass {
	var c wordClass
	for _, r := range w {
		f := runeInfo(r)
		if f&fLetter == 0 {
			continue
		}
		c.letters++
		switch f >> clsShift {
		case clsLatin:
			c.latin++
		case clsExact:
			c.exact++
		case clsLookOth:
			c.lookOth++
		default:
			c.foreign++
		}
	}
	return c
}

// latinWord reports whether a word counts as Latin context.
func (c wordClass) latinWord() bool {
	return c.latin > 0 && c.exact == 0 && c.lookOth == 0 && c.foreign == 0
}

// foreignWord reports whether a word counts as non-Latin context.
func (c wordClass) foreignWord() bool {
	return c.latin == 0 && (c.lookOth > 0 || c.foreign > 0)
}

// wordAt returns the end of the word (letters and marks) starting at i.
func wordAt(s string, i int) int {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiLetter(c) {
				i++
				continue
			}
			break
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isLetterOrMark(r) {
			break
		}
		i += n
	}
	return i
}

func asciiLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// neighbour finds the word before (dir < 0) or after (dir > 0) the word
// [a, b), within nearWord bytes and not across a line break, and returns
// its class; ok is false when there is none.
func neighbour(s string, a, b, dir int) (wordClass, bool) {
	if dir > 0 {
		i := b
		for i < len(s) && i-b <= nearWord {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == '\n' {
				return wordClass{}, false
			}
			if isLetter(r) {
				e := wordAt(s, i)
				if e-i > maxWord {
					return wordClass{}, false
				}
				return classifyWord(s[i:e]), true
			}
			i += n
		}
		return wordClass{}, false
	}
	i := a
	for i > 0 && a-i <= nearWord {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if r == '\n' {
			return wordClass{}, false
		}
		if isLetterOrMark(r) {
			// Walk back to the word's start.
			e := i
			for i > 0 && e-i <= maxWord {
				r, n := utf8.DecodeLastRuneInString(s[:i])
				if !isLetterOrMark(r) {
					break
				}
				i -= n
			}
			if e-i > maxWord {
				return wordClass{}, false
			}
			return classifyWord(s[i:e]), true
		}
		i -= n
	}
	return wordClass{}, false
}

const (
	ones8  = 0x0101010101010101
	highs8 = 0x8080808080808080
)

// load64 reads 8 bytes of s from i, little-endian.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// mixedScript appends hits for words that mix Latin letters with
// look-alikes, and for words made only of look-alikes between Latin words.
//
// A word is a run of letters and marks, from its first letter. Only words
// with a letter of a look-alike script (or a fullwidth or mathematical
// Latin letter) can score, so the scan tracks word boundaries and judges
// only those words; ASCII is skipped eight bytes at a time. s[:p] is
// ASCII (p is the first non-ASCII byte): the scan starts at the word that
// holds p, where its state (a word start, no candidate) is the one it
// would have reached.
func mixedScript(hits []detect.Hit, s string, p int) []detect.Hit {
	for p > 0 && asciiLetter(s[p-1]) {
		p--
	}
	// ws is where the current word starts, or would start: after the last
	// character that is neither a letter nor a mark, and after the marks
	// that follow it. The scan is inside a word when ws < i.
	ws, cand := p, false
	for i := p; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !cand {
				for i+8 <= len(s) {
					x := load64(s, i)
					if x&highs8 != 0 {
						break
					}
					t := x | 0x20*ones8
					ge := t + (0x80-'a')*ones8     // high bit: t >= 'a'
					gt := t + (0x80-('z'+1))*ones8 // high bit: t > 'z'
					if non := ^(ge &^ gt) & highs8; non != 0 {
						// After the last byte that is not a letter.
						ws = i + 8 - bits.LeadingZeros64(non)>>3
					}
					i += 8
				}
				if i >= len(s) {
					break
				}
				if c = s[i]; c >= utf8.RuneSelf {
					continue
				}
			}
			if !asciiLetter(c) {
				if cand {
					hits = judgeWord(hits, s, ws, i)
					cand = false
				}
				ws = i + 1
			}
			i++
			continue
		}
		var r rune
		n := 2
		if c1 := s[min(i+1, len(s)-1)]; c >= 0xC2 && c < 0xE0 && i+1 < len(s) && c1&0xC0 == 0x80 {
			r = rune(c&0x1F)<<6 | rune(c1&0x3F)
		} else {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		f := runeInfo(r)
		switch {
		case f&fLetter != 0:
			if f&fLookLike != 0 && f>>clsShift != clsForeign {
				cand = true
			}
		case f&fMark != 0:
			if ws == i { // not in a word: a word starts at a letter
				ws = i + n
			}
		default:
			if cand {
				hits = judgeWord(hits, s, ws, i)
				cand = false
			}
			ws = i + n
		}
		i += n
	}
	if cand {
		hits = judgeWord(hits, s, ws, len(s))
	}
	return hits
}

// judgeWord scores the word s[i:j] and appends its hit.
func judgeWord(hits []detect.Hit, s string, i, j int) []detect.Hit {
	if j-i > maxWord {
		return hits
	}
	wc := classifyWord(s[i:j])
	var score float64
	switch {
	case wc.latin > 0 && wc.exact > 0 && wc.lookOth == 0 && wc.foreign == 0:
		score = 0.9
	case wc.latin > 0 && wc.lookOth+wc.exact > 0 && wc.foreign == 0:
		score = 0.4
	case wc.latin == 0 && wc.exact >= 2 && wc.exact == wc.letters:
		p, okp := neighbour(s, i, j, -1)
		q, okq := neighbour(s, i, j, +1)
		if (okp && p.latinWord() || okq && q.latinWord()) && !(okp && p.foreignWord()) && !(okq && q.foreignWord()) {
			score = 0.7
		}
	}
	if score > 0 {
		ck := checks[cMixed]
		hits = append(hits, detect.Hit{Rule: ck.rule, Start: i, End: j, Score: score, Label: ck.label})
	}
	return hits
}

// Hold returns the offset from which appending text could change the
// hits: the start of a trailing run of word characters and invisible
// characters, or of an earlier word whose judgement waits for the next
// word.
func (d *Detector) Hold(text string) int {
	p := len(text)
	for p > 0 {
		r, n := utf8.DecodeLastRuneInString(text[:p])
		if r == utf8.RuneError && n == 1 && p == len(text) {
			// Perhaps the start of a character still arriving.
			for p > 0 && len(text)-p < utf8.UTFMax && !utf8.RuneStart(text[p-1]) {
				p--
			}
			if p > 0 {
				p--
			}
			continue
		}
		if !stdunicode.IsLetter(r) && !stdunicode.IsMark(r) && !stdunicode.IsDigit(r) && textnorm.KindOf(r) == 0 {
			break
		}
		p -= n
		if len(text)-p > maxSpan {
			break
		}
	}
	// A word of look-alikes before p may wait for the next word.
	if i := p; i > 0 {
		lim := max(0, p-nearWord-maxWord-utf8.UTFMax)
		for i > lim {
			r, n := utf8.DecodeLastRuneInString(text[:i])
			if r == '\n' {
				break
			}
			if stdunicode.IsLetter(r) || stdunicode.IsMark(r) {
				e := i
				for i > 0 {
					r, n := utf8.DecodeLastRuneInString(text[:i])
					if !stdunicode.IsLetter(r) && !stdunicode.IsMark(r) {
						break
					}
					i -= n
				}
				if e-i <= maxWord && p-e <= nearWord+utf8.UTFMax {
					wc := classifyWord(text[i:e])
					if wc.latin == 0 && wc.exact >= 2 && wc.exact == wc.letters {
						p = i
					}
				}
				break
			}
			i -= n
		}
	}
	return p
}
