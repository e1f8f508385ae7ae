// Package textnorm normalises text before detectors match it, so that
// look-alike letters, invisible characters, leetspeak, spaced-out letters,
// reversed text and encodings do not hide what the text says.
//
// Fold gives the canonical matching form: NFKC, invisible characters
// removed, UTS #39 confusables mapped to ASCII in words that are (or
// pretend to be) Latin, lower case, leetspeak inside words undone and
// whitespace collapsed. Joined rejoins letters split by separators
// ("i g n o r e"), Reversed reverses a folded text. Invisible lists the
// invisible characters of a text and TagText reads what Unicode tag
// characters smuggle. Decode finds embedded base64, hex, percent-encoded,
// rot13 and tag-character runs and decodes them, recursively.
//
// The confusables data is Unicode's confusables.txt (UTS #39, version
// 13.0.0), filtered by internal/mkconfusables to the letters whose
// prototype is made of ASCII letters.
package textnorm

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// asciiClass classifies ASCII bytes for the fast path.
const (
	cOther  = iota // punctuation, kept
	cSpace         // whitespace, collapsed
	cCtrl          // control character, dropped
	cLetter        // A-Z a-z
	cDigit         // 0-9
	cSym           // @ $ (leet symbols)
)

var asciiClass = func() (t [128]uint8) {
	for c := 0; c < 128; c++ {
		switch {
		case c == ' ' || c >= '\t' && c <= '\r':
			t[c] = cSpace
		case c < 0x20 || c == 0x7F:
			t[c] = cCtrl
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			t[c] = cLetter
		case c >= '0' && c <= '9':
			t[c] = cDigit
		case c == '@' || c == '$':
			t[c] = cSym
		}
	}
	return t
}()

// leet maps leetspeak digits and symbols to letters (0 for none).
var leet = [128]byte{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'}

// Fold returns the canonical matching form of s appended to dst:
//
//   - invisible characters (see Invisible) and control characters other
//     than whitespace are removed;
//   - NFKC, then lower case (unicode.ToLower per rune);
//   - confusable letters (see Confusable) become their ASCII prototype in
//     words that mix Latin letters with them, in words made only of
//     confusables when the text is mostly Latin (at least four Latin
//     letters for every letter of another script), and Latin-script
//     confusables (ı, ſ, ɑ…) always; Cyrillic, Greek and other words in a
//     text of their own script are kept;
//   - leetspeak: in a word (a run of letters, digits and @ $) that has a
//     leet character (0 1 3 4 5 7 @ $) between two letters, every leet
//     character becomes a letter (0→o 1→i 3→e 4→a 5→s 7→t @→a $→s), so
//     "h3ll0" and "1gn0r3" fold but "2024", "$5", "mp3" and "base64" stay;
//   - every run of whitespace becomes one space.
//
// Fold is idempotent: Fold(Fold(s)) == Fold(s). Invalid UTF-8 becomes
// U+FFFD. ASCII text takes a fast path; Fold allocates only when dst is
// too small (and, for non-ASCII text, for pooled scratch space).
func Fold(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || asciiClass[c] == cCtrl {
			return foldUnicode(dst, s)
		}
	}
	return foldASCII(dst, s)
}

func foldASCII(dst []byte, s string) []byte {
	start := len(dst)
	for i := 0; i < len(s); {
		c := s[i]
		switch asciiClass[c] {
		case cSpace:
			if len(dst) == start || dst[len(dst)-1] != ' ' {
				dst = append(dst, ' ')
			}
			i++
			continue
		case cOther:
			dst = append(dst, c)
			i++
			continue
		}
		// A word: letters, digits and leet symbols.
		j := i
		first, last := -1, -1
		for j < len(s) {
			k := asciiClass[s[j]]
			if k < cLetter {
				break
			}
			if k == cLetter {
				if first < 0 {
					first = j
				}
				last = j
			}
			j++
		}
		interior := false
		for k := first + 1; first >= 0 && k < last; k++ {
			if leet[s[k]] != 0 {
				interior = true
				break
			}
		}
		for k := i; k < j; k++ {
			c := s[k]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			} else if interior && leet[c] != 0 {
				c = leet[c]
			}
			dst = append(dst, c)
		}
		i = j
	}
	return dst
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// dropped reports whether Fold removes r.
func dropped(r rune) bool {
	if r < 0xA0 {
		return r < 0x80 && asciiClass[r] == cCtrl || r >= 0x80 && r < 0xA0 && r != 0x85
	}
	return KindOf(r) != 0
}

