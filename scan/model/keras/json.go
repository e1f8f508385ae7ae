package keras

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// value is one JSON value with the byte offset it starts at.
type value struct {
	off  int64
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, bool or null
	str  string
	keys []string // object keys, parallel to vals
	vals []*value // object values or array elements
}

// get returns the last value of key in an object (Python's json keeps the
// last of duplicate keys), or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != 'o' {
		return nil
	}
	for i := len(v.keys) - 1; i >= 0; i-- {
		if v.keys[i] == key {
			return v.vals[i]
		}
	}
	return nil
}

// getStr returns the string value of key, or "".
func (v *value) getStr(key string) string {
	if s := v.get(key); s != nil && s.kind == 's' {
		return s.str
	}
	return ""
}

var (
	errTooDeep = errors.New("nesting deeper than the limit")
	errTooMany = errors.New("more JSON values than the limit")
)

// parser is a JSON parser for hostile input that accepts what Python's json
// module accepts (including NaN, Infinity and -Infinity, and duplicate
// keys), decodes string escapes (so "class\u005fname" is "class_name"),
// bounds depth and value count, and keeps each value's offset. On an error
// it returns the tree built so far.
type parser struct {
	b       []byte
	pos     int
	nvalues int
}

// parseJSON parses b, which must hold exactly one value.
func parseJSON(b []byte) (*value, int, error) {
	p := &parser{b: b}
	v, err := p.value(0)
	if err == nil {
		p.space()
		if p.pos < len(p.b) {
			err = p.errorf("data after the top-level value")
		}
	}
	return v, p.pos, err
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%s at byte %d", fmt.Sprintf(format, args...), p.pos)
}

func (p *parser) space() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*value, error) {
	p.space()
	if p.pos >= len(p.b) {
		return nil, p.errorf("unexpected end of input")
	}
	p.nvalues++
	if p.nvalues > maxValues {
		return nil, errTooMany
	}
	v := &value{off: int64(p.pos)}
	switch c := p.b[p.pos]; c {
	case '{', '[':
		if depth >= MaxDepth {
			return nil, errTooDeep
		}
		p.pos++
		if c == '{' {
			v.kind = 'o'
			return v, p.object(v, depth)
		}
		v.kind = 'a'
		return v, p.array(v, depth)
	case '"':
		s, err := p.string()
		v.kind, v.str = 's', s
		return v, err
	default:
		v.kind = 'n'
		return v, p.scalar()
	}
}

func (p *parser) object(v *value, depth int) error {
	p.space()
	if p.pos < len(p.b) && p.b[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.space()
		if p.pos >= len(p.b) || p.b[p.pos] != '"' {
			return p.errorf("expected an object key")
		}
		k, err := p.string()
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.b) || p.b[p.pos] != ':' {
			return p.errorf("expected ':'")
		}
		p.pos++
		child, err := p.value(depth + 1)
		if child != nil {
			v.keys = append(v.keys, k)
			v.vals = append(v.vals, child)
		}
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.b) {
			return p.errorf("unexpected end of input in an object")
		}
		switch p.b[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or '}'")
		}
	}
}

func (p *parser) array(v *value, depth int) error {
	p.space()
	if p.pos < len(p.b) && p.b[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		child, err := p.value(depth + 1)
		if child != nil {
			v.vals = append(v.vals, child)
		}
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.b) {
			return p.errorf("unexpected end of input in an array")
		}
		switch p.b[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or ']'")
		}
	}
}

// literals are the non-string scalars Python's json reads besides numbers.
var literals = []string{"true", "false", "null", "NaN", "Infinity", "-Infinity"}

func (p *parser) scalar() error {
	rest := p.b[p.pos:]
	for _, l := range literals {
		if len(rest) >= len(l) && string(rest[:len(l)]) == l {
			p.pos += len(l)
			return nil
		}
	}
	start := p.pos
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.pos++
			continue
		}
		break
	}
	if p.pos == start {
		return p.errorf("invalid character %q", p.b[p.pos])
	}
	return nil
}

// string reads a string starting at the opening quote and decodes its
// escapes; invalid escapes and lone surrogates become U+FFFD.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case '"':
			s := string(p.b[start:p.pos])
			p.pos++
			return s, nil
		case '\\':
			return p.escaped(start)
		}
		p.pos++
	}
	return "", p.errorf("unterminated string")
}

func (p *parser) escaped(start int) (string, error) {
	out := append([]byte(nil), p.b[start:p.pos]...)
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(out), nil
		case c != '\\':
			out = append(out, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.b) {
			break
		}
		e := p.b[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
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
			r := p.hex4()
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.pos+1 < len(p.b) && p.b[p.pos] == '\\' && p.b[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					r2 = p.hex4()
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						r2 = -1
					} else {
						p.pos = save
					}
				}
				if utf16.IsSurrogate(r) {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			out = utf8.AppendRune(out, utf8.RuneError)
		}
	}
	return "", p.errorf("unterminated string")
}

// hex4 reads four hex digits, or returns U+FFFD without consuming bad ones.
func (p *parser) hex4() rune {
	if p.pos+4 > len(p.b) {
		return utf8.RuneError
	}
	var r rune
	for _, c := range p.b[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return utf8.RuneError
		}
	}
	p.pos += 4
	return r
}
