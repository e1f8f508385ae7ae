// Package evidence finds the rule evidence of prompt injection in a text:
// multilingual phrase rules matched by one Aho-Corasick automaton on the
// folded view of the text (textnorm.Fold: NFKC, case, invisible characters,
// confusables, leetspeak, white space) and, when the text has letters
// spelled out one by one, on the joined view (textnorm.Joined); and
// embedded encoded runs (textnorm.Decode) to score again.
package evidence

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/rampartsec/rampart/classify"
	"github.com/rampartsec/rampart/detect/textnorm"
)

// Category is a kind of rule evidence.
type Category int

// The categories.
const (
	Override      Category = iota // "ignore all previous instructions"
	RoleHijack                    // "you are now", "new instructions:"
	Extraction                    // "reveal your system prompt"
	Persona                       // "developer mode", "DAN", "no restrictions"
	Addressed                     // "AI assistant:", "when you summarise this"
	DocImperative                 // requests about the answer, inside data (indirect mode only)
	Hidden                        // rule evidence inside an HTML comment
	Obfuscated                    // evidence found only in the joined view (s p l i t letters)
	NumCategories
)

// NormalizerName is the classify normaliser registered by this package:
// textnorm.Fold, the folded view the rules match too.
const NormalizerName = "injection-textnorm-v1"

func init() {
	if err := classify.RegisterNormalizer(NormalizerName, textnorm.Fold); err != nil {
		panic(err) // registered once, at init
	}
}

// splitRun returns the byte span in the folded text f of the first run of
// at least four single letters separated by one to three separators (the
// runs textnorm.Joined rejoins), or ok false when there is none. It is the
// cheap test that decides whether the joined view is worth building: it
// visits only the single letters (a letter between two non-letters),
// which nextSingle finds eight bytes at a time.
func splitRun(f []byte) (start, end int, ok bool) {
	from := firstSingles(f)
	if from < 0 {
		return 0, 0, false
	}
	singles, runStart, last := 0, 0, 0
	for i := nextSingle(f, from); i >= 0; i = nextSingle(f, i+1) {
		// Does it continue the run (1 to 3 separators since the last
		// single letter)? A word of two or more letters in between is
		// not made of separators, so it breaks the run.
		if singles > 0 && i-last >= 2 && i-last <= 4 && allSep(f[last+1:i]) {
			singles++
		} else {
			singles, runStart = 1, i
		}
		last = i
		if singles >= 4 {
			return runStart, runEnd(f, i), true
		}
	}
	return 0, 0, false
}

// runEnd returns the end of the run of split letters whose fourth single
// letter is f[i]: after the last single letter that follows 1 to 3
// separators.
func runEnd(f []byte, i int) int {
	end := i + 1
	for k := i + 1; k < len(f); {
		m := k
		for m < len(f) && m-k < 3 && isSep(f[m]) {
			m++
		}
		if m == k || m >= len(f) || !isLetter(f[m]) || (m+1 < len(f) && isLetter(f[m+1])) {
			break
		}
		end, k = m+1, m+1
	}
	return end
}

// firstSingles returns where a run of four single letters can first
// start: the start of the first three consecutive aligned blocks of eight
// bytes that hold four single letters between them (a run spans at most
// 13 bytes, so it lies within three such blocks), or 0 when f is too short
// to tell, or -1 when there is no such place.
func firstSingles(f []byte) int {
	if len(f) < 24 {
		return 0
	}
	var c1, c2 int    // single letters in the two blocks before
	var before uint64 // 0x80 when the byte before the block is a letter
	l := letters8(f[0:])
	for i := 0; i+8 <= len(f); i += 8 {
		// The letters of the next block, or of the byte after this one.
		var ln uint64
		if i+16 <= len(f) {
			ln = letters8(f[i+8:])
		} else if i+8 < len(f) && isLetter(f[i+8]) {
			ln = 0x80
		}
		single := l &^ (l<<8 | before) &^ (l>>8 | ln<<56)
		c := bits.OnesCount64(single)
		if c1+c2+c >= 4 {
			return max(0, i-16)
		}
		c1, c2 = c2, c
		before = l >> 56 & 0x80
		l = ln
	}
	// The last len(f)%8 bytes: let the exact scan look at the last
	// three blocks with them.
	if len(f)%8 != 0 {
		return max(0, len(f)&^7-16)
	}
	return -1
}

