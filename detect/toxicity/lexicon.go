package toxicity

import (
	"bufio"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampartsec/rampart/detect/textnorm"
)

// Category is a kind of toxic language.
type Category uint8

// The categories, in rule order.
const (
	Insult Category = iota
	Threat
	Hate
	Sexual
	SelfHarm
	Profanity
	NumCategories
)

var categoryNames = [NumCategories]string{"insult", "threat", "hate", "sexual", "self-harm", "profanity"}

// String returns the category's name as used in options and lexicon files.
func (c Category) String() string {
	if c < NumCategories {
		return categoryNames[c]
	}
	return fmt.Sprintf("Category(%d)", uint8(c))
}

// ParseCategory returns the category with the given name.
func ParseCategory(name string) (Category, bool) {
	for i, n := range categoryNames {
		if n == name {
			return Category(i), true
		}
	}
	return 0, false
}

const (
	// maxWords bounds a phrase's length in words.
	maxWords = 8
	// maxChunk bounds a run of non-space bytes that is matched at all; a
	// longer run (a URL, base64, minified code) is skipped.
	maxChunk = 64
	// maxGap bounds the white space between two words of one phrase.
	maxGap = 16
	// maxLetters bounds a run of single letters ("k y s") that is rejoined.
	maxLetters = 24
	// filterBits is log2 of the size of the first-word filter.
	filterBits = 16
)

// entry is the value of a phrase key: the categories of the phrase that
// ends here and whether longer phrases start with it.
type entry struct {
	cats   uint8 // bit per Category
	prefix bool
}

// Lexicon is a compiled set of phrases with their categories. It is
// immutable and safe for concurrent use.
type Lexicon struct {
	phrases map[string]entry // folded words joined by one space
	first   [1 << filterBits / 64]uint64
	size    int
}

// Term is one lexicon line.
type Term struct {
	Lang     string
	Category Category
	Phrase   string
	// Source is free for callers (the training command marks the
	// profanity-list terms); ParseTerms leaves it empty.
	Source string
}

// ParseTerms reads lexicon lines "lang<TAB>category<TAB>phrase"; blank
// lines and lines starting with '#' are skipped. name is used in errors.
func ParseTerms(name, data string) ([]Term, error) {
	var out []Term
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		parts := strings.Split(s, "\t")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want 3 tab-separated fields, got %d", name, line, len(parts))
		}
		c, ok := ParseCategory(parts[1])
		if !ok {
			return nil, fmt.Errorf("%s:%d: unknown category %q", name, line, parts[1])
		}
		if parts[0] == "" || strings.TrimSpace(parts[2]) == "" {
			return nil, fmt.Errorf("%s:%d: empty language or phrase", name, line)
		}
		out = append(out, Term{Lang: parts[0], Category: c, Phrase: parts[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// NewLexicon compiles terms. keep, when non-nil, selects the terms to use.
// A term whose folded form has no words or more than the maximum number of
// words is skipped.
func NewLexicon(terms []Term, keep func(Term) bool) *Lexicon {
	lx := &Lexicon{phrases: make(map[string]entry, len(terms)*2)}
	var sc scratch
	for _, t := range terms {
		if keep != nil && !keep(t) {
			continue
		}
		sc.tokenize(t.Phrase)
		n := len(sc.toks)
		if n == 0 || n > maxWords {
			continue
		}
		for j := range n {
			key := string(sc.words[sc.toks[0].ws:sc.toks[j].we])
			e := lx.phrases[key]
			if j == n-1 {
				e.cats |= 1 << t.Category
			} else {
				e.prefix = true
			}
			lx.phrases[key] = e
		}
		h := sc.toks[0].h & (1<<filterBits - 1)
		lx.first[h/64] |= 1 << (h % 64)
		lx.size++
	}
	return lx
}

// Len returns the number of terms compiled into the lexicon.
func (lx *Lexicon) Len() int { return lx.size }

// token is one word of a text.
type token struct {
	start, end int32 // bytes of the original text
	ws, we     int32 // bytes of scratch.words
	h          uint32
	gapBefore  bool // more than maxGap bytes of space before it
	short      bool // one ASCII letter
}

// match is a lexicon phrase found in a text.
type match struct {
	start, end int
	cats       uint8
}

// scratch holds per-call buffers; it is pooled.
type scratch struct {
	// latin and other count the letters of the text in the Latin script
	// and in any other.
	latin, other int
	fold         []byte
	words        []byte
	joined       []byte
	toks         []token
	matches      []match
}

func isSpaceByte(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// spaceAt reports whether a space character starts at s[i] and its length.
func spaceAt(s string, i int) (bool, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return isSpaceByte(c), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r), n
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isJoiner(r rune) bool { return r == '\'' || r == '\u2019' || r == '*' }

// tokenize splits text into folded words: runs of non-space bytes
// ("chunks") of at most maxChunk bytes are folded with textnorm.Fold and
// split into runs of letters and digits; an apostrophe or '*' between two
// word characters is dropped or kept inside the word ("you're" is "youre",
// "f*ck" stays "f*ck").
func (sc *scratch) tokenize(text string) {
	sc.toks = sc.toks[:0]
	sc.latin, sc.other = 0, 0
	sc.words = sc.words[:0]
	gapStart, skipped := 0, false
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			if isSpaceByte(c) {
				i++
				continue
			}
		} else if sp, n := spaceAt(text, i); sp {
			i += n
			continue
		}
		cs := i
		plain := true
		for i < len(text) {
			c := text[i]
			if c < utf8.RuneSelf {
				if isSpaceByte(c) {
					break
				}
				plain = plain && plainASCII[c]
				sc.latin += int(asciiLetter[c])
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[i:])
			if unicode.IsSpace(r) {
				break
			}
			if unicode.Is(unicode.Latin, r) {
				sc.latin++
			} else if unicode.IsLetter(r) {
				sc.other++
			}
			plain = false
			i += n
		}
		ce := i
		if ce-cs > maxChunk {
			// No phrase spans a skipped run.
			skipped = true
			continue
		}
		gap := skipped || cs-gapStart > maxGap
		skipped = false
		gapStart = ce
		if plain {
			sc.chunkASCII(text[cs:ce], cs, gap)
		} else {
			sc.chunk(text, cs, ce, gap)
		}
	}
}

// plainASCII[c] is true for printable ASCII bytes that textnorm.Fold only
// lower-cases: everything but digits, '@' and '$' (which may be leetspeak).
var plainASCII = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = !('0' <= c && c <= '9' || c == '@' || c == '$')
	}
	return t
}()

