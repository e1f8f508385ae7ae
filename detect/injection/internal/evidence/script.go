package evidence

import (
	"encoding/binary"
	"math/bits"
)

// Script is a writing system, as far as the classifier cares.
type Script uint8

// The scripts.
const (
	ScriptNone Script = iota
	ScriptLatin
	ScriptCyrillic
	ScriptGreek
	ScriptArabic
	ScriptDevanagari
	ScriptBengali
	ScriptThai
	ScriptHangul
	ScriptKana
	ScriptHan
	ScriptOther
	numScripts
)

var scriptNames = [numScripts]string{"none", "latin", "cyrillic", "greek", "arabic", "devanagari", "bengali", "thai", "hangul", "kana", "han", "other"}

func (s Script) String() string {
	if s < numScripts {
		return scriptNames[s]
	}
	return "unknown"
}

// ParseScript returns the script with the given name.
func ParseScript(name string) (Script, bool) {
	for i, n := range scriptNames {
		if n == name {
			return Script(i), true
		}
	}
	return 0, false
}

// DominantScript returns the script most of the letters of the UTF-8 text
// s are written in, judged from lead bytes (no decoding). Japanese text
// (any kana among Han characters) counts as kana. ASCII is counted eight
// bytes at a time.
func DominantScript(s []byte) Script {
	var n [numScripts]int
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x80:
			// ASCII sixteen bytes at a time while it lasts, then eight.
			latin := 0
			for i+16 <= len(s) {
				v, w := binary.LittleEndian.Uint64(s[i:]), binary.LittleEndian.Uint64(s[i+8:])
				if (v|w)&highs8 != 0 {
					break
				}
				latin += asciiLetters8(v) + asciiLetters8(w)
				i += 16
			}
			n[ScriptLatin] += latin
			if i+8 <= len(s) {
				if v := binary.LittleEndian.Uint64(s[i:]); v&highs8 == 0 {
					n[ScriptLatin] += asciiLetters8(v)
					i += 8
					continue
				}
			}
			if i >= len(s) {
				continue
			}
			if c = s[i]; c >= 0x80 {
				continue
			}
			if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
				n[ScriptLatin]++
			}
			i++
			continue
		default:
			sc, w := multiByte(s, i)
			n[sc]++
			i += w
		}
	}
	return dominant(&n)
}

// multiByte judges the non-ASCII character at s[i] from its lead byte (and
// the next byte for three-byte characters) and returns its script and its
// length; a stray continuation byte counts as ScriptNone, one byte long.
func multiByte(s []byte, i int) (Script, int) {
	c := s[i]
	switch {
	case c < 0xC0:
		return ScriptNone, 1
	case c < 0xE0:
		switch {
		case c <= 0xC9:
			return ScriptLatin, 2
		case c == 0xCE || c == 0xCF:
			return ScriptGreek, 2
		case c >= 0xD0 && c <= 0xD4:
			return ScriptCyrillic, 2
		case c >= 0xD8 && c <= 0xDB:
			return ScriptArabic, 2
		}
		return ScriptOther, 2
	case c < 0xF0:
		var c1 byte
		if i+1 < len(s) {
			c1 = s[i+1]
		}
		switch {
		case c == 0xE0 && (c1 == 0xA4 || c1 == 0xA5):
			return ScriptDevanagari, 3
		case c == 0xE0 && (c1 == 0xA6 || c1 == 0xA7):
			return ScriptBengali, 3
		case c == 0xE0 && (c1 == 0xB8 || c1 == 0xB9):
			return ScriptThai, 3
		case c == 0xE3 && c1 >= 0x81 && c1 <= 0x83:
			return ScriptKana, 3
		case c == 0xE3 && c1 >= 0x90, c >= 0xE4 && c <= 0xE9:
			return ScriptHan, 3
		case c >= 0xEA && c <= 0xED:
			return ScriptHangul, 3
		case c == 0xEF && c1 >= 0xBC: // full-width forms
			return ScriptLatin, 3
		}
		return ScriptOther, 3
	}
	return ScriptOther, 4
}

// dominant returns the script with the most letters in n (ScriptNone when
// there are none; ScriptNone's own count is not looked at), kana when Han
// wins and any kana was seen.
func dominant(n *[numScripts]int) Script {
	best, bn := ScriptNone, 0
	for sc := ScriptLatin; sc < numScripts; sc++ {
		if n[sc] > bn {
			best, bn = sc, n[sc]
		}
	}
	if best == ScriptHan && n[ScriptKana] > 0 {
		best = ScriptKana
	}
	return best
}

const (
	ones8  = 0x0101010101010101
	highs8 = 0x8080808080808080
)

// asciiLetters8 counts the ASCII letters among the eight ASCII bytes of v.
// No per-byte sum carries into the next byte: every byte is below 0x80.
func asciiLetters8(v uint64) int {
	x := v | 0x20*ones8
	letter := (x + (0x80-'a')*ones8) &^ (x + (0x80-'z'-1)*ones8) & highs8
	return bits.OnesCount64(letter)
}

// Scripts is a set of scripts.
type Scripts uint32

// Has reports whether s is in the set.
func (ss Scripts) Has(s Script) bool { return ss&(1<<s) != 0 }

// With returns the set with s added.
func (ss Scripts) With(s Script) Scripts { return ss | 1<<s }
