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
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

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
	start := len(dst)
	out, bad, cut := foldASCIIRun(dst, s, start, true)
	if bad < 0 {
		return out
	}
	// out holds the folded s[:cut], which ends with whitespace; the rest
	// is folded region by region, back on the ASCII path between them,
	// unless a word needs the whole text's letter counts.
	n := len(out)
	if res, ok := foldRegions(out, s, cut, bad, start); ok {
		return res
	}
	return foldUnicode(out[:n], s, cut, bad, start)
}

// foldRegions folds s[cut:] as alternating regions: one that has
// non-ASCII or control characters, folded by foldText, and then a run
// of printable ASCII, folded by foldASCIIRun, and so on. A region starts
// after ASCII whitespace (or at cut) and ends after ASCII whitespace
// followed by at least regionASCII bytes of printable ASCII (see
// regionEnd). Every step of Fold is local to such regions: invisible
// characters, NFKC (an ASCII character after whitespace neither composes
// with nor reorders what comes before it), lower case, words, whitespace
// (collapsed across regions through dst). The one exception is a word
// made only of exact confusables, which maps by the letter counts of the
// whole text: foldRegions then returns false, and Fold folds the rest in
// one piece.
func foldRegions(dst []byte, s string, cut, bad, start int) ([]byte, bool) {
	for {
		end := regionEnd(s, bad)
		var ok bool
		if dst, ok = foldSimple(dst, s[cut:end], start); !ok {
			if dst, ok = foldText(dst, s[cut:end], bad-cut, start, "", true); !ok {
				return dst, false
			}
		}
		if end == len(s) {
			return dst, true
		}
		var b, c int
		if dst, b, c = foldASCIIRun(dst, s[end:], start, true); b < 0 {
			return dst, true
		}
		cut, bad = end+c, end+b
	}
}

// regionASCII is how many bytes of printable ASCII after whitespace end
// a region of foldRegions.
const regionASCII = 32

// regionEnd returns the end of the region that holds the byte at i: just
// after the first ASCII whitespace beyond i that is followed by
// regionASCII bytes of printable ASCII or whitespace (or by the end of s),
// or len(s).
func regionEnd(s string, i int) int {
	for {
		k := i + 1
		for k < len(s) && (s[k] >= utf8.RuneSelf || asciiClass[s[k]] != cSpace) {
			k++
		}
		if k >= len(s) {
			return len(s)
		}
		p, e := k+1, min(k+1+regionASCII, len(s))
		q := p
		for q < e && s[q] < utf8.RuneSelf && asciiClass[s[q]] != cCtrl {
			q++
		}
		if q == e {
			return p
		}
		i = q
	}
}

// appendSpace appends the one space a run of white space folds to,
// unless the last byte written since start is a space already (the first
// byte at dst[start] may be a space).
func appendSpace(dst []byte, start int) []byte {
	if len(dst) == start || dst[len(dst)-1] != ' ' {
		dst = append(dst, ' ')
	}
	return dst
}

