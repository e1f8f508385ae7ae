package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Marshal returns the configuration as YAML with every key, in the order of
// the model, for `rampart config check --print`. The output parses back to
// the same configuration: "$" is written as "$$" (so nothing is
// interpolated twice), and a string that YAML would read as something else
// is quoted. Secret-bearing keys hold references, not values, so the output
// holds no secrets.
func (c *Config) Marshal() ([]byte, error) {
	e := &emitter{}
	e.mapping(reflect.ValueOf(c).Elem(), 0)
	if e.err != nil {
		return nil, fmt.Errorf("marshal config: %w", e.err)
	}
	return e.b.Bytes(), nil
}

// emitter writes block-style YAML.
type emitter struct {
	b   bytes.Buffer
	err error
}

// kv is one entry of a mapping being written.
type kv struct {
	key   string
	value reflect.Value
}

// entriesOf lists a struct's tagged fields or a map's entries (sorted).
func entriesOf(v reflect.Value) []kv {
	var out []kv
	switch v.Kind() {
	case reflect.Struct:
		info := infoOf(v.Type())
		for _, name := range info.names {
			out = append(out, kv{name, v.FieldByIndex(info.byName[name].index)})
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			out = append(out, kv{it.Key().String(), it.Value()})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	}
	return out
}

// deref strips pointers and interfaces; nil gives an invalid Value.
func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// isBlock reports whether v is written as an indented block: a struct, or
// a non-empty map or list.
func isBlock(v reflect.Value) bool {
	if !v.IsValid() || v.Type() == durationType || v.Type() == reflect.TypeFor[ByteSize]() {
		return false
	}
	switch v.Kind() {
	case reflect.Struct:
		return true
	case reflect.Map, reflect.Slice:
		return v.Len() > 0
	}
	return false
}

func (e *emitter) indent(n int) {
	for range n {
		e.b.WriteByte(' ')
	}
}

func (e *emitter) mapping(v reflect.Value, indent int) {
	for _, en := range entriesOf(v) {
		e.indent(indent)
		e.b.WriteString(e.key(en.key))
		e.b.WriteByte(':')
		e.child(deref(en.value), indent)
	}
}

func (e *emitter) sequence(v reflect.Value, indent int) {
	for i := 0; i < v.Len(); i++ {
		e.indent(indent)
		e.b.WriteByte('-')
		item := deref(v.Index(i))
		if !isBlock(item) {
			e.b.WriteByte(' ')
			e.b.WriteString(e.scalar(item))
			e.b.WriteByte('\n')
			continue
		}
		// A block item starts on the dash's line: write it indented, then
		// put "- " in place of the first line's indentation.
		sub := &emitter{}
		if item.Kind() == reflect.Slice {
			sub.sequence(item, indent+2)
		} else {
			sub.mapping(item, indent+2)
		}
		if sub.err != nil && e.err == nil {
			e.err = sub.err
		}
		e.b.WriteByte(' ')
		e.b.Write(sub.b.Bytes()[indent+2:])
	}
}

// child writes the value of a mapping entry after "key:".
func (e *emitter) child(v reflect.Value, indent int) {
	if !isBlock(v) {
		e.b.WriteByte(' ')
		e.b.WriteString(e.scalar(v))
		e.b.WriteByte('\n')
		return
	}
	e.b.WriteByte('\n')
	if v.Kind() == reflect.Slice {
		e.sequence(v, indent+2)
		return
	}
	if v.Kind() == reflect.Struct && v.NumField() == 0 {
		return
	}
	e.mapping(v, indent+2)
}

// key writes a mapping key; keys are not interpolated, so "$" stays.
func (e *emitter) key(s string) string {
	if !utf8.ValidString(s) {
		e.fail(errors.New("a key is not valid UTF-8"))
	}
	if safePlain(s) && !strings.Contains(s, "$") {
		return s
	}
	return quoteYAML(s)
}

func (e *emitter) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// scalar formats a value written on one line.
func (e *emitter) scalar(v reflect.Value) string {
	if !v.IsValid() {
		return "null"
	}
	switch x := v.Interface().(type) {
	case time.Duration:
		return x.String()
	case ByteSize:
		return x.String()
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) {
			e.fail(errors.New("a value is not valid UTF-8"))
		}
		s = strings.ReplaceAll(s, "$", "$$")
		if safePlain(s) {
			return s
		}
		return quoteYAML(s)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return formatYAMLFloat(v.Float())
	case reflect.Map:
		return "{}"
	case reflect.Slice:
		return "[]"
	}
	e.fail(fmt.Errorf("cannot write a %s", v.Type()))
	return "null"
}

// formatYAMLFloat writes a float so that YAML reads it back as a float,
// not an integer ("7.0", not "7").
func formatYAMLFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// safePlain reports whether s can be written unquoted: a conservative set
// of characters that covers names, URLs, addresses and references, and no
// text that YAML would read as null, a boolean or a number.
func safePlain(s string) bool {
	if s == "" || strings.HasSuffix(s, ":") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '/':
		case i > 0 && strings.IndexByte(":@+=~$-", c) >= 0:
		default:
			return false
		}
	}
	v, isString := inferPlain(s).(string)
	return isString && v == s
}

// quoteYAML writes s as a YAML double-quoted scalar on one line.
func quoteYAML(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			switch {
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r > 0x7f && (!unicode.IsPrint(r) || r == 0x2028 || r == 0x2029 || r == 0xfeff):
				if r <= 0xffff {
					fmt.Fprintf(&b, `\u%04x`, r)
				} else {
					fmt.Fprintf(&b, `\U%08x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