// chunk folds text[cs:ce] and appends its words.
func (sc *scratch) chunk(text string, cs, ce int, gap bool) {
	raw := text[cs:ce]
	sc.fold = textnorm.Fold(sc.fold[:0], raw)
	f := sc.fold
	// exact: folded bytes map one to one onto raw bytes (ASCII text whose
	// fold kept its length), so word spans can be exact.
	exact := len(f) == len(raw)
	if exact {
		for k := 0; k < len(raw); k++ {
			if raw[k] >= utf8.RuneSelf {
				exact = false
				break
			}
		}
	}
	// The chunk span without leading and trailing ASCII punctuation.
	ts, te := cs, ce
	for ts < te && text[ts] < utf8.RuneSelf && !isWordRune(rune(text[ts])) {
		ts++
	}
	for te > ts && text[te-1] < utf8.RuneSelf && !isWordRune(rune(text[te-1])) {
		te--
	}
	for k := 0; k < len(f); {
		r, n := rune(f[k]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(f[k:])
		}
		if !isWordRune(r) {
			k += n
			continue
		}
		ws := len(sc.words)
		wstart := k
		var h uint32 = 2166136261
		for k < len(f) {
			r, n := rune(f[k]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRune(f[k:])
			}
			if isWordRune(r) {
				for j := k; j < k+n; j++ {
					sc.words = append(sc.words, f[j])
					h = (h ^ uint32(f[j])) * 16777619
				}
				k += n
				continue
			}
			if isJoiner(r) && k+n < len(f) {
				r2, _ := utf8.DecodeRune(f[k+n:])
				if isWordRune(r2) {
					if r == '*' {
						sc.words = append(sc.words, '*')
						h = (h ^ '*') * 16777619
					}
					k += n
					continue
				}
			}
			break
		}
		t := token{ws: int32(ws), we: int32(len(sc.words)), h: h, gapBefore: gap}
		gap = false
		if exact {
			t.start, t.end = int32(cs+wstart), int32(cs+k)
		} else {
			t.start, t.end = int32(ts), int32(te)
		}
		t.short = t.we-t.ws == 1 && sc.words[ws] < utf8.RuneSelf && sc.words[ws] >= 'a'
		sc.toks = append(sc.toks, t)
		sc.words = append(sc.words, ' ')
	}
}

func (lx *Lexicon) maybeFirst(h uint32) bool {
	h &= 1<<filterBits - 1
	return lx.first[h/64]&(1<<(h%64)) != 0
}