// lowerASCII maps ASCII bytes to lower case.
var lowerASCII = func() (t [128]byte) {
	for c := range t {
		t[c] = byte(c)
		if c >= 'A' && c <= 'Z' {
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

// foldASCIIRun appends the folded form of the ASCII text s, which starts
// and ends at word boundaries, to dst: words lower-cased and unleeted,
// whitespace collapsed (dst[start:] is the output so far), everything else
// copied; it returns -1 and 0. With stop, s may have other bytes: at the
// first non-ASCII byte or control character other than whitespace it
// stops and returns dst with the folded form of s[:cut] appended, the
// byte's offset and cut, the end of the last whitespace character before
// it (0 when there is none).
//
// It works in two phases. The first lower-cases and collapses whitespace:
// eight bytes at a time where they are printable ASCII with no two
// whitespace characters in a row, otherwise eight bytes through a table,
// without a branch that depends on the text (a space is always written and
// kept only when the previous output byte is not one). The second looks
// for the words with a leet character (unleetWords), if a digit, @ or $
// went by. Words are the same runs of letters, digits and leet symbols in
// the output as in s: the first phase never joins or splits them.
func foldASCIIRun(dst []byte, s string, start int, stop bool) (out []byte, bad, cut int) {
	w := len(dst)
	w0, wCut := w, w
	dst = slices.Grow(dst, len(s))
	out = dst[:w+len(s)]
	stopBits := uint8(fStop)
	if stop {
		stopBits |= fCtrl
	}
	// sp: the previous output byte is a space (a space at dst[start] is
	// always written).
	var sp uint8
	if w > start && out[w-1] == ' ' {
		sp = 1
	}
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			v := load8(s, i)
			ws := eq8(v, ' ') | (v+(0x80-0x09)*ones8)&^(v+(0x80-0x0E)*ones8)&highs8
			// Control characters (below 0x20 and not whitespace), DEL
			// and non-ASCII bytes; two whitespace characters in a row;
			// whitespace after a space. Bytes after a non-ASCII one may
			// have wrong bits, but then the chunk is bad anyway.
			bad := ^(v+(0x80-0x20)*ones8)&highs8&^ws | (v+ones8)&highs8 | v&highs8 | ws&(ws<<8) | ws&(uint64(sp)<<7)
			if bad == 0 {
				upper := (v + (0x80-'A')*ones8) &^ (v + (0x80-'Z'-1)*ones8) & highs8
				sp = 0
				if ws != 0 {
					m := (ws >> 7) * 0xFF
					v = v&^m | m&(' '*ones8)
					last := (63-bits.LeadingZeros64(ws))/8 + 1
					cut, wCut = i+last, w+last
					sp = uint8(ws >> 63)
				}
				binary.LittleEndian.PutUint64(out[w:], v+upper>>2)
				w += 8
				i += 8
				continue
			}
		}
		for end := min(i+8, len(s)); i < end; i++ {
			c := s[i]
			f := foldFlags[c]
			if f&stopBits != 0 {
				unleetWords(out[w0:wCut])
				return out[:wCut], i, cut
			}
			ws := f & fSpace
			out[w] = foldByte[c]
			w += 1 - int(ws&sp)
			sp = ws
			if ws != 0 {
				cut, wCut = i+1, w
			}
		}
	}
	unleetWords(out[w0:w])
	return out[:w], -1, 0
}

// Flags of foldFlags.
const (
	fSpace = 1 << iota // whitespace: collapsed to one space
	fLeet              // a digit, @ or $: the word may need unleeting
	fCtrl              // a control character other than whitespace, DEL
	fStop              // not ASCII
)

// foldFlags and foldByte are foldASCIIRun's tables: what a byte is, and
// what it becomes (lower case; whitespace becomes a space).
var foldFlags, foldByte = func() (f, b [256]uint8) {
	for c := range 256 {
		b[c] = byte(c)
		switch {
		case c >= utf8.RuneSelf:
			f[c] = fStop
		case asciiClass[c] == cSpace:
			f[c], b[c] = fSpace, ' '
		case asciiClass[c] == cCtrl:
			f[c] = fCtrl
		case asciiClass[c] == cDigit || asciiClass[c] == cSym:
			f[c] = fLeet
		default:
			b[c] = lowerASCII[c]
		}
	}
	return f, b
}()

// unleetWords undoes leetspeak in every word of the folded ASCII text b
// that has a leet character: it visits only the digits, @ and $, found
// eight bytes at a time.
func unleetWords(b []byte) {
	for i := 0; i < len(b); {
		if i+8 <= len(b) {
			v := binary.LittleEndian.Uint64(b[i:])
			// b is ASCII: no per-byte sum carries into the next byte.
			m := (v+(0x80-'0')*ones8)&^(v+(0x80-'9'-1)*ones8)&highs8 | eq8(v, '@') | eq8(v, '$')
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		if c := b[i]; c >= utf8.RuneSelf || leet[c] == 0 {
			i++
			continue
		}
		a, e := i, i+1
		for a > 0 && b[a-1] < utf8.RuneSelf && asciiClass[b[a-1]] >= cLetter {
			a--
		}
		for e < len(b) && b[e] < utf8.RuneSelf && asciiClass[b[e]] >= cLetter {
			e++
		}
		unleet(b[a:e])
		i = e
	}
}

// unleet undoes leetspeak in the lower-case ASCII word w (letters, digits,
// leet symbols) when a leet character sits between two letters.
func unleet(w []byte) {
	first, last := -1, -1
	for k, c := range w {
		if asciiClass[c] == cLetter {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	interior := false
	for k := first + 1; first >= 0 && k < last; k++ {
		if leet[w[k]] != 0 {
			interior = true
			break
		}
	}
	if !interior {
		return
	}
	for k, c := range w {
		if l := leet[c]; l != 0 {
			w[k] = l
		}
	}
}

// foldASCIIWord lower-cases the ASCII word w (letters, digits, leet
// symbols) and undoes its leetspeak.
func foldASCIIWord(dst []byte, w string) []byte {
	n := len(dst)
	hasLeet := false
	for k := 0; k < len(w); k++ {
		c := w[k]
		if leet[c] != 0 {
			hasLeet = true
		}
		dst = append(dst, lowerASCII[c])
	}
	if hasLeet {
		unleet(dst[n:])
	}
	return dst
}

const (
	ones8  = 0x0101010101010101
	highs8 = 0x8080808080808080
)

// load8 reads the 8 bytes of s at i as a little-endian word.
func load8(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:i+8]), 8))
}

