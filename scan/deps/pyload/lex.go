package pyload

// token is one Python token the call finder needs: names, dots,
// brackets, commas, '=', strings and other operators. Comments and
// white space are dropped; newlines outside brackets end a logical line.
type token struct {
	kind tokKind
	text string // the source text (strings keep their quotes and prefix)
	off  int    // byte offset in the source
	line int    // 1-based line
}

type tokKind uint8

const (
	tName tokKind = iota
	tString
	tNumber
	tOp      // one of . , = ( ) [ ] { } : and other operator characters
	tNewline // end of a logical line
)

// maxTokens bounds the tokens kept for one source file.
const maxTokens = 4 << 20

// lex splits Python source into tokens. It is tolerant: an unterminated
// string runs to the end of the file, unknown bytes are single-byte
// operators, and nothing fails.
func lex(src string) []token {
	var (
		toks  []token
		line  = 1
		depth = 0 // bracket nesting: newlines inside brackets do not end a line
	)
	emit := func(k tokKind, start, end, l int) {
		if len(toks) < maxTokens {
			toks = append(toks, token{kind: k, text: src[start:end], off: start, line: l})
		}
	}
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			if depth == 0 {
				emit(tNewline, i, i+1, line)
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
				emit(tString, i, end, line)
				line += nl
				i = end
				continue
			}
			emit(tName, i, j, line)
			i = j
		case c == '"' || c == '\'':
			end, nl := scanString(src, i)
			emit(tString, i, end, line)
			line += nl
			i = end
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isNameByte(src[j]) || src[j] == '.') {
				j++
			}
			emit(tNumber, i, j, line)
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
			emit(tOp, i, i+1, line)
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