// letters8 returns the high bit of each of the eight bytes of b that is
// a–z (b has at least eight bytes).
func letters8(b []byte) uint64 {
	v := binary.LittleEndian.Uint64(b)
	x := v &^ highs8
	// x's bytes are below 0x80, so no sum carries; bytes >= 0x80 are
	// masked out.
	return (x + (0x80-'a')*ones8) &^ (x + (0x80-'z'-1)*ones8) &^ v & highs8
}

// nextSingle returns the offset of the first single letter of f at or
// after i (a byte a–z whose neighbours are not), or -1.
func nextSingle(f []byte, i int) int {
	for ; i+8 <= len(f); i += 8 {
		v := binary.LittleEndian.Uint64(f[i:])
		x := v &^ highs8
		// The high bit of each byte that is a–z (bytes >= 0x80 are
		// masked out; x's bytes are below 0x80, so no sum carries).
		l := (x + (0x80-'a')*ones8) &^ (x + (0x80-'z'-1)*ones8) &^ v & highs8
		if l == 0 {
			continue
		}
		prev := l << 8
		if i > 0 && isLetter(f[i-1]) {
			prev |= 0x80
		}
		next := l >> 8
		if i+8 < len(f) && isLetter(f[i+8]) {
			next |= 1 << 63
		}
		if single := l &^ prev &^ next; single != 0 {
			return i + bits.TrailingZeros64(single)/8
		}
	}
	for ; i < len(f); i++ {
		if isLetter(f[i]) && (i == 0 || !isLetter(f[i-1])) && (i+1 == len(f) || !isLetter(f[i+1])) {
			return i
		}
	}
	return -1
}

