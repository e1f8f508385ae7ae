package pylex

// Token is one Python token: a name, a string, a number, an operator
// character or the end of a logical line. Comments and white space are
// dropped; newlines inside brackets do not end a logical line.
type Token struct {
	Kind Kind
	Text string // the source text (strings keep their quotes and prefix)
	Off  int    // byte offset in the source
	Line int    // 1-based line
}

// Kind is the kind of a Token.
type Kind uint8

// The kinds of tokens.
const (
	Name    Kind = iota // an identifier or keyword
	String              // a string literal with its prefix and quotes
	Number              // a numeric literal
	Op                  // one operator character: . , = ( ) [ ] { } : and the others
	Newline             // the end of a logical line
)

// MaxTokens bounds the tokens Lex keeps for one source; the rest of a
// longer source is dropped.
const MaxTokens = 4 << 20

// Lex splits Python source into tokens, at most MaxTokens of them. It is
// tolerant: an unterminated string runs to the end of its line (or of the
// source for a triple-quoted one), unknown bytes are single-byte
// operators, and nothing fails. Operators are single characters: "==" is
// two Op tokens.
func Lex(src string) []Token {
	// About one token in five bytes of typical code: fewer regrowths.
	toks := make([]Token, 0, min(len(src)/5+16, MaxTokens))
	var (
		line  = 1
		depth = 0 // bracket nesting: newlines inside brackets do not end a line
	)
	emit := func(k Kind, start, end, l int) {
		if len(toks) < MaxTokens {
			toks = append(toks, Token{Kind: k, Text: src[start:end], Off: start, Line: l})
		}
	}
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			if depth == 0 {
				emit(Newline, i, i+1, line)
			}
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			line++
			i += 2
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case isNameStart(c):
			j := i
			for j < len(src) && isNameByte(src[j]) {
				j++
			}
			// A string prefix (r, b, f, u, rb, br, fr, rf…) right before a quote.
			if j < len(src) && (src[j] == '"' || src[j] == '\'') && j-i <= 2 && isStringPrefix(src[i:j]) {
				end, nl := scanString(src, j)
				emit(String, i, end, line)
				line += nl
				i = end
				continue
			}
			emit(Name, i, j, line)
			i = j
		case c == '"' || c == '\'':
			end, nl := scanString(src, i)
			emit(String, i, end, line)
			line += nl
			i = end
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isNameByte(src[j]) || src[j] == '.') {
				j++
			}
			emit(Number, i, j, line)
			i = j
		default:
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				if depth > 0 {
					depth--
				}
			}
			emit(Op, i, i+1, line)
			i++
		}
	}
	return toks
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isNameByte(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

func isStringPrefix(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case 'r', 'R', 'b', 'B', 'f', 'F', 'u', 'U':
		default:
			return false
		}
	}
	return true
}

// scanString returns the end of the string literal whose opening quote is
// at src[q], and the number of newlines inside it.
func scanString(src string, q int) (end, newlines int) {
	quote := src[q]
	triple := q+2 < len(src) && src[q+1] == quote && src[q+2] == quote
	i := q + 1
	if triple {
		i = q + 3
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\\':
			if i+1 < len(src) && src[i+1] == '\n' {
				newlines++
			}
			i += 2
			continue
		case c == '\n':
			newlines++
			if !triple {
				return i, newlines - 1 // unterminated: the line ends it
			}
		case c == quote:
			if !triple {
				return i + 1, newlines
			}
			if i+2 < len(src) && src[i+1] == quote && src[i+2] == quote {
				return i + 3, newlines
			}
		}
		i++
	}
	return len(src), newlines
}