// eq8 returns the high bit of each byte of the ASCII word v that equals c.
func eq8(v uint64, c byte) uint64 {
	t := v ^ uint64(c)*ones8
	return ^((t + 0x7F*ones8) | t) & highs8
}

// clean8 reports whether the word v has only ASCII bytes that are not
// control characters other than whitespace (\t–\r) and not DEL.
func clean8(v uint64) bool {
	return dirty8(v) == 0
}

// dirty8 is non-zero when clean8(v) is false.
func dirty8(v uint64) uint64 {
	low := (v - 0x09*ones8) &^ v                              // a byte < 0x09
	mid := (v + (0x80-0x0E)*ones8) &^ (v + (0x80-0x20)*ones8) // a byte in 0x0E–0x1F
	del := v ^ 0x7F*ones8
	del = (del - ones8) &^ del
	return (v | low | mid | del) & highs8
}

// nextNonASCII returns the offset of the first non-ASCII byte of s at or
// after i, or len(s).
func nextNonASCII(s string, i int) int {
	for i+8 <= len(s) && load8(s, i)&highs8 == 0 {
		i += 8
	}
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	return i
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// dropped reports whether Fold removes r.
func dropped(r rune) bool {
	if r < 0xA0 {
		return r < 0x80 && asciiClass[r] == cCtrl || r >= 0x80 && r < 0xA0 && r != 0x85
	}
	return KindOf(r) != 0
}

// needsStrip reports whether s has characters Fold removes.
func needsStrip(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		if i+8 <= len(s) && clean8(load8(s, i)) {
			i += 7
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiClass[c] == cCtrl {
				return true
			}
			continue
		}
		if MayBeInvisible(s[i:]) {
			r, _ := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || dropped(r) {
				return true
			}
		}
	}
	return false
}

// needsLower returns the offset of the first non-ASCII rune of s at or
// after from that changes when lower-cased, or -1 (ASCII is lower-cased word by word
// later).
func needsLower(s string, from int) int {
	for i := from; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i = nextNonASCII(s, i+1)
			continue
		}
		if (c >= 0xE3 && c <= 0xE9 || c >= 0xEB && c <= 0xED) && i+2 < len(s) {
			i += 3 // U+3000–U+9FFF, U+B000–U+DFFF: CJK, Hangul, no case
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if mayHaveCase(r) && unicode.ToLower(r) != r {
			return i
		}
		i += n
	}
	return -1
}