func foldUnicode(dst []byte, s string) []byte {
	pa, pb := scratchPool.Get().(*[]byte), scratchPool.Get().(*[]byte)
	a, b := (*pa)[:0], (*pb)[:0]
	// Remove invisible and control characters; invalid UTF-8 becomes U+FFFD.
	for _, r := range s {
		if !dropped(r) {
			a = utf8.AppendRune(a, r)
		}
	}
	// NFKC, lower case, and again until stable (lower-casing can undo
	// normalisation in rare cases).
	for range 3 {
		if !norm.NFKC.IsNormal(a) {
			b = norm.NFKC.Append(b[:0], a...)
			a, b = b, a
		}
		b = b[:0]
		changed := false
		for _, r := range string(a) {
			lr := unicode.ToLower(r)
			if lr != r {
				changed = true
			}
			if !dropped(lr) {
				b = utf8.AppendRune(b, lr)
			} else {
				changed = true
			}
		}
		if !changed {
			break
		}
		a, b = b, a
	}
	start := len(dst)
	dst = foldWords(dst, a)
	if out := dst[start:]; !isASCIIBytes(out) && !norm.NFKC.IsNormal(out) {
		b = norm.NFKC.Append(b[:0], out...)
		dst = append(dst[:start], b...)
	}
	*pa, *pb = a[:0], b[:0]
	if cap(a) <= 1<<16 {
		scratchPool.Put(pa)
	}
	if cap(b) <= 1<<16 {
		scratchPool.Put(pb)
	}
	return dst
}

func isASCIIBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isWordRune reports whether r belongs to a word: letters, marks, decimal
// digits and the leet symbols.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] >= cLetter
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

// wordInfo is what foldWords decides about one word.
type wordInfo struct {
	mixed  bool // Latin letters and confusables: map the confusables
	whole  bool // only exact confusables, no Latin: map if mostly Latin
	latin  int  // letters that are Latin once mapped (counting prototypes' lengths)
	others int  // letters of other scripts that stay
}

// classify looks at the word w (lower case, NFKC).
func classify(w string) wordInfo {
	var wi wordInfo
	hasLatin, loose, letters, exact := false, 0, 0, 0
	looseLen, exactLen := 0, 0
	for _, r := range w {
		if r < utf8.RuneSelf {
			if asciiClass[r] == cLetter {
				hasLatin = true
				letters++
				wi.latin++
			}
			continue
		}
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		p, strict, ok := lookupConf(r)
		if IsLatin(r) {
			hasLatin = true
			if ok {
				wi.latin += len(p)
			} else {
				wi.latin++
			}
			continue
		}
		if ok {
			loose++
			looseLen += len(p)
			if strict {
				exact++
				exactLen += len(p)
			}
			continue
		}
		wi.others++
	}
	switch {
	case hasLatin && loose > 0:
		wi.mixed = true
		wi.latin += looseLen
		wi.others += 0
	case !hasLatin && letters >= 2 && exact == letters:
		wi.whole = true
	default:
		wi.others += loose
	}
	return wi
}

