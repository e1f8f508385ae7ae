package unicode

import (
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

func classifyWord(w string) wordClass {
	var c wordClass
	for _, r := range w {
		if !stdunicode.IsLetter(r) {
			continue
		}
		c.letters++
		switch {
		case r < utf8.RuneSelf:
			c.latin++
		case latinForm(r):
			c.exact++
		case textnorm.IsLatin(r):
			c.latin++
		case lookalikeScript(r):
			if _, ok := textnorm.ConfusableExact(r); ok {
				c.exact++
			} else {
				c.lookOth++
			}
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
		r, n := utf8.DecodeRuneInString(s[i:])
		if !stdunicode.IsLetter(r) && !stdunicode.IsMark(r) {
			break
		}
		i += n
	}
	return i
}

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
			if stdunicode.IsLetter(r) {
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
		if stdunicode.IsLetter(r) || stdunicode.IsMark(r) {
			// Walk back to the word's start.
			e := i
			for i > 0 && e-i <= maxWord {
				r, n := utf8.DecodeLastRuneInString(s[:i])
				if !stdunicode.IsLetter(r) && !stdunicode.IsMark(r) {
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

// mixedScript appends hits for words that mix Latin letters with
// look-alikes, and for words made only of look-alikes between Latin words.
func mixedScript(hits []detect.Hit, s string) []detect.Hit {
	ck := checks[cMixed]
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && (c|0x20 < 'a' || c|0x20 > 'z') {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !stdunicode.IsLetter(r) {
			i += n
			continue
		}
		j := wordAt(s, i)
		if j-i > maxWord {
			i = j
			continue
		}
		w := s[i:j]
		if isASCII(w) {
			i = j
			continue
		}
		wc := classifyWord(w)
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
			hits = append(hits, detect.Hit{Rule: ck.rule, Start: i, End: j, Score: score, Label: ck.label})
		}
		i = j
	}
	return hits
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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
