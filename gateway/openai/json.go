package openai

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small pull scanner for JSON. The gateway reads request
// and response bodies with it instead of encoding/json for two reasons:
//
//   - Security: encoding/json matches object keys case-insensitively, so
//     {"content":"A","CONTENT":"B"} would show the detectors "B" while an
//     upstream written in Python or JavaScript reads "A". The scanner
//     matches keys exactly and refuses a duplicated key among those the
//     gateway reads, so the gateway and the upstream always see the same
//     text.
//   - Speed: it decodes only the fields the gateway needs, skipping the
//     rest without allocating, and it reports byte offsets so that a
//     redaction can be spliced into the original document.

// scanner reads one JSON document.
type scanner struct {
	b     []byte
	i     int
	depth int
	// path is the current location for error messages.
	path []PathElem
}

// syntaxError describes malformed JSON at an offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.msg, e.off)
}

func (s *scanner) fail(msg string) error { return &syntaxError{off: s.i, msg: msg} }

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// kind names the JSON type that starts with c.
func kindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	}
	return "a number"
}

// skip skips one value and returns its byte range.
func (s *scanner) skip() (start, end int, err error) {
	c := s.peek()
	start = s.i
	switch {
	case c == '{':
		err = s.object(func(string) error {
			_, _, err := s.skip()
			return err
		})
	case c == '[':
		err = s.array(func(int) error {
			_, _, err := s.skip()
			return err
		})
	case c == '"':
		err = s.skipString()
	case c == 't':
		err = s.literal("true")
	case c == 'f':
		err = s.literal("false")
	case c == 'n':
		err = s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err = s.number()
	case c == 0:
		err = s.fail("unexpected end of JSON")
	default:
		err = s.fail(fmt.Sprintf("invalid character %q looking for a value", c))
	}
	return start, s.i, err
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// number scans a number and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return nil, s.fail("invalid number")
	}
	if s.b[s.i] == '0' {
		s.i++
	} else if s.b[s.i] >= '1' && s.b[s.i] <= '9' {
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	} else {
		return nil, s.fail("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		d := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == d {
			return nil, s.fail("invalid number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		d := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == d {
			return nil, s.fail("invalid number")
		}
	}
	return s.b[start:s.i], nil
}

func (s *scanner) skipString() error {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return s.fail("expected a string")
	}
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return nil
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return s.fail("unterminated string")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex4(s.b[s.i+2:s.i+6]) {
					return s.fail("invalid \\u escape")
				}
				s.i += 6
			default:
				return s.fail("invalid escape")
			}
		case c < 0x20:
			return s.fail("control character in string")
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return s.fail("invalid UTF-8 in string")
			}
			s.i += size
		}
	}
	return s.fail("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// str scans a string and returns it decoded. A string without escapes is
// returned without copying the bytes more than once.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.fail("expected a string")
	}
	start := s.i
	if err := s.skipString(); err != nil {
		return "", err
	}
	raw := s.b[start+1 : s.i-1]
	for _, c := range raw {
		if c == '\\' {
			return unescape(raw), nil
		}
	}
	return string(raw), nil
}

// unescape decodes a validated JSON string body. Lone surrogates become
// U+FFFD, as encoding/json does.
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(raw[i+2:]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 := rune(hex4(raw[i+2:]))
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		i += 2
	}
	return string(out)
}

func hex4(b []byte) uint16 {
	var v uint16
	for _, c := range b[:4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= uint16(c - '0')
		case c >= 'a' && c <= 'f':
			v |= uint16(c - 'a' + 10)
		default:
			v |= uint16(c - 'A' + 10)
		}
	}
	return v
}

// object scans an object, calling fn with each key while the scanner sits
// at the key's value; fn must consume the value.
func (s *scanner) object(fn func(key string) error) error {
	if s.peek() != '{' {
		return s.fail("expected an object")
	}
	s.depth++
	if s.depth > MaxDepth {
		return s.fail(fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth))
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return s.fail("expected ':' after object key")
		}
		s.i++
		s.ws()
		if err := fn(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or '}' in object")
		}
	}
}