// foldWords maps confusables and leetspeak word by word and collapses
// whitespace, appending the result to dst.
func foldWords(dst []byte, t []byte) []byte {
	s := string(t) // no copy needed: t is not modified below
	// First pass: is the text mostly Latin?
	latin, others := 0, 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j := wordEnd(s, i)
		wi := classify(s[i:j])
		if !wi.whole {
			latin += wi.latin
			others += wi.others
		}
		i = j
	}
	mostlyLatin := latin > 0 && others*4 <= latin
	start := len(dst)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			if unicode.IsSpace(r) {
				if len(dst) == start || dst[len(dst)-1] != ' ' {
					dst = append(dst, ' ')
				}
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		j := wordEnd(s, i)
		dst = foldWord(dst, s[i:j], mostlyLatin)
		i = j
	}
	return dst
}

func wordEnd(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			break
		}
		i += n
	}
	return i
}

func foldWord(dst []byte, w string, mostlyLatin bool) []byte {
	wi := classify(w)
	mapConf := wi.mixed || wi.whole && mostlyLatin
	// Leetspeak: is there a leet character between two letters?
	interior := false
	seenLetter, pendingLeet := false, false
	for _, r := range w {
		switch {
		case r < utf8.RuneSelf && leet[r] != 0:
			if seenLetter {
				pendingLeet = true
			}
		case unicode.IsLetter(r):
			if pendingLeet {
				interior = true
			}
			seenLetter = true
		}
		if interior {
			break
		}
	}
	for _, r := range w {
		if r < utf8.RuneSelf {
			if interior && leet[r] != 0 {
				dst = append(dst, leet[r])
			} else {
				dst = append(dst, byte(r))
			}
			continue
		}
		if unicode.IsLetter(r) {
			if p, _, ok := lookupConf(r); ok && (mapConf || IsLatin(r)) {
				dst = append(dst, p...)
				continue
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// Joined returns folded (a Fold result) with letters spelled out one by
// one rejoined: a run of at least four single letters, each separated from
// the next by one to three separators (space . - _ * / | , + ~ : \),
// becomes the word they spell ("i g n o r e" and "i.g.n.o.r.e" become
// "ignore"). Everything else is copied. It appends to dst.
func Joined(dst []byte, folded []byte) []byte {
	s := string(folded)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !singleLetter(s, i, r, n) {
			dst = append(dst, s[i:i+n]...)
			i += n
			continue
		}
		// Count the chain of single letters starting here.
		count, end := 1, i+n
		for j := end; ; {
			k := j
			seps := 0
			for k < len(s) && seps < 4 && isSeparator(s[k]) {
				k++
				seps++
			}
			if seps == 0 || seps > 3 || k >= len(s) {
				break
			}
			r2, n2 := utf8.DecodeRuneInString(s[k:])
			if !singleLetter(s, k, r2, n2) {
				break
			}
			count++
			end = k + n2
			j = end
		}
		if count < 4 {
			dst = append(dst, s[i:i+n]...)
			i += n
			continue
		}
		for k := i; k < end; {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !isSeparator(s[k]) {
				dst = utf8.AppendRune(dst, r)
			}
			k += n
		}
		i = end
	}
	return dst
}

func isSeparator(c byte) bool {
	switch c {
	case ' ', '.', '-', '_', '*', '/', '|', ',', '+', '~', ':', '\\':
		return true
	}
	return false
}

// singleLetter reports whether the rune r of n bytes at s[i:] is a letter
// standing alone: no word rune right before or after it.
func singleLetter(s string, i int, r rune, n int) bool {
	if !unicode.IsLetter(r) {
		return false
	}
	if i > 0 {
		p, _ := utf8.DecodeLastRuneInString(s[:i])
		if isWordRune(p) {
			return false
		}
	}
	if i+n < len(s) {
		q, _ := utf8.DecodeRuneInString(s[i+n:])
		if isWordRune(q) {
			return false
		}
	}
	return true
}

// Reversed returns folded reversed rune by rune, appended to dst, so that
// text written backwards can be matched forwards.
func Reversed(dst []byte, folded []byte) []byte {
	for i := len(folded); i > 0; {
		_, n := utf8.DecodeLastRune(folded[:i])
		dst = append(dst, folded[i-n:i]...)
		i -= n
	}
	return dst
}
