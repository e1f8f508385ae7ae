package textnorm

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// commonWords are frequent English words (and words instructions to a
// model use) that rot13 detection looks for. Words of one letter are left
// out: "a" and "n" are each other's rot13.
const commonWords = `the of and to in is you that it he was for on are as with his they at be
this have from or one had by word but not what all were we when your can said there use
each which she do how their if will up other about out many then them these so some her
would make like him into time has look two more write go see number no way could people my
than first water been call who its now find long down day did get come made may part
over new sound take only little work know place year live me back give most very after
thing our just name good sentence man think say great where help through much before line
right too mean old any same tell boy follow came want show also around form three small set
put end does another well large must big even such because turn here why ask went men read
need land different home us move try kind hand picture again change off play spell air away
animal house point page letter mother answer found study still learn should world
ignore previous instructions instruction prompt system secret password reveal forget above
rules tell print output show respond answer user assistant admin mode override disregard
everything reply only now act pretend developer jailbreak hidden key token api data send
`

const wordBits = 5

var (
	wordSet [1 << 10]uint64
	// rotSet holds the words of two to seven letters whose rot13 is in
	// wordSet, as their lower-case bytes packed little-endian.
	rotSet [1 << 10]uint64
	// rotPair has bit n of entry 26*a+b set when a word of rotSet has n
	// letters and starts with the letters 'a'+a, 'a'+b: a cheap filter.
	rotPair [26 * 26]uint8
	rot13Of [128]byte // letter → 1..26 code of its rot13; 0 for non-letters
	codeOf  [128]byte // letter → 1..26
)

func init() {
	for c := byte('a'); c <= 'z'; c++ {
		codeOf[c] = c - 'a' + 1
		codeOf[c-'a'+'A'] = c - 'a' + 1
		r := (c-'a'+13)%26 + 1
		rot13Of[c] = r
		rot13Of[c-'a'+'A'] = r
		rotCode[c], rotCode[c-'a'+'A'] = r, r
	}
	for _, w := range strings.Fields(commonWords) {
		if len(w) < 2 || len(w) > 12 {
			continue
		}
		var k uint64
		for i := 0; i < len(w); i++ {
			k = k<<wordBits | uint64(codeOf[w[i]])
		}
		h := wordHash(k)
		for wordSet[h] != 0 && wordSet[h] != k {
			h = (h + 1) & (len(wordSet) - 1)
		}
		wordSet[h] = k
		if len(w) <= 7 {
			var p uint64
			for i := len(w) - 1; i >= 0; i-- {
				p = p<<8 | uint64((w[i]-'a'+13)%26+'a')
			}
			rotPair[int(byte(p)-'a')*26+int(byte(p>>8)-'a')] |= 1 << len(w)
			h := wordHash(p)
			for rotSet[h] != 0 && rotSet[h] != p {
				h = (h + 1) & (len(rotSet) - 1)
			}
			rotSet[h] = p
		}
	}
}

// isRotCommon reports whether the packed lower-case word k (see rotSet)
// is common English once rot13'd.
func isRotCommon(k uint64) bool {
	h := wordHash(k)
	for {
		w := rotSet[h]
		if w == k {
			return true
		}
		if w == 0 {
			return false
		}
		h = (h + 1) & (len(rotSet) - 1)
	}
}

func wordHash(k uint64) int {
	return int((k * 0x9E3779B97F4A7C15) >> (64 - 10))
}

func isCommon(k uint64) bool {
	h := wordHash(k)
	for {
		w := wordSet[h]
		if w == k {
			return true
		}
		if w == 0 {
			return false
		}
		h = (h + 1) & (len(wordSet) - 1)
	}
}

// segBreak reports whether c ends a rot13 segment: anything but ASCII
// letters, spaces, tabs, commas, apostrophes and hyphens.
var segBreak = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = false
		t[c-'a'+'A'] = false
	}
	for _, c := range " \t,'-" {
		t[c] = false
	}
	return t
}()

// rotCode maps ASCII letters to the 1..26 code of their rot13, every
// other byte to 0.
var rotCode [256]byte

// rot13State is scanRot13's run of qualifying segments.
type rot13State struct {
	s                string
	add              func(i, j int, enc, text string) bool
	runStart, runEnd int
}

// flush reports the pending run.
func (st *rot13State) flush() bool {
	if st.runStart < 0 {
		return true
	}
	b := []byte(st.s[st.runStart:st.runEnd])
	for k, c := range b {
		if c < 128 && codeOf[c] != 0 {
			base := byte('a')
			if c < 'a' {
				base = 'A'
			}
			b[k] = base + (c-base+13)%26
		}
	}
	ok := st.add(st.runStart, st.runEnd, "rot13", string(b))
	st.runStart = -1
	return ok
}

