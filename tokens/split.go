package tokens

import "unicode/utf8"

// The pre-tokenizers below reproduce the split patterns of the two encodings
// as the reference tokenizer (github.com/tiktoken-go/tokenizer, which runs
// them with github.com/dlclark/regexp2) applies them:
//
// o200k_base:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// cl100k_base:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//	| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// Each function returns the end of the match that starts at s[p] (p <
// len(s)), trying the alternatives in order and, inside an alternative,
// backtracking exactly as a backtracking engine would. Every character
// starts a match, so matches tile the input.
//
// Two deliberate differences, both bugs of the matcher that regexp2's code
// generator (regexp2cg) wrote for the reference, which regexp2's own
// interpreter doesn't share:
//
//   - It leaves U+007F (DEL) out of [^\r\n\p{L}\p{N}] and [^\s\p{L}\p{N}]
//     (its ASCII bitmaps stop at 126), so the reference silently drops DEL
//     characters: a run of DELs counts zero tokens, which would let a prompt
//     slip under a token limit. Here DEL is in both classes.
//   - When the greedy \s* of \s*[\r\n]+ backtracks, it goes back to the
//     first CR or LF of the white space instead of the last, so the
//     reference splits " \n  \n" into " \n" and "  \n" and counts a token
//     too many. Here the match ends after the last line break.
//
// In both cases this package counts what the pattern means, which is what
// OpenAI's tiktoken counts; the tests check these inputs against the
// interpreted pattern and a naive byte-pair merge instead of the reference.

// splitO200k returns the end of the o200k_base piece that starts at s[p].
func splitO200k(s string, p int) int {
	// Fast path: an ASCII word, optionally after one ASCII character that is
	// not a letter, digit, CR or LF, and followed by ASCII or the end. In
	// ASCII, the upper-case class is A-Z and the lower-case one a-z, and
	// both alternatives give [A-Z]*[a-z]*.
	i := p
	if byteClass[s[p]]&(fL|fN|fNL|fMultibyte) == 0 {
		i++
	}
	j := i
	for j < len(s) && byteClass[s[j]]&(fU|fMultibyte) == fU {
		j++
	}
	for j < len(s) && byteClass[s[j]]&(fW|fMultibyte) == fW {
		j++
	}
	if j > i && (j == len(s) || s[j] < utf8.RuneSelf) {
		return j + contraction(s, j)
	}
	return splitO200kSlow(s, p)
}

func splitO200kSlow(s string, p int) int {
	f0, n0 := at(s, p)

	// Alternatives 1 and 2: a word, optionally preceded by one character
	// that is not a letter, number, CR or LF, and an optional contraction.
	if f0&(fU|fW) != 0 || isP1(f0) {
		if isP1(f0) {
			if e := uStarWPlus(s, p+n0); e > 0 {
				return e + contraction(s, e)
			}
		}
		if e := uStarWPlus(s, p); e > 0 {
			return e + contraction(s, e)
		}
		if isP1(f0) {
			if e := uPlusWStar(s, p+n0); e > 0 {
				return e + contraction(s, e)
			}
		}
		if e := uPlusWStar(s, p); e > 0 {
			return e + contraction(s, e)
		}
	}
	if e := numberOrSymbols(s, p, f0, n0, true); e > 0 {
		return e
	}
	return spaces(s, p, n0)
}

// splitCl100k returns the end of the cl100k_base piece that starts at s[p].
func splitCl100k(s string, p int) int {
	// Fast path: an ASCII word, optionally after one ASCII character that is
	// not a letter, digit, CR, LF or apostrophe (which may start a
	// contraction), and followed by ASCII or the end.
	i := p
	if c := s[p]; byteClass[c]&(fL|fN|fNL|fMultibyte) == 0 && c != '\'' {
		i++
	}
	j := i
	for j < len(s) && byteClass[s[j]]&(fL|fMultibyte) == fL {
		j++
	}
	if j > i && (j == len(s) || s[j] < utf8.RuneSelf) {
		return j
	}
	return splitCl100kSlow(s, p)
}