// isASCII reports whether b has no byte above 0x7F, eight bytes at a time.
func isASCII(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allSep(b []byte) bool {
	for _, c := range b {
		if !isSep(c) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' }
func isSep(c byte) bool {
	switch c {
	case ' ', '.', '-', '_', '*', '/', '|', ',', '+', '~', ':', '\\':
		return true
	}
	return false
}

// OrigSpan maps the byte span [start, end) of textnorm.Fold(text) back to
// text. It walks text rune by rune, taking one folded byte per printable
// ASCII character, one per run of white space, none per control character
// and, for other characters, the length of the character folded alone; it
// is exact for ASCII text and close (a few bytes) where NFKC composition or
// context-dependent confusable mapping change lengths. buf is scratch
// space. The result is a valid span of text on rune boundaries.
func OrigSpan(text string, start, end int, buf []byte) (int, int, []byte) {
	pos, space := 0, false
	os, oe := -1, len(text)
	for i := 0; i < len(text); {
		c := text[i]
		n, fl := 1, 0
		if c < utf8.RuneSelf {
			switch {
			case c == ' ' || c >= '\t' && c <= '\r':
				if !space {
					fl = 1
				}
				space = true
			case c < ' ' || c == 0x7f:
			default:
				fl, space = 1, false
			}
		} else {
			_, n = utf8.DecodeRuneInString(text[i:])
			buf = textnorm.Fold(buf[:0], text[i:i+n])
			switch {
			case len(buf) == 1 && buf[0] == ' ':
				if !space {
					fl = 1
				}
				space = true
			case len(buf) > 0:
				fl, space = len(buf), false
			}
		}
		if os < 0 && fl > 0 && pos+fl > start {
			os = i
		}
		pos += fl
		i += n
		if os >= 0 && pos >= end {
			oe = i
			break
		}
	}
	if os < 0 {
		os = len(text)
	}
	if oe < os {
		oe = os
	}
	return os, oe, buf
}

// Result is the rule evidence found in one text.
type Result struct {
	// Found tells, per category, whether it has evidence, and Span the
	// byte span of the first evidence in the original text.
	Found [NumCategories]bool
	Span  [NumCategories][2]int
}

// Count returns the number of categories with evidence.
func (r *Result) Count() int {
	n := 0
	for _, f := range r.Found {
		if f {
			n++
		}
	}
	return n
}

// Scanner matches the phrase rules. It is immutable and safe for
// concurrent use.
type Scanner struct {
	all   *matcher // every phrase
	ascii *matcher // the ASCII phrases: all an ASCII text can match
}

// pairGap is how far apart (in folded bytes) a verb and its object may be.
const pairGap = 80

// NewScanner builds the scanner from the built-in phrase lists.
func NewScanner() *Scanner {
	var pats []pattern
	add := func(list []string, cat Category, p part) {
		for _, s := range list {
			pt := pattern{lit: s, cat: cat, part: p}
			if strings.HasSuffix(s, "$") {
				pt.lit = s[:len(s)-1]
				pt.wordEnd = true
			}
			pt.wordStart = pt.lit[0] < utf8.RuneSelf && isASCIIWord(pt.lit[0])
			pats = append(pats, pt)
		}
	}
	add(overrideVerbs, Override, verb)
	add(overrideObjects, Override, object)
	add(extractionVerbs, Extraction, verb)
	add(extractionObjects, Extraction, object)
	add(roleHijack, RoleHijack, whole)
	add(persona, Persona, whole)
	add(addressed, Addressed, whole)
	add(docImperative, DocImperative, whole)
	var asciiPats []pattern
	for _, p := range pats {
		if isASCII([]byte(p.lit)) {
			asciiPats = append(asciiPats, p)
		}
	}
	return &Scanner{all: newMatcher(pats), ascii: newMatcher(asciiPats)}
}

// Scratch is reusable per-call memory for Scan and Analyze.
type Scratch struct {
	// Folded is textnorm.Fold of the text (Analyze prepares it).
	Folded []byte
	joined []byte
	span   []byte
	sub    *Scratch
	sums   classify.Sums
}

// Scan finds the evidence in text. sc.Folded must hold textnorm.Fold of
// text (Analyze prepares it). indirect enables DocImperative.
func (s *Scanner) Scan(text string, indirect bool, sc *Scratch) Result {
	var r Result
	f := sc.Folded
	s.scanView(&r, f, indirect, false, [2]int{})
	// Letters spelled out one by one: match the joined view too; what is
	// found only there is reported with the span of the first split run.
	if rs, re, ok := splitRun(f); ok {
		sc.joined = textnorm.Joined(sc.joined[:0], f)
		s.scanView(&r, sc.joined, indirect, true, [2]int{rs, re})
	}
	// Evidence inside an HTML comment.
	for i := 0; ; {
		k := indexFrom(f, commentOpen, i)
		if k < 0 {
			break
		}
		e := indexFrom(f, commentClose, k+4)
		if e < 0 {
			e = len(f)
		} else {
			e += 3
		}
		var inner Result
		s.scanView(&inner, f[k:e], true, false, [2]int{})
		if inner.Found[Override] || inner.Found[RoleHijack] || inner.Found[Extraction] || inner.Found[Persona] || inner.Found[Addressed] || inner.Found[DocImperative] {
			if !r.Found[Hidden] {
				r.Found[Hidden] = true
				r.Span[Hidden] = [2]int{k, e}
			}
		}
		i = e
	}
	// Spans so far are in folded bytes; map them back to the text.
	for c := range NumCategories {
		if r.Found[c] {
			r.Span[c][0], r.Span[c][1], sc.span = OrigSpan(text, r.Span[c][0], r.Span[c][1], sc.span)
		}
	}
	return r
}

func indexFrom(f []byte, sub []byte, from int) int {
	if from >= len(f) {
		return -1
	}
	k := bytes.Index(f[from:], sub)
	if k < 0 {
		return -1
	}
	return from + k
}

var (
	commentOpen  = []byte("<!--")
	commentClose = []byte("-->")
)

// scanView matches one view and records spans in folded bytes: the match
// itself for the folded view, split for the joined view (joined true).
func (s *Scanner) scanView(r *Result, view []byte, indirect, joined bool, split [2]int) {
	var lastVerb, lastObj [NumCategories][2]int
	for c := range lastVerb {
		lastVerb[c] = [2]int{-1 << 30, -1 << 30}
		lastObj[c] = [2]int{-1 << 30, -1 << 30}
	}
	found := func(c Category, start, end int) {
		sp := [2]int{start, end}
		if joined {
			sp = split
			if !r.Found[c] && !r.Found[Obfuscated] {
				r.Found[Obfuscated] = true
				r.Span[Obfuscated] = sp
			}
		}
		if !r.Found[c] {
			r.Found[c] = true
			r.Span[c] = sp
		}
	}
	m := s.all
	if isASCII(view) {
		m = s.ascii
	}
	m.scan(view, func(p *pattern, start, end int) {
		c := p.cat
		if r.Found[c] {
			return
		}
		switch p.part {
		case whole:
			if c == DocImperative && !indirect {
				return
			}
			found(c, start, end)
		case verb:
			if o := lastObj[c]; start-o[1] <= pairGap && o[1] <= start {
				found(c, o[0], end)
				return
			}
			lastVerb[c] = [2]int{start, end}
		case object:
			if v := lastVerb[c]; start-v[1] <= pairGap && v[1] <= start {
				found(c, v[0], end)
				return
			}
			lastObj[c] = [2]int{start, end}
		}
	})
}
