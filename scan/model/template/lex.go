package template

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a token inside a Jinja tag.
type tokKind uint8

const (
	tName tokKind = iota + 1
	tString
	tNumber
	tOp
)

// token is one token of a tag.
type token struct {
	kind tokKind
	text string // source text (for strings, including quotes)
	val  string // decoded value of a string literal
	pos  int    // byte offset in the template
	// escaped is true for a string literal that spells a printable ASCII
	// character with an escape sequence (\x5f, \u005f, \N{LOW LINE}, \137):
	// chat templates have no reason to, obfuscated payloads do.
	escaped bool
}

// tag is one {{ expression }} or {% statement %} of a template.
type tag struct {
	stmt       bool // {% %} rather than {{ }}
	start, end int  // byte span in the template, delimiters included
	toks       []token
}

// lex splits a template into its tags, skipping text, comments and raw
// blocks. Like Jinja's lexer it tokenises inside a tag, so a delimiter
// inside a string literal or inside brackets does not end the tag. An
// unterminated tag runs to the end of the template.
func lex(s string) []tag {
	var tags []tag
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '{')
		if j < 0 {
			break
		}
		i += j
		if i+1 >= len(s) {
			break
		}
		switch s[i+1] {
		case '#':
			end := strings.Index(s[i+2:], "#}")
			if end < 0 {
				return tags
			}
			i += 2 + end + 2
		case '{', '%':
			t := lexTag(s, i)
			tags = append(tags, t)
			i = t.end
			if t.stmt && len(t.toks) == 1 && t.toks[0].kind == tName && t.toks[0].text == "raw" {
				i = skipRaw(s, i)
			}
		default:
			i++
		}
	}
	return tags
}

// skipRaw returns the offset after the {% endraw %} that closes a raw
// block starting at i, or len(s).
func skipRaw(s string, i int) int {
	for {
		j := strings.Index(s[i:], "{%")
		if j < 0 {
			return len(s)
		}
		k := i + j + 2
		if k < len(s) && (s[k] == '-' || s[k] == '+') {
			k++
		}
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		if strings.HasPrefix(s[k:], "endraw") {
			t := lexTag(s, i+j)
			return t.end
		}
		i += j + 2
	}
}

// lexTag tokenises the tag starting at s[start] ("{{" or "{%").
func lexTag(s string, start int) tag {
	t := tag{stmt: s[start+1] == '%', start: start}
	closer := "}}"
	if t.stmt {
		closer = "%}"
	}
	i := start + 2
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	depth := 0
	for i < len(s) {
		c := s[i]
		if isSpace(c) {
			i++
			continue
		}
		if depth == 0 {
			if strings.HasPrefix(s[i:], closer) {
				t.end = i + 2
				return t
			}
			if (c == '-' || c == '+') && strings.HasPrefix(s[i+1:], closer) {
				t.end = i + 3
				return t
			}
		}
		switch {
		case c == '\'' || c == '"':
			tok, n := lexString(s, i)
			t.toks = append(t.toks, tok)
			i += n
		case c >= '0' && c <= '9':
			n := lexNumber(s[i:])
			t.toks = append(t.toks, token{kind: tNumber, text: s[i : i+n], pos: i})
			i += n
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf:
			n := lexName(s[i:])
			if n == 0 { // a non-letter rune
				_, n = utf8.DecodeRuneInString(s[i:])
				t.toks = append(t.toks, token{kind: tOp, text: s[i : i+n], pos: i})
			} else {
				t.toks = append(t.toks, token{kind: tName, text: s[i : i+n], pos: i})
			}
			i += n
		default:
			n := 1
			if i+1 < len(s) {
				switch s[i : i+2] {
				case "//", "**", "==", "!=", ">=", "<=":
					n = 2
				}
			}
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				if depth > 0 {
					depth--
				}
			}
			t.toks = append(t.toks, token{kind: tOp, text: s[i : i+n], pos: i})
			i += n
		}
	}
	t.end = len(s)
	return t
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func lexName(s string) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r) {
			i += n
			continue
		}
		break
	}
	return i
}