func splitCl100kSlow(s string, p int) int {
	if n := contraction(s, p); n > 0 {
		return p + n
	}
	f0, n0 := at(s, p)

	// [^\r\n\p{L}\p{N}]?\p{L}+
	if isP1(f0) {
		if f, n := at(s, p+n0); f&fL != 0 {
			return letters(s, p+n0+n)
		}
	}
	if f0&fL != 0 {
		return letters(s, p+n0)
	}
	if e := numberOrSymbols(s, p, f0, n0, false); e > 0 {
		return e
	}
	return spaces(s, p, n0)
}

// uStarWPlus matches [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+
// at s[q:] and returns its end, or 0 if it doesn't match.
func uStarWPlus(s string, q int) int {
	// The greedy U* takes the whole run; if no W follows, it gives back
	// characters until the last one given back is also in W.
	i, lastW := q, 0
	for {
		f, n := at(s, i)
		if f&fU == 0 {
			if f&fW == 0 {
				return lastW
			}
			break
		}
		i += n
		if f&fW != 0 {
			lastW = i
		}
	}
	for {
		f, n := at(s, i)
		if f&fW == 0 {
			return i
		}
		i += n
	}
}

// uPlusWStar matches [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
// at s[q:] and returns its end, or 0 if it doesn't match.
func uPlusWStar(s string, q int) int {
	i := q
	for {
		f, n := at(s, i)
		if f&fU == 0 {
			break
		}
		i += n
	}
	if i == q {
		return 0
	}
	for {
		f, n := at(s, i)
		if f&fW == 0 {
			return i
		}
		i += n
	}
}

// letters returns the end of the run of letters that starts at s[i].
func letters(s string, i int) int {
	for {
		f, n := at(s, i)
		if f&fL == 0 {
			return i
		}
		i += n
	}
}

// contraction returns the length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at s[i:],
// or 0. Case folding makes 's match 'ſ (U+017F) too.
func contraction(s string, i int) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return 0
	}
	switch s[i+1] {
	case 's', 'S', 't', 'T', 'm', 'M', 'd', 'D':
		return 2
	case 'r', 'R', 'v', 'V':
		if i+2 < len(s) && s[i+2]|0x20 == 'e' {
			return 3
		}
	case 'l', 'L':
		if i+2 < len(s) && s[i+2]|0x20 == 'l' {
			return 3
		}
	case 0xc5: // ſ is C5 BF
		if i+2 < len(s) && s[i+2] == 0xbf {
			return 3
		}
	}
	return 0
}

// numberOrSymbols matches \p{N}{1,3} or ' ?[^\s\p{L}\p{N}]+[\r\n]*' (with '/'
// in the last class for o200k) at s[p:], where the first character has flags
// f0 and width n0. It returns the end of the match, or 0.
func numberOrSymbols(s string, p int, f0 uint8, n0 int, o200k bool) int {
	if f0&fN != 0 {
		i := p + n0
		for range 2 {
			f, n := at(s, i)
			if f&fN == 0 {
				break
			}
			i += n
		}
		return i
	}
	i := p
	f, n := f0, n0
	if s[p] == ' ' {
		// The optional space is possessive: once taken, it isn't given back.
		i++
		f, n = at(s, i)
	}
	if !isP2(f) {
		return 0
	}
	for i += n; ; i += n {
		if f, n = at(s, i); !isP2(f) {
			break
		}
	}
	for i < len(s) && (s[i] == '\r' || s[i] == '\n' || o200k && s[i] == '/') {
		i++
	}
	return i
}

// spaces matches \s*[\r\n]+|\s+(?!\S)|\s+ at s[p:], where the first
// character has width n0. It returns p+n0 if none of them matches, which
// can't happen for the characters the earlier alternatives leave.
func spaces(s string, p, n0 int) int {
	i, last, afterNL := p, p, 0
	for {
		f, n := at(s, i)
		if f&fS == 0 {
			break
		}
		last = i
		i += n
		if f&fNL != 0 {
			afterNL = i
		}
	}
	switch {
	case afterNL > 0: // \s*[\r\n]+: back to the last CR or LF
		return afterNL
	case i == p:
		return p + n0
	case i == len(s) || last == p: // \s+(?!\S) at the end, or \s+
		return i
	default: // \s+(?!\S): leave the last space for the next piece
		return last
	}
}
