package canary

import (
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect"
)

// word is a finished word of the output: its hash and byte span.
type word struct {
	h          uint64
	start, end int
}

// char is a letter or digit of the output, for the token match.
type char struct {
	c   byte
	off int // byte offset
	gap int // separator bytes since the previous letter or digit
}

// tally scans an output incrementally. Detect runs one over the whole text,
// so that streamed and whole checks agree.
type tally struct {
	d   *Detector
	off int // stream offset of the next byte

	// pending holds the bytes of a UTF-8 sequence cut by a chunk boundary.
	pending []byte

	// Current word.
	inWord    bool
	wh        uint64
	wn        int
	wstart    int
	words     []word // ring of the last d.n words
	nwords    int
	wring     int    // next write position in words
	roll      uint64 // shingle hash of the words in the ring
	inRun     bool
	tokenRing int // next write position in chars
	chars     []char
	nchars    int
	gap       int

	hits []detect.Hit
}

// Add scans the next chunk.
func (t *tally) Add(chunk string) []detect.Hit {
	t.hits = t.hits[:0]
	i := 0
	if np := len(t.pending); np > 0 {
		// Complete the sequence cut at the end of the previous chunk.
		buf := append(t.pending, chunk[:min(len(chunk), utf8.UTFMax)]...)
		j := 0
		for j < np {
			if !utf8.FullRune(buf[j:]) {
				t.pending = append(t.pending[:0], buf[j:]...)
				return t.result()
			}
			r, size := utf8.DecodeRune(buf[j:])
			t.rune(r, size)
			j += size
		}
		i = j - np
		t.pending = t.pending[:0]
	}
	for i < len(chunk) {
		c := chunk[i]
		if c < utf8.RuneSelf {
			t.ascii(c)
			i++
			continue
		}
		if !utf8.FullRuneInString(chunk[i:]) {
			t.pending = append(t.pending, chunk[i:]...)
			break
		}
		r, size := utf8.DecodeRuneInString(chunk[i:])
		t.rune(r, size)
		i += size
	}
	return t.result()
}

// End finishes the stream.
func (t *tally) End() []detect.Hit {
	t.hits = t.hits[:0]
	for len(t.pending) > 0 {
		// An incomplete sequence at the end: invalid bytes, separators.
		t.pending = t.pending[1:]
		t.separator(1)
	}
	t.endWord()
	return t.result()
}

func (t *tally) result() []detect.Hit {
	if len(t.hits) == 0 {
		return nil
	}
	return append([]detect.Hit(nil), t.hits...)
}

func (t *tally) ascii(c byte) {
	if l := lowerAlnum(c); l != 0 {
		t.wordByte(rune(l))
		t.tokenChar(l, 1)
		return
	}
	t.separator(1)
}

func (t *tally) rune(r rune, size int) {
	if r == utf8.RuneError && size <= 1 {
		t.separator(size)
		return
	}
	if isWordRune(r) {
		t.wordByte(r)
		// Non-ASCII letters break the token.
		t.nchars = 0
		t.gap = 0
		t.off += size
		return
	}
	t.separator(size)
}

// wordByte adds a letter or digit to the current word; the caller advances
// off.
func (t *tally) wordByte(r rune) {
	if !t.inWord {
		t.inWord = true
		t.wh, t.wn = fnvOffset, 0
		t.wstart = t.off
	}
	if t.wn < maxWord {
		t.wh = hashRune(t.wh, r)
	}
	t.wn++
}

// tokenChar adds an ASCII letter or digit to the token matcher and advances
// the offset.
func (t *tally) tokenChar(c byte, size int) {
	tok := t.d.token
	if len(tok) > 0 {
		if t.nchars > 0 && t.gap > t.d.maxGap {
			t.nchars = 0
		}
		t.chars[t.tokenRing] = char{c: c, off: t.off, gap: t.gap}
		if t.tokenRing++; t.tokenRing == len(tok) {
			t.tokenRing = 0
		}
		t.nchars++
		if t.nchars >= len(tok) && c == tok[len(tok)-1] && t.matchToken() {
			first := t.chars[t.tokenRing] // oldest
			t.hits = append(t.hits, detect.Hit{Rule: RuleToken, Start: first.off, End: t.off + size, Score: ScoreToken, Label: Label})
			t.nchars = 0
		}
	}
	t.gap = 0
	t.off += size
}

// matchToken compares the ring with the token.
func (t *tally) matchToken() bool {
	tok := t.d.token
	j := t.tokenRing // the oldest
	for k := range tok {
		ch := t.chars[j]
		if ch.c != tok[k] || (k > 0 && ch.gap > t.d.maxGap) {
			return false
		}
		if j++; j == len(tok) {
			j = 0
		}
	}
	return true
}

func (t *tally) separator(size int) {
	t.endWord()
	t.gap += size
	t.off += size
}

// endWord finishes the current word and checks the shingle it ends.
func (t *tally) endWord() {
	if !t.inWord {
		return
	}
	t.inWord = false
	n := t.d.n
	if n == 0 {
		return
	}
	old := t.words[t.wring]
	if t.nwords >= n {
		t.roll -= old.h * t.d.top
	}
	t.roll = t.roll*shingleBase + t.wh
	t.words[t.wring] = word{h: t.wh, start: t.wstart, end: t.off}
	if t.wring++; t.wring == n {
		t.wring = 0
	}
	t.nwords++
	if t.nwords < n {
		return
	}
	_, ok := t.d.shingles[t.roll]
	if ok && !t.inRun {
		first := t.words[t.wring] // the oldest
		t.hits = append(t.hits, detect.Hit{Rule: RuleOverlap, Start: first.start, End: t.off, Score: ScoreOverlap, Label: Label})
	}
	t.inRun = ok
}