// mayHaveCase reports whether r can be outside the blocks known to have no
// upper-case letters (Hebrew to Myanmar, CJK, Hangul syllables).
func mayHaveCase(r rune) bool {
	return !(r >= 0x0590 && r < 0x10A0 || r >= 0x3000 && r < 0xA640 || r >= 0xAC00 && r < 0xFB00)
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// foldUnicode appends the folded s[cut:] to dst, which holds the folded
// s[:cut] from start on; s[:clean] is printable ASCII or whitespace, and
// s[cut-1] whitespace.
func foldUnicode(dst []byte, s string, cut, clean, start int) []byte {
	dst, _ = foldText(dst, s[cut:], clean-cut, start, s[:cut], false)
	return dst
}

// foldText appends the folded s to dst, which holds the folded prefix
// from start on; s[:clean] is printable ASCII or whitespace, and prefix,
// when not empty, ends with whitespace. With strict, s is a region of a
// longer text (foldRegions): foldText then reports false, having appended
// an unspecified part, when the result could depend on the rest of the
// text — a word needs the whole text's letter counts (a word made only of
// exact confusables), lower-casing left a character that needs NFKC again
// (Fold's second round of NFKC and lower case runs over the whole text),
// or a character of a word was mapped (leetspeak or a confusable; Fold
// then normalises everything it folded again).
func foldText(dst []byte, s string, clean, start int, prefix string, strict bool) ([]byte, bool) {
	pa, pb := scratchPool.Get().(*[]byte), scratchPool.Get().(*[]byte)
	a, b := (*pa)[:0], (*pb)[:0]
	// t is the text so far; it is s itself, or a view of a or b (which are
	// never written while t points into them).
	t := s
	if needsStrip(s[clean:]) {
		// Remove invisible and control characters; invalid UTF-8 becomes
		// U+FFFD.
		for i := 0; i < len(s); {
			c := s[i]
			if c < utf8.RuneSelf {
				if asciiClass[c] != cCtrl {
					a = append(a, c)
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				a = append(a, "\uFFFD"...)
			case !dropped(r):
				a = append(a, s[i:i+n]...)
			}
			i += n
		}
		t = bytesString(a)
	}
	// NFKC, lower case, and again until stable (lower-casing can undo
	// normalisation in rare cases).
	for range 3 {
		var changed bool
		if b, changed = appendNFKC(b[:0], t); changed {
			a, b = b, a
			t = bytesString(a)
			clean = 0
		}
		first := needsLower(t, clean)
		if first < 0 {
			break
		}
		b = append(b[:0], t[:first]...)
		recheck := false
		for i := first; i < len(t); {
			c := t[i]
			if c < utf8.RuneSelf {
				b = append(b, c)
				i++
				continue
			}
			if (c >= 0xE3 && c <= 0xE9 || c >= 0xEB && c <= 0xED) && i+2 < len(t) {
				b = append(b, t[i:i+3]...)
				i += 3
				continue
			}
			r, n := utf8.DecodeRuneInString(t[i:])
			if !mayHaveCase(r) {
				b = append(b, t[i:i+n]...)
			} else if lr := unicode.ToLower(r); lr == r {
				b = append(b, t[i:i+n]...)
			} else if !dropped(lr) {
				m := len(b)
				b = utf8.AppendRune(b, lr)
				// Normalise again only if the lower-case letter might not
				// be stable under NFKC on its own or with its neighbours.
				if p := norm.NFKC.Properties(b[m:]); !recheck && (p.CCC() != 0 || !p.BoundaryBefore() || norm.NFKC.QuickSpan(b[m:]) != len(b)-m) {
					recheck = true
				}
			} else {
				recheck = true
			}
			i += n
		}
		a, b = b, a
		t = bytesString(a)
		if !recheck {
			break
		}
		if strict {
			// Another round of NFKC and lower case: Fold on the whole
			// text runs it over all of it, so a region alone cannot
			// stand for it.
			*pa, *pb = a[:0], b[:0]
			scratchPool.Put(pa)
			scratchPool.Put(pb)
			return dst, false
		}
	}
	rest := len(dst)
	dst, mapped, ok := foldWords(dst, t, start, prefix, strict)
	if strict && mapped {
		// A mapped character makes Fold check the NFKC of everything
		// folded so far, which a region alone cannot stand for.
		ok = false
	}
	if out := dst[rest:]; ok && mapped && norm.NFKC.QuickSpan(out) != len(out) {
		b = norm.NFKC.Append(b[:0], out...)
		dst = append(dst[:rest], b...)
	}
	*pa, *pb = a[:0], b[:0]
	if cap(a) <= 1<<16 {
		scratchPool.Put(pa)
	}
	if cap(b) <= 1<<16 {
		scratchPool.Put(pb)
	}
	return dst, ok
}

// isWordRune reports whether r belongs to a word: letters, marks, decimal
// digits and the leet symbols.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] >= cLetter
	}
	if uint32(r) < 1<<16 {
		return wordRuneBits[r>>6]&(1<<(r&63)) != 0
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

// plainForeign reports whether r is a CJK unified ideograph or a Hangul
// syllable: letters that have no case, no confusable prototype and are
// never Latin.
func plainForeign(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0xAC00 && r <= 0xD7A3
}

// wordInfo is what foldWords decides about one word.
type wordInfo struct {
	mixed  bool // Latin letters and confusables: map the confusables
	leet   bool // a leet character between two letters: map every leet character
	whole  bool // only exact confusables, no Latin: map if mostly Latin
	latin  int  // letters that are Latin once mapped (counting prototypes' lengths)
	others int  // letters of other scripts that stay
}

// classify looks at the word w (lower case, NFKC).
func classify(w string) wordInfo {
	var wi wordInfo
	hasLatin, loose, letters, exact := false, 0, 0, 0
	looseLen, leets := 0, 0
	seenLetter, pendingLeet := false, false
	for _, r := range w {
		if r < utf8.RuneSelf && leet[r] != 0 {
			leets++
			if seenLetter {
				pendingLeet = true
			}
			continue
		}
		if isLetter(r) {
			if pendingLeet {
				wi.leet = true
			}
			seenLetter = true
		}
		if r < utf8.RuneSelf {
			if asciiClass[r] == cLetter {
				hasLatin = true
				letters++
				wi.latin++
			}
			continue
		}
		if !isLetter(r) {
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
			}
			continue
		}
		wi.others++
	}
	if wi.leet {
		// The leet characters become Latin letters.
		hasLatin = true
		wi.latin += leets
	}
	switch {
	case hasLatin && loose > 0:
		wi.mixed = true
		wi.latin += looseLen
	case !hasLatin && letters >= 2 && exact == letters:
		wi.whole = true
	default:
		wi.others += loose
	}
	return wi
}

// mostlyLatin reports whether prefix+s (prefix ending with whitespace)
// has at least four Latin letters (once confusables in mixed words are
// mapped) for every letter of another script, not counting words made only
// of exact confusables.
func mostlyLatin(prefix, s string) bool {
	l1, o1 := letterCounts(prefix)
	l2, o2 := letterCounts(s)
	latin, others := l1+l2, o1+o2
	return latin > 0 && others*4 <= latin
}

// letterCounts counts the Latin letters and the letters of other scripts
// for mostlyLatin.
func letterCounts(s string) (latin, others int) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j, _ := wordEnd(s, i)
		wi := classify(s[i:j])
		if !wi.whole {
			latin += wi.latin
			others += wi.others
		}
		i = j
	}
	return latin, others
}

