package pii

import (
	_ "embed" // the first-name list
	"encoding/binary"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// firstNamesText is the first-name list built by
// go run ./detect/pii/internal/mknames (US Social Security Administration
// baby names given at least 1,000 times, and the Moby first-name lists,
// less common English words): one lower-case name a line, with a "+"
// after those in both lists.
//
//go:embed data/first-names.txt
var firstNamesText string

// firstNames is the set of names in firstNamesText, built on first use.
var firstNames = sync.OnceValue(func() *wordSet {
	s := &wordSet{m: make(map[string]struct{}, 16384)}
	for _, l := range strings.Split(firstNamesText, "\n") {
		s.add(strings.TrimSuffix(l, "+"))
	}
	s.seal()
	return s
})

// soloNames are the names that are taken for a person on their own: those
// in both source lists (marked "+").
var soloNames = sync.OnceValue(func() *wordSet {
	s := &wordSet{m: make(map[string]struct{}, 8192)}
	for _, l := range strings.Split(firstNamesText, "\n") {
		if n, ok := strings.CutSuffix(l, "+"); ok {
			s.add(n)
		}
	}
	return s
})

// nameTriggers maps the word just before a name (lower case, with its
// trailing '.' or ':') to the phrases ending in it that introduce a name;
// "" means the word alone does (a title such as "Mr." or "Frau").
var nameTriggers = map[string][]string{}

// triggerSet prefilters nameTriggers.
var triggerSet = newWordSet()

func init() {
	for _, w := range []string{
		"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx.", "dr", "dr.", "prof", "prof.", "sir", "madam", "dear",
		"herr", "frau", "m.", "mme", "mme.", "mlle", "monsieur", "madame",
		"sr", "sr.", "sra", "sra.", "srta", "srta.", "señor", "señora", "don", "doña",
		"sig.", "sig.ra", "signor", "signora", "dott.", "dott.ssa",
		"dhr.", "mevr.", "name:", "named", "called", "nome:", "nom:", "nombre:",
	} {
		nameTriggers[w] = []string{""}
		triggerSet.add(w)
	}
	for _, p := range []string{
		"my name is", "name is", "his name is", "her name is", "i am", "i'm", "this is",
		"je m'appelle", "je suis", "ich heiße", "ich heisse", "ich bin", "mein name ist",
		"me llamo", "mi nombre es", "soy", "mi chiamo", "sono", "meu nome é", "me chamo", "меня зовут",
		"signed", "regards,", "sincerely,", "contact person",
	} {
		k := strings.LastIndexByte(p, ' ')
		last := p[k+1:]
		nameTriggers[last] = append(nameTriggers[last], p)
		triggerSet.add(last)
	}
	for w := range nameTriggers {
		if len(w) >= 2 {
			e := uint16(w[len(w)-2])<<8 | uint16(w[len(w)-1])
			triggerEnds[e/64] |= 1 << (e % 64)
		}
	}
}

// triggerEnds marks the last two bytes of the words in nameTriggers (bit
// b1<<8|b2), filled in with them.
var triggerEnds [1 << 16 / 64]uint64

// capitalAt reports whether a capitalised word starts at i (an upper-case
// letter, ASCII or not, after a non-letter) and the size of its first
// letter.
func (s *scanner) capitalAt(i int) (bool, int) {
	if i >= len(s.text) {
		return false, 0
	}
	c := s.text[i]
	if c < utf8.RuneSelf {
		return isUpper(c), 1
	}
	switch {
	case c >= 0xc0 && c < 0xe0 && i+1 < len(s.text) && s.text[i+1]&0xc0 == 0x80:
		return upper2[c-0xc0]&(1<<(s.text[i+1]&0x3f)) != 0, 2
	case c >= 0xe0 && c < 0xf0 && caseless3[c-0xe0]:
		return false, 0
	}
	r, n := utf8.DecodeRuneInString(s.text[i:])
	return unicode.IsUpper(r), n
}

// upper2 marks the two-byte UTF-8 sequences of upper-case letters: bit
// b&0x3f of upper2[a-0xc0] for the sequence a b. caseless3 marks the first
// bytes of three-byte sequences whose characters are none upper case.
var upper2, caseless3 = func() (u [32]uint64, c [16]bool) {
	for a := 0xc0; a < 0xe0; a++ {
		for b := 0x80; b < 0xc0; b++ {
			if r, _ := utf8.DecodeRune([]byte{byte(a), byte(b)}); unicode.IsUpper(r) {
				u[a-0xc0] |= 1 << (b & 0x3f)
			}
		}
	}
	// Above U+07FF, unicode.IsUpper is membership of unicode.Upper.
	c = [16]bool{true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true}
	for _, rg := range unicode.Upper.R16 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			if r >= 0x800 {
				c[r>>12] = false
			}
		}
	}
	return u, c
}()