func lexNumber(s string) int {
	i := 0
	digits := func() {
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
	}
	digits()
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		digits()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			i = j
			digits()
		}
	}
	return i
}

// lexString reads a string literal at s[i] and decodes it as Jinja does
// (Python's unicode-escape), returning the token and its length.
func lexString(s string, i int) (token, int) {
	q := s[i]
	var b strings.Builder
	tok := token{kind: tString, pos: i}
	j := i + 1
	for j < len(s) && s[j] != q {
		if s[j] != '\\' || j+1 >= len(s) {
			b.WriteByte(s[j])
			j++
			continue
		}
		r, n, spelled := unescape(s[j:])
		if r >= 0 {
			b.WriteRune(r)
		}
		if spelled && r >= 0x20 && r < 0x7f {
			tok.escaped = true
		}
		j += n
	}
	if j < len(s) {
		j++ // closing quote
	}
	tok.text = s[i:j]
	tok.val = b.String()
	return tok, j - i
}

// unescape decodes the escape sequence at the start of s (s[0] == '\\').
// It returns the rune (-1 for a line continuation), the bytes consumed, and
// whether the sequence spells a character by number or name.
func unescape(s string) (r rune, n int, spelled bool) {
	c := s[1]
	switch c {
	case '\n':
		return -1, 2, false
	case '\\', '\'', '"':
		return rune(c), 2, false
	case 'a':
		return '\a', 2, false
	case 'b':
		return '\b', 2, false
	case 'f':
		return '\f', 2, false
	case 'n':
		return '\n', 2, false
	case 'r':
		return '\r', 2, false
	case 't':
		return '\t', 2, false
	case 'v':
		return '\v', 2, false
	case 'x', 'u', 'U':
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if len(s) >= 2+width {
			if v, err := strconv.ParseUint(s[2:2+width], 16, 32); err == nil && v <= unicode.MaxRune {
				return rune(v), 2 + width, true
			}
		}
		return '\\', 1, false
	case 'N':
		if len(s) > 3 && s[2] == '{' {
			if end := strings.IndexByte(s[3:], '}'); end >= 0 && end < 100 {
				name := strings.ToUpper(s[3 : 3+end])
				if r, ok := charNames[name]; ok {
					return r, 3 + end + 1, true
				}
				// An unknown name: keep it visible and count it as spelled.
				return '?', 3 + end + 1, true
			}
		}
		return '\\', 1, false
	}
	if c >= '0' && c <= '7' {
		k := 1
		for k < 3 && 1+k < len(s) && s[1+k] >= '0' && s[1+k] <= '7' {
			k++
		}
		v, _ := strconv.ParseUint(s[1:1+k], 8, 32)
		return rune(v), 1 + k, true
	}
	return '\\', 1, false
}

// charNames maps the Unicode names an obfuscated payload needs (\N{…}) to
// their characters.
var charNames = map[string]rune{
	"LOW LINE": '_', "FULL STOP": '.', "LEFT SQUARE BRACKET": '[', "RIGHT SQUARE BRACKET": ']',
	"LEFT PARENTHESIS": '(', "RIGHT PARENTHESIS": ')', "APOSTROPHE": '\'', "QUOTATION MARK": '"',
	"SPACE": ' ', "SOLIDUS": '/', "REVERSE SOLIDUS": '\\', "VERTICAL LINE": '|',
	"LATIN SMALL LETTER A": 'a', "LATIN SMALL LETTER C": 'c', "LATIN SMALL LETTER L": 'l',
	"LATIN SMALL LETTER S": 's', "LATIN SMALL LETTER O": 'o', "LATIN SMALL LETTER G": 'g',
	"LATIN SMALL LETTER B": 'b', "LATIN SMALL LETTER I": 'i', "LATIN SMALL LETTER M": 'm',
	"LATIN SMALL LETTER P": 'p', "LATIN SMALL LETTER E": 'e', "LATIN SMALL LETTER N": 'n',
	"LATIN SMALL LETTER R": 'r', "LATIN SMALL LETTER T": 't', "LATIN SMALL LETTER U": 'u',
}