// array scans an array, calling fn with each index while the scanner sits
// at the element; fn must consume it.
func (s *scanner) array(fn func(i int) error) error {
	if s.peek() != '[' {
		return s.fail("expected an array")
	}
	s.depth++
	if s.depth > MaxDepth {
		return s.fail(fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth))
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for n := 0; ; n++ {
		if err := fn(n); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or ']' in array")
		}
	}
}

// end checks that only whitespace follows the document.
func (s *scanner) end() error {
	if s.ws(); s.i < len(s.b) {
		return s.fail("unexpected data after the JSON value")
	}
	return nil
}

// typeError says that the value at the current path has the wrong type.
func (s *scanner) typeError(want string) error {
	return &Error{Param: field(s.path), Message: fmt.Sprintf("expected %s, got %s", want, kindOf(s.peek()))}
}

// optString reads a string or null.
func (s *scanner) optString() (string, bool, error) {
	switch s.peek() {
	case 'n':
		return "", false, s.literal("null")
	case '"':
		v, err := s.str()
		return v, true, err
	}
	return "", false, s.typeError("a string")
}

// boolean reads a boolean or null (false).
func (s *scanner) boolean() (bool, error) {
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	}
	return false, s.typeError("a boolean")
}

// integer reads an integer or null (0, false).
func (s *scanner) integer() (int, bool, error) {
	switch c := s.peek(); {
	case c == 'n':
		return 0, false, s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		num, err := s.number()
		if err != nil {
			return 0, false, err
		}
		v, err := strconv.Atoi(string(num))
		if err != nil {
			return 0, false, &Error{Param: field(s.path), Message: fmt.Sprintf("expected an integer, got %s", num)}
		}
		return v, true, nil
	}
	return 0, false, s.typeError("an integer")
}

// seen tracks the keys of one object that the gateway reads, to refuse
// duplicates.
type seen uint32

func (s *scanner) once(set *seen, bit uint, key string) error {
	if *set&(1<<bit) != 0 {
		return &Error{Param: field(s.path), Message: fmt.Sprintf("duplicate key %q", key)}
	}
	*set |= 1 << bit
	return nil
}

// push and pop maintain the error path.
func (s *scanner) push(e PathElem) { s.path = append(s.path, e) }
func (s *scanner) pop()            { s.path = s.path[:len(s.path)-1] }

// Locate returns the byte range of the value at path in doc. When a key
// appears more than once the last occurrence wins, as in most JSON parsers.
func Locate(doc []byte, path []PathElem) (start, end int, ok bool) {
	s := &scanner{b: doc}
	return locate(s, path)
}

func locate(s *scanner, path []PathElem) (int, int, bool) {
	if len(path) == 0 {
		start, end, err := s.skip()
		return start, end, err == nil
	}
	e := path[0]
	found := false
	var fs, fe int
	// visit consumes the value at the scanner; the last occurrence of a
	// duplicated key wins.
	visit := func() error {
		a, b, ok := locate(s, path[1:])
		if !ok {
			return s.fail("path not found")
		}
		found, fs, fe = true, a, b
		return nil
	}
	var err error
	if e.Key != "" {
		err = s.object(func(k string) error {
			if k == e.Key {
				return visit()
			}
			_, _, err := s.skip()
			return err
		})
	} else {
		err = s.array(func(i int) error {
			if i == e.Index {
				return visit()
			}
			_, _, err := s.skip()
			return err
		})
	}
	if err != nil {
		return 0, 0, false
	}
	return fs, fe, found
}

// AppendString appends s as a JSON string literal, escaping what JSON
// requires (and <, >, & and the line separators, as encoding/json does, so
// the output is safe to embed in HTML).
func AppendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Splice returns doc with the value at path replaced by the JSON string v.
func Splice(doc []byte, path []PathElem, v string) ([]byte, error) {
	start, end, ok := Locate(doc, path)
	if !ok {
		return nil, fmt.Errorf("splice: %s not found", field(path))
	}
	out := make([]byte, 0, len(doc)+len(v)+8)
	out = append(out, doc[:start]...)
	out = AppendString(out, v)
	return append(out, doc[end:]...), nil
}

// DecodeString decodes one JSON string literal.
func DecodeString(b []byte) (string, error) {
	s := &scanner{b: b}
	v, err := s.str()
	if err == nil {
		err = s.end()
	}
	return v, err
}
