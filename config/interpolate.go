package config

import (
	"strings"
	"unicode/utf8"
)

// expandError is a problem with one ${...} reference; Offset is the byte
// offset of its "$" in the scalar.
type expandError struct {
	Msg    string
	Offset int
}

func (e *expandError) Error() string { return e.Msg }

// expand replaces variable references in one scalar value:
//
//	${NAME}           the variable's value; an error when it is unset
//	${NAME:-default}  the value, or default when NAME is unset or empty
//	$$                a literal "$"
//
// Any other "$" is kept as it is ("$5", "pa$word"). The default is literal
// text up to the first "}"; nested references are not supported. Values are
// never re-expanded. NAME is [A-Za-z_][A-Za-z0-9_]*.
//
// Because expand runs on scalar values after YAML parsing, a value can only
// ever become the text of that one scalar: newlines, ": " or "#" in a
// variable cannot add keys, items or comments.
//
// refs lists the variables referenced, in order, for messages that must
// name where a value came from without showing it.
func expand(s string, env func(string) (string, bool)) (out string, refs []string, err error) {
	i := strings.IndexByte(s, '$')
	if i < 0 {
		return s, nil, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", nil, &expandError{Msg: `unterminated "${" (missing "}"; write "$$" for a literal "$")`, Offset: i}
		}
		body := s[i+2 : i+2+end]
		ref := s[i : i+3+end]
		name, def, hasDef := strings.Cut(body, ":-")
		if !validVarName(name) {
			return "", nil, &expandError{Msg: "invalid variable reference " + quoteShort(ref) + `: want ${NAME} or ${NAME:-default}, where NAME is letters, digits and "_"`, Offset: i}
		}
		if hasDef && strings.Contains(def, "${") {
			return "", nil, &expandError{Msg: "nested reference in the default of " + quoteShort(ref+"…") + " is not supported", Offset: i}
		}
		v, ok := env(name)
		switch {
		case hasDef && (!ok || v == ""):
			v = def
		case !ok:
			return "", nil, &expandError{Msg: "environment variable " + name + " is not set (set it, or give a default: ${" + name + ":-default})", Offset: i}
		case !utf8.ValidString(v):
			return "", nil, &expandError{Msg: "environment variable " + name + " is not valid UTF-8", Offset: i}
		}
		b.WriteString(v)
		refs = append(refs, name)
		i += 3 + end
	}
	return b.String(), refs, nil
}

// validVarName reports whether s is [A-Za-z_][A-Za-z0-9_]*.
func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