// personAt looks for a name at j, an upper-case letter or the first byte
// of a multi-byte character that scan finds with nameStarts8, and returns where to look for the next one: past the name
// or the word at j, or len(text) when the verdict depends on text still
// to come (it has waited). It finds names after a title or an introducing
// phrase ("Mr. John Smith", "Frau Müller", "my name is Ana María López",
// "Name: Åsa Laine"; only the capitalised words after the trigger are
// reported), and a first name from the list followed by a capitalised
// word ("Julia Roberts", "Maria J. Gonzales").
func (s *scanner) personAt(j int) int {
	t := s.text
	c := t[j]
	if !(isUpper(c) || c >= 0xc0) {
		return j + 1
	}
	if j > 0 && !nameBefore[t[j-1]] {
		return j + 1
	}
	if c >= utf8.RuneSelf {
		if ok, _ := s.capitalAt(j); !ok {
			return j + 1
		}
	}
	// The word, lowered (ASCII only; the list is ASCII): its first 16
	// letters, also as two little-endian words for the name set.
	var buf [16]byte
	var lo, hi uint64
	n := 0
	if j+16 <= len(t) {
		lo, hi = load8(t[j:j+8]), load8(t[j+8:j+16])
		n, lo, hi = lowerLetters16(lo, hi)
		binary.LittleEndian.PutUint64(buf[:8], lo)
		binary.LittleEndian.PutUint64(buf[8:], hi)
	} else {
		for j+n < len(t) && class[t[j+n]]&(cUpper|cLower) != 0 && n < len(buf) {
			buf[n] = lower(t[j+n])
			n++
		}
		lo, hi = binary.LittleEndian.Uint64(buf[:8]), binary.LittleEndian.Uint64(buf[8:])
	}
	k := j + n
	if n >= 2 && isUpper(t[j+1]) {
		return k // an acronym: "SELECT", "URL"
	}
	if j > 0 && t[j-1] != '(' && t[j-1] != '"' && s.nameTrigger(j-1) {
		// A title after a trigger ("Dear Mr."): the name follows it.
		if triggerSet.has(buf[:n]) && nameTriggers[string(buf[:n])][0] == "" && (s.at(k) == '.' || s.at(k) == ' ') {
			return j + 1
		}
		return s.person(j, 0.75)
	}
	if n < 3 || n == len(buf) || isLetter(s.at(k)) || isUpper(t[j+1]) {
		return j + 1
	}
	if !firstNames().hasWords(lo, hi, n) {
		return j + 1
	}
	if s.open(k) || s.open(k+1) || s.cut(k+1) {
		s.wait(j)
		return len(t)
	}
	if ok, _ := s.capitalAt(k + 1); !ok || s.at(k) != ' ' {
		// A first name on its own.
		if !monthSet.has(buf[:n]) && soloNames().has(buf[:n]) {
			s.add(ePerson, j, k, 0.5)
		}
		return k
	}
	return s.person(j, 0.6)
}

// nameTrigger reports whether the text just before the space at i ends
// with a name trigger.
func (s *scanner) nameTrigger(i int) bool {
	t := s.text
	b := i
	if i < 2 {
		return false
	}
	if e := uint16(lower(t[i-2]))<<8 | uint16(lower(t[i-1])); triggerEnds[e/64]&(1<<(e%64)) == 0 {
		return false // the word does not end like a trigger
	}
	for b > 0 && i-b < 12 && t[b-1] != ' ' && t[b-1] != '\n' && t[b-1] != '\t' {
		b--
	}
	if b == i || i-b >= 12 || triggerSet.lens[lower(t[b])]&(1<<(i-b)) == 0 {
		return false
	}
	var buf [12]byte
	w := buf[:i-b]
	for k := range w {
		w[k] = lower(t[b+k])
	}
	// A trigger must itself start a word.
	if b > 0 && isLetter(t[b-1]) {
		return false
	}
	if !triggerSet.has(w) {
		return false
	}
	phrases := nameTriggers[string(w)]
	for _, p := range phrases {
		if p == "" {
			return true
		}
		if i >= len(p) && strings.EqualFold(t[i-len(p):i], p) && (i == len(p) || !isLetter(t[i-len(p)-1])) {
			return true
		}
	}
	return false
}