// foldWords maps confusables and leetspeak word by word, lower-cases ASCII
// and collapses whitespace, appending the result to dst. It reports whether
// it mapped a character of a word with non-ASCII characters, which can
// leave the result not in NFKC (a mapped letter followed by a mark).
//
// dst[start:] is the output so far, the folded form of prefix, which ends
// with whitespace.
//
// With strict, it stops and reports ok false at the first word made only
// of exact confusables (whose mapping depends on the whole text).
func foldWords(dst []byte, s string, start int, prefix string, strict bool) (folded []byte, mapped, ok bool) {
	mapped = false
	mostly := -1 // not computed yet
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			// A run of ASCII up to the word that touches the next
			// non-ASCII character.
			if p := nextNonASCII(s, i+1); p-i >= 8 {
				q := p
				if q < len(s) {
					for q > i && asciiClass[s[q-1]] >= cLetter {
						q--
					}
				}
				if q > i {
					dst, _, _ = foldASCIIRun(dst, s[i:q], start, false)
					i = q
					continue
				}
			}
			switch asciiClass[c] {
			case cSpace:
				dst = appendSpace(dst, start)
				i++
				continue
			case cOther, cCtrl:
				dst = append(dst, c)
				i++
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				if unicode.IsSpace(r) {
					dst = appendSpace(dst, start)
				} else {
					dst = append(dst, s[i:i+n]...)
				}
				i += n
				continue
			}
		}
		j, kind := wordEnd(s, i)
		switch kind {
		case wASCII:
			dst = foldASCIIWord(dst, s[i:j])
			i = j
			continue
		case wForeign:
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		wi := classify(s[i:j])
		mapConf := wi.mixed
		if wi.whole {
			if strict {
				return dst, mapped, false
			}
			if mostly < 0 {
				mostly = 0
				if mostlyLatin(prefix, s) {
					mostly = 1
				}
			}
			mapConf = mostly == 1
		}
		var m bool
		dst, m = foldWord(dst, s[i:j], wi, mapConf)
		mapped = mapped || m
		i = j
	}
	return dst, mapped, true
}