// segment records that s[a:b] qualifies, merging it with the pending run
// when only a few bytes of ASCII punctuation and space separate them (a
// run never spans a non-ASCII byte, so its rot13 stays valid UTF-8).
func (st *rot13State) segment(a, b int) bool {
	for a < b && codeOf[st.s[a]&0x7F] == 0 {
		a++
	}
	for b > a && codeOf[st.s[b-1]&0x7F] == 0 {
		b--
	}
	if st.runStart >= 0 && a-st.runEnd <= 4 && asciiOnly(st.s[st.runEnd:a]) {
		st.runEnd = b
		return true
	}
	if !st.flush() {
		return false
	}
	st.runStart, st.runEnd = a, b
	return true
}

// scanText finds base64 and hex runs (see splitRun) and rot13 stretches
// in one pass.
//
// A rot13 stretch is text that reads as English once rot13'd and not
// before. A segment (text between sentence punctuation, digits or
// non-ASCII) qualifies when at least two of its words are common English
// words after rot13, at least twice as many as are common as they stand,
// and at least a quarter of its words; neighbouring qualifying segments
// merge.
func scanText(s string, add func(i, j int, enc, text string) bool) bool {
	st := rot13State{s: s, add: add, runStart: -1}
	segStart, words, rot := 0, 0, 0
	tok := -1 // start of the current run of base64/hex bytes
	for i := 0; i <= len(s); {
		var c byte
		if i < len(s) {
			c = s[i]
			if rotCode[c] != 0 {
				if tok < 0 {
					tok = i
				}
				if i+8 <= len(s) {
					// A word of up to seven letters, eight bytes at a time.
					v := load8(s, i)
					x := v&^highs8 | 0x20*ones8
					letter := (x + (0x80-'a')*ones8) &^ (x + (0x80-'z'-1)*ones8) &^ v & highs8
					if nonLetter := ^letter & highs8; nonLetter != 0 {
						n := bits.TrailingZeros64(nonLetter) / 8
						words++
						if n >= 2 && rotPair[int(byte(x)-'a')*26+int(byte(x>>8)-'a')]&(1<<n) != 0 && isRotCommon(x&(1<<(8*n)-1)) {
							rot++
						}
						i += n
						if s[i] == ' ' {
							// The space after the word, as below.
							if i-tok >= minBase64 && !splitRun(s, tok, i, add) {
								return false
							}
							tok = -1
							i++
						}
						continue
					}
				}
				j := i
				var rk uint64
				for j < len(s) && rotCode[s[j]] != 0 {
					rk = rk<<wordBits | uint64(rotCode[s[j]])
					j++
				}
				words++
				if n := j - i; n >= 2 && n <= 12 && isCommon(rk) {
					rot++
				}
				i = j
				continue
			}
			if byteClass[c]&bRun != 0 {
				if tok < 0 {
					tok = i
				}
			} else if tok >= 0 {
				if i-tok >= minBase64 && !splitRun(s, tok, i, add) {
					return false
				}
				tok = -1
			}
			if !segBreak[c] {
				i++
				continue
			}
		} else if tok >= 0 && i-tok >= minBase64 && !splitRun(s, tok, i, add) {
			return false
		}
		// The end of a segment.
		if rot >= 2 && rot*4 >= words && rot >= 2*plainCommon(s[segStart:i]) && !st.segment(segStart, i) {
			return false
		}
		words, rot = 0, 0
		i++
		if c >= utf8.RuneSelf {
			// The rest of a run of non-ASCII bytes: each ends an empty
			// segment.
			for i < len(s) && s[i] >= utf8.RuneSelf {
				i++
			}
		}
		segStart = i
	}
	return st.flush()
}

// plainCommon counts the words of seg (ASCII letters) that are common
// English words as they stand.
func plainCommon(seg string) int {
	n, wl := 0, 0
	var k uint64
	for i := 0; i <= len(seg); i++ {
		if i < len(seg) && seg[i] < 128 && codeOf[seg[i]] != 0 {
			if wl < 13 {
				k = k<<wordBits | uint64(codeOf[seg[i]])
			}
			wl++
			continue
		}
		if wl >= 2 && wl <= 12 && isCommon(k) {
			n++
		}
		k, wl = 0, 0
	}
	return n
}

// asciiOnly reports whether s has no byte ≥ 0x80.
func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
