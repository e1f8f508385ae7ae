package textnorm

import "strings"

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

// scanRot13 finds stretches of text that read as English once rot13'd and
// not before. A segment (text between sentence punctuation, digits or
// non-ASCII) qualifies when at least two of its words are common English
// words only after rot13, twice as many as are common as they stand, and
// a quarter of its words; neighbouring qualifying segments merge.
func scanRot13(s string, add func(i, j int, enc, text string) bool) bool {
	runStart, runEnd := -1, -1
	flush := func() bool {
		if runStart < 0 {
			return true
		}
		b := []byte(s[runStart:runEnd])
		for k, c := range b {
			if c < 128 && codeOf[c] != 0 {
				base := byte('a')
				if c < 'a' {
					base = 'A'
				}
				b[k] = base + (c-base+13)%26
			}
		}
		ok := add(runStart, runEnd, "rot13", string(b))
		runStart = -1
		return ok
	}
	segStart := 0
	words, plain, rot := 0, 0, 0
	var k, rk uint64
	wl := 0
	endWord := func() {
		if wl >= 2 && wl <= 12 {
			words++
			if isCommon(k) {
				plain++
			}
			if isCommon(rk) {
				rot++
			}
		} else if wl > 0 {
			words++
		}
		k, rk, wl = 0, 0, 0
	}
	endSeg := func(i int) bool {
		endWord()
		if rot >= 2 && rot >= 2*plain && rot*4 >= words {
			// Trim the segment to its letters.
			a, b := segStart, i
			for a < b && codeOf[s[a]&0x7F] == 0 {
				a++
			}
			for b > a && codeOf[s[b-1]&0x7F] == 0 {
				b--
			}
			if runStart >= 0 && a-runEnd <= 4 {
				runEnd = b
			} else {
				if !flush() {
					return false
				}
				runStart, runEnd = a, b
			}
		}
		words, plain, rot = 0, 0, 0
		segStart = i + 1
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 128 {
			if code := codeOf[c]; code != 0 {
				if wl < 13 {
					k = k<<wordBits | uint64(code)
					rk = rk<<wordBits | uint64(rot13Of[c])
				}
				wl++
				continue
			}
		}
		if segBreak[c] {
			if !endSeg(i) {
				return false
			}
			continue
		}
		endWord()
	}
	if !endSeg(len(s)) {
		return false
	}
	return flush()
}