// Word kinds for wordEnd.
const (
	wASCII   = iota // ASCII only
	wForeign        // CJK ideographs and Hangul syllables only: kept as is
	wOther
)

// wordEnd returns the end of the word starting at i and its kind.
func wordEnd(s string, i int) (int, int) {
	ascii, foreign := true, true
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiClass[c] < cLetter {
				break
			}
			foreign = false
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			break
		}
		ascii = false
		if foreign && !plainForeign(r) {
			foreign = false
		}
		i += n
	}
	switch {
	case ascii:
		return i, wASCII
	case foreign:
		return i, wForeign
	}
	return i, wOther
}

// foldWord appends the folded form of the word w and reports whether it
// mapped a leet character or a confusable.
func foldWord(dst []byte, w string, wi wordInfo, mapConf bool) ([]byte, bool) {
	interior := wi.leet
	mapped := false
	for i, r := range w {
		if r < utf8.RuneSelf {
			switch {
			case interior && leet[r] != 0:
				dst = append(dst, leet[r])
				mapped = true
			case r >= 'A' && r <= 'Z':
				dst = append(dst, byte(r)+'a'-'A')
				// A lower-case letter can compose under NFKC with a mark
				// after it that its capital could not ("Y\u030a" stays,
				// "y\u030a" becomes "\u1e99"): mapped, so Fold normalises
				// again.
				if i+1 < len(w) && w[i+1] >= utf8.RuneSelf && !norm.NFKC.PropertiesString(w[i+1:]).BoundaryBefore() {
					mapped = true
				}
			default:
				dst = append(dst, byte(r))
			}
			continue
		}
		if isLetter(r) {
			if p, _, ok := lookupConf(r); ok && (mapConf || IsLatin(r)) {
				dst = append(dst, p...)
				mapped = true
				continue
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, mapped
}

// Joined returns folded (a Fold result) with letters spelled out one by
// one rejoined: a run of at least four single letters, each separated from
// the next by one to three separators (space . - _ * / | , + ~ : \),
// becomes the word they spell ("i g n o r e" and "i.g.n.o.r.e" become
// "ignore"). Everything else is copied. It appends to dst.
func Joined(dst []byte, folded []byte) []byte {
	s := bytesString(folded)
	done := 0 // s[:done] is in dst
	prevWord := false
	for i := 0; i < len(s); {
		c := s[i]
		n := 1
		if c < utf8.RuneSelf {
			cl := asciiClass[c]
			if cl != cLetter || prevWord {
				prevWord = cl >= cLetter
				i++
				continue
			}
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			if prevWord || !isLetter(r) {
				prevWord = isWordRune(r)
				i += n
				continue
			}
		}
		prevWord = true
		if i+n < len(s) {
			if q, _ := utf8.DecodeRuneInString(s[i+n:]); isWordRune(q) {
				i += n
				continue
			}
		}
		// A single letter: count the chain of single letters it starts.
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
			i += n
			continue
		}
		dst = append(dst, s[done:i]...)
		for k := i; k < end; {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !isSeparator(s[k]) {
				dst = utf8.AppendRune(dst, r)
			}
			k += n
		}
		done, i = end, end
	}
	return append(dst, s[done:]...)
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
	if !isLetter(r) {
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