// person reads one to four capitalised words (or initials) at j, joined by
// single spaces, and reports them as a name with score. It returns where
// the scan may go on.
func (s *scanner) person(j int, score float64) int {
	t := s.text
	end := j
	words := 0
	k := j
	for words < 4 && k < len(t) {
		if s.cut(k) {
			s.wait(j)
			return len(t)
		}
		ok, n := s.capitalAt(k)
		if !ok {
			break
		}
		e := k + n
		for e < len(t) {
			r, m := rune(t[e]), 1
			if t[e] >= utf8.RuneSelf {
				if !s.eof && !utf8.FullRuneInString(t[e:]) {
					e = len(t) // a character cut by the end of the text so far
					break
				}
				r, m = utf8.DecodeRuneInString(t[e:])
			}
			if !unicode.IsLetter(r) && r != '\'' && r != '-' {
				break
			}
			e += m
		}
		if s.open(e) {
			s.wait(j)
			return len(t)
		}
		if e-k > n && isUpper(t[k+n]) {
			break // an acronym ("NINO", "SQL"), not a name
		}
		if e-k == n && s.at(e) == '.' { // an initial: "J."
			e++
		}
		if e-k < 2 && words > 0 {
			break
		}
		words++
		end = e
		if s.at(e) != ' ' {
			break
		}
		if s.open(e + 1) {
			s.wait(j)
			return len(t)
		}
		k = e + 1
		// A particle between names: "Charles van Beers", "Ana de la Cruz".
		for range 2 {
			p := k
			for p < len(t) && class[t[p]]&cLower != 0 && p-k < 4 {
				p++
			}
			if p == k || s.at(p) != ' ' || !isParticle(t[k:p]) {
				break
			}
			if s.open(p + 1) {
				s.wait(j)
				return len(t)
			}
			if ok, _ := s.capitalAt(p + 1); !ok && class[s.at(p+1)]&cLower == 0 {
				break
			}
			k = p + 1
		}
		if ok, _ := s.capitalAt(k); !ok {
			break
		}
	}
	for end > j && (t[end-1] == '-' || t[end-1] == '\'') {
		end--
	}
	if words == 0 || end-j < 2 {
		return j + 1
	}
	s.add(ePerson, j, end, score)
	return end
}

// nameBefore marks the bytes after which a name may start.
var nameBefore = [256]bool{' ': true, '\n': true, '\t': true, '(': true, '"': true, '>': true, '\'': true}

// lowerLetters16 returns the number of ASCII letters that the 16 bytes lo
// and hi (little-endian) begin with, and those letters in lower case,
// zero-padded.
func lowerLetters16(lo, hi uint64) (int, uint64, uint64) {
	const low7, lowerBit = 0x7f7f7f7f7f7f7f7f, 0x2020202020202020
	letters := func(w uint64) uint64 {
		// Bit 5 set, a byte of w is a letter when it is in 'a'–'z'; bit
		// 7 of x+0x1f is set from 'a' on, of x+0x05 past 'z'.
		x := (w | lowerBit) & low7
		return (x + 0x1f1f1f1f1f1f1f1f) &^ (x + 0x0505050505050505) &^ w & highs
	}
	l := letters(lo)
	if l != highs {
		n := bits.TrailingZeros64(^l&highs) >> 3
		return n, (lo | lowerBit) & (1<<(8*n) - 1), 0
	}
	h := letters(hi)
	if h == highs {
		return 16, lo | lowerBit, hi | lowerBit
	}
	n := bits.TrailingZeros64(^h&highs) >> 3
	return 8 + n, lo | lowerBit, (hi | lowerBit) & (1<<(8*n) - 1)
}

// lowMask returns a mask with bit 7 of each byte of w below 0x40 set:
// the bytes after which a name may start (space, tab, line feed,
// parenthesis, quotes and '>') are among them.
func lowMask(w uint64) uint64 { return ^w & ^(w << 1) & highs }

// upperOrLead returns a mask with bit 7 of each byte of w in 0x40–0x5f or
// 0xc0–0xff set: the bytes that may start a name (the upper-case ASCII
// letters and the first bytes of multi-byte characters) are among them.
func upperOrLead(w uint64) uint64 { return (w << 1) & (w | ^(w << 2)) & highs }

// nameStarts8 returns a mask with bit 7 of byte k set when byte k of cur
// may start a name after byte k of prev (lowMask of prev and upperOrLead
// of cur). It only filters: a zero mask means that no byte of cur starts
// a name.
func nameStarts8(prev, cur uint64) uint64 { return lowMask(prev) & upperOrLead(cur) }

// isParticle reports whether w joins the parts of a name.
func isParticle(w string) bool {
	switch w {
	case "van", "von", "der", "den", "de", "del", "la", "le", "da", "di", "do", "dos", "das", "du", "bin", "ibn", "al", "ten", "ter":
		return true
	}
	return false
}

// cut reports whether a multi-byte character at i is cut short by the end
// of a text that may still grow.
func (s *scanner) cut(i int) bool {
	return !s.eof && i < len(s.text) && s.text[i] >= utf8.RuneSelf && !utf8.FullRuneInString(s.text[i:])
}