// find appends to sc.matches every phrase of the lexicon in the tokens of
// sc: at every word, the longest phrase starting there; then matches that
// lie inside another match are dropped. Every decision depends only on the
// words near the match, never on matches far before it.
func (lx *Lexicon) find(sc *scratch) {
	sc.matches = sc.matches[:0]
	toks := sc.toks
	for i := 0; i < len(toks); i++ {
		if toks[i].short {
			if m, ok := lx.rejoin(sc, i); ok {
				sc.matches = append(sc.matches, m)
			}
		}
		if !lx.maybeFirst(toks[i].h) {
			continue
		}
		best, cats := -1, uint8(0)
		for j := i; j < len(toks) && j < i+maxWords; j++ {
			if j > i && toks[j].gapBefore {
				break
			}
			e, ok := lx.phrases[string(sc.words[toks[i].ws:toks[j].we])]
			if !ok {
				break
			}
			if e.cats != 0 {
				best, cats = j, e.cats
			}
			if !e.prefix {
				break
			}
		}
		if best >= 0 {
			sc.matches = append(sc.matches, match{start: int(toks[i].start), end: int(toks[best].end), cats: cats})
		}
	}
	// Drop matches inside another; merge the categories of matches with
	// one span. After sorting, every match that could contain m comes
	// before it.
	ms := sc.matches
	sortMatches(ms)
	out := ms[:0]
	maxEnd := -1
	for _, m := range ms {
		if k := len(out) - 1; k >= 0 && out[k].start == m.start && out[k].end == m.end {
			out[k].cats |= m.cats
			continue
		}
		if m.end <= maxEnd {
			continue
		}
		maxEnd = m.end
		out = append(out, m)
	}
	sc.matches = out
}

// sortMatches orders by start, then longer first; insertion sort, as the
// slice is almost sorted.
func sortMatches(ms []match) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && (ms[j].start < ms[j-1].start || ms[j].start == ms[j-1].start && ms[j].end > ms[j-1].end); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// rejoin matches a run of single letters starting at token i ("k y s",
// "f.u.c.k") against the one-word phrases: the longest prefix of at least
// three letters of the run that is a phrase.
func (lx *Lexicon) rejoin(sc *scratch, i int) (match, bool) {
	toks := sc.toks
	j := i
	sc.joined = sc.joined[:0]
	// hs[n] is the hash of the first n letters, as tokenize hashes a word.
	var hs [maxLetters + 1]uint32
	hs[0] = 2166136261
	for j < len(toks) && j < i+maxLetters && toks[j].short && (j == i || !toks[j].gapBefore) {
		c := sc.words[toks[j].ws]
		sc.joined = append(sc.joined, c)
		hs[j-i+1] = (hs[j-i] ^ uint32(c)) * 16777619
		j++
	}
	if j-i < 3 {
		return match{}, false
	}
	for n := j - i; n >= 3; n-- {
		if !lx.maybeFirst(hs[n]) {
			continue
		}
		e, ok := lx.phrases[string(sc.joined[:n])]
		if ok && e.cats != 0 {
			return match{start: int(toks[i].start), end: int(toks[i+n-1].end), cats: e.cats}, true
		}
	}
	return match{}, false
}

// chunkASCII appends the words of a chunk of printable ASCII without
// digits, '@' or '$', which textnorm.Fold would only lower-case.
func (sc *scratch) chunkASCII(raw string, cs int, gap bool) {
	for k := 0; k < len(raw); {
		if !isASCIILetter(raw[k]) {
			k++
			continue
		}
		ws, wstart := len(sc.words), k
		var h uint32 = 2166136261
		for k < len(raw) {
			c := raw[k]
			if isASCIILetter(c) {
				c |= 0x20
				sc.words = append(sc.words, c)
				h = (h ^ uint32(c)) * 16777619
				k++
				continue
			}
			if (c == '\'' || c == '*') && k+1 < len(raw) && isASCIILetter(raw[k+1]) {
				if c == '*' {
					sc.words = append(sc.words, '*')
					h = (h ^ '*') * 16777619
				}
				k++
				continue
			}
			break
		}
		sc.toks = append(sc.toks, token{
			start: int32(cs + wstart), end: int32(cs + k),
			ws: int32(ws), we: int32(len(sc.words)), h: h, gapBefore: gap,
			short: len(sc.words)-ws == 1,
		})
		gap = false
		sc.words = append(sc.words, ' ')
	}
}

// asciiLetter[c] is 1 for ASCII letters.
var asciiLetter = func() (t [utf8.RuneSelf]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = 1, 1
	}
	return t
}()

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
