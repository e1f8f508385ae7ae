// Package npy reads the header of a NumPy .npy file (format versions 1.0,
// 2.0 and 3.0) without trusting it: the magic string "\x93NUMPY", the
// version, a bounded header length and the header itself, a Python
// literal dict with the keys descr, fortran_order and shape, parsed by a
// small literal parser (never evaluated).
//
// An array whose dtype holds Python objects (descr "|O", or a structured
// dtype with an "O" field) is stored as a pickle stream after the
// header: Parse reports it with Header.HasObject and Header.DataOffset,
// and the caller must scan the stream from there with the pickle
// package. For other arrays Parse checks that shape × item size fits the
// file.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// Detector is the value Parse puts in Finding.Detector.
const Detector = "model.npy"

// MaxHeader is the longest header Parse reads. NumPy itself refuses
// headers over 10,000 bytes unless told otherwise.
const MaxHeader = 1 << 16

// maxDepth bounds the nesting of the header literal.
const maxDepth = 32

var family = finding.Family{
	Name:        Detector,
	Layer:       finding.LayerModelWeights,
	Remediation: "Load NumPy files with allow_pickle=False; re-save object arrays in a format without pickles, or obtain the file from a source you trust.",
	References: finding.References{
		OWASP: []string{"LLM03:2025", "LLM04:2025"},
		ATLAS: []string{"AML.T0010", "AML.T0011.000"},
		CWE:   []string{"CWE-502"},
	},
}

// The rules Parse can emit.
var (
	// RuleMalformed: the header is invalid; numpy.load raises.
	RuleMalformed = family.Rule("malformed", "NumPy file has an invalid header", finding.Medium)
	// RuleTruncated: the array data is shorter than the header declares.
	RuleTruncated = family.Rule("truncated", "NumPy array data is shorter than its header declares", finding.Medium)
	// RuleTrailing: bytes follow the array data; numpy.load ignores them,
	// so they can carry a second payload for other readers.
	RuleTrailing = family.Rule("trailing-data", "NumPy file has bytes after the array data", finding.Low)
	// RuleObjectArray: the array holds Python objects, stored as a pickle
	// that numpy.load(allow_pickle=True) runs.
	RuleObjectArray = family.Rule("object-array", "NumPy array of Python objects (stored as a pickle)", finding.Low)
)

var allRules = []*finding.Rule{RuleMalformed, RuleTruncated, RuleTrailing, RuleObjectArray}

// Rules returns every rule Parse can emit.
func Rules() []*finding.Rule { return slices.Clone(allRules) }

// Magic is the first six bytes of every .npy file.
const Magic = "\x93NUMPY"

// Header is a parsed .npy header.
type Header struct {
	// Major and Minor are the format version (1.0, 2.0 or 3.0).
	Major, Minor int
	// Descr is the dtype as the header writes it: a type string such as
	// "<f8", or the Python literal of a structured dtype's field list.
	Descr string
	// FortranOrder is the header's fortran_order.
	FortranOrder bool
	// Shape is the array's shape.
	Shape []int64
	// HasObject reports whether the dtype holds Python objects; then the
	// data is a pickle stream starting at DataOffset.
	HasObject bool
	// ItemSize is the dtype's size in bytes (0 when unknown).
	ItemSize int64
	// DataOffset is the offset of the array data (or pickle stream).
	DataOffset int64
	// DataSize is shape × item size, or -1 for object arrays and unknown
	// item sizes.
	DataSize int64
}

// Parse reads the header of the .npy file r of the given size. A file
// that is not valid .npy yields a nil Header and a finding; the error is
// non-nil only when reading r fails.
func Parse(r io.ReaderAt, size int64) (*Header, []finding.Finding, error) {
	var fs []finding.Finding
	bad := func(off int64, format string, args ...any) (*Header, []finding.Finding, error) {
		f := finding.New(RuleMalformed, finding.Location{Offset: off}, 0.9, "")
		f.Message = fmt.Sprintf(format, args...)
		f.Detector = Detector
		return nil, append(fs, f), nil
	}
	read := func(off int64, n int) ([]byte, error) {
		b := make([]byte, n)
		k, err := r.ReadAt(b, off)
		if k == n {
			return b, nil
		}
		if err == nil || errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("npy: reading %d bytes at offset %d: %w", n, off, err)
	}
	if size < 10 {
		return bad(0, "file of %d bytes is too short for a .npy header", size)
	}
	pre, err := read(0, 12)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		pre, err = read(0, 10)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return bad(0, "file ends inside the .npy preamble")
		}
		return nil, nil, err
	}
	if string(pre[:6]) != Magic {
		return bad(0, "missing the \\x93NUMPY magic string")
	}
	h := &Header{Major: int(pre[6]), Minor: int(pre[7])}
	var hlen, start int64
	switch h.Major {
	case 1:
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if len(pre) < 12 {
			return bad(8, "file ends inside the header length")
		}
		hlen, start = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return bad(6, "unsupported format version %d.%d", h.Major, h.Minor)
	}
	if hlen > MaxHeader {
		return bad(8, "header length %d exceeds the limit of %d bytes", hlen, MaxHeader)
	}
	if start+hlen > size {
		return bad(8, "header length %d runs past the end of the %d-byte file", hlen, size)
	}
	hdr, err := read(start, int(hlen))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return bad(start, "file ends inside the header")
		}
		return nil, nil, err
	}
	h.DataOffset = start + hlen
	if h.Major < 3 {
		for i, c := range hdr {
			if c >= 0x80 {
				return bad(start+int64(i), "non-ASCII byte 0x%02x in a version %d header", c, h.Major)
			}
		}
	}
	p := &parser{s: hdr}
	lit, err := p.parse()
	if err != nil {
		return bad(start+int64(p.i), "header: %v", err)
	}
	d, ok := lit.(map[string]any)
	if !ok {
		return bad(start, "header is not a dict")
	}
	if len(d) != 3 {
		return bad(start, "header has %d keys, want descr, fortran_order and shape", len(d))
	}
	fo, ok := d["fortran_order"].(bool)
	if !ok {
		return bad(start, "fortran_order is missing or not a bool")
	}
	h.FortranOrder = fo
	shape, ok := d["shape"].([]any)
	if !ok {
		return bad(start, "shape is missing or not a tuple")
	}
	for _, s := range shape {
		n, ok := s.(int64)
		if !ok || n < 0 {
			return bad(start, "shape holds %v, not a non-negative int", s)
		}
		h.Shape = append(h.Shape, n)
	}
	descr, ok := d["descr"]
	if !ok {
		return bad(start, "descr is missing")
	}
	switch v := descr.(type) {
	case string:
		h.Descr = v
	case []any:
		h.Descr = p.text(descr)
	default:
		return bad(start, "descr is neither a type string nor a field list")
	}
	h.ItemSize, h.HasObject, err = itemSize(descr, 0)
	if err != nil {
		return bad(start, "descr: %v", err)
	}
	h.DataSize = -1
	if h.HasObject {
		f := finding.New(RuleObjectArray, finding.Location{Offset: h.DataOffset}, 1, h.Descr)
		f.Message = fmt.Sprintf("array of Python objects: its data at offset %d is a pickle stream that numpy.load(allow_pickle=True) runs", h.DataOffset)
		f.Detector = Detector
		return h, append(fs, f), nil
	}
	count := int64(1)
	for _, n := range h.Shape {
		if n != 0 && count > math.MaxInt64/n {
			return bad(start, "shape %v overflows", h.Shape)
		}
		count *= n
	}
	if h.ItemSize > 0 && count > 0 && h.ItemSize > math.MaxInt64/count {
		return bad(start, "shape %v × item size %d overflows", h.Shape, h.ItemSize)
	}
	h.DataSize = count * h.ItemSize
	switch left := size - h.DataOffset; {
	case left < h.DataSize:
		f := finding.New(RuleTruncated, finding.Location{Offset: size}, 1, h.Descr)
		f.Message = fmt.Sprintf("shape %v of %s needs %d bytes of data but the file holds %d after the header", h.Shape, h.Descr, h.DataSize, left)
		f.Detector = Detector
		fs = append(fs, f)
	case left > h.DataSize:
		f := finding.New(RuleTrailing, finding.Location{Offset: h.DataOffset + h.DataSize}, 0.8, "")
		f.Message = fmt.Sprintf("%d bytes follow the %d bytes of array data; numpy.load ignores them", left-h.DataSize, h.DataSize)
		f.Detector = Detector
		fs = append(fs, f)
	}
	return h, fs, nil
}

// itemSize returns the size of a descr (type string or field list) and
// whether it holds objects.
func itemSize(d any, depth int) (int64, bool, error) {
	if depth > maxDepth {
		return 0, false, errors.New("dtype nested too deeply")
	}
	switch v := d.(type) {
	case string:
		return typestr(v)
	case []any:
		var total int64
		obj := false
		for _, f := range v {
			t, ok := f.([]any)
			if !ok || len(t) < 2 || len(t) > 3 {
				return 0, false, fmt.Errorf("field %v is not (name, dtype[, shape])", f)
			}
			switch t[0].(type) {
			case string, []any:
			default:
				return 0, false, fmt.Errorf("field name %v is not a string", t[0])
			}
			n, o, err := itemSize(t[1], depth+1)
			if err != nil {
				return 0, false, err
			}
			if len(t) == 3 {
				sh, ok := t[2].([]any)
				if !ok {
					if k, isInt := t[2].(int64); isInt {
						sh = []any{k}
					} else {
						return 0, false, fmt.Errorf("field shape %v is not a tuple", t[2])
					}
				}
				for _, s := range sh {
					k, ok := s.(int64)
					if !ok || k < 0 || (k != 0 && n > math.MaxInt64/k) {
						return 0, false, fmt.Errorf("field shape %v is invalid", t[2])
					}
					n *= k
				}
			}
			if total > math.MaxInt64-n {
				return 0, false, errors.New("structured dtype size overflows")
			}
			total += n
			obj = obj || o
		}
		return total, obj, nil
	}
	return 0, false, fmt.Errorf("%v is not a dtype", d)
}

// typestr returns the size of a NumPy array-protocol type string such as
// "<f8", "|b1", "<U10", "|O" or "<M8[ns]".
func typestr(s string) (int64, bool, error) {
	t := strings.TrimLeft(s, "<>|=")
	if len(t) == 0 || len(t) != len(s)-1 && len(t) != len(s) {
		return 0, false, fmt.Errorf("type string %q is invalid", s)
	}
	k, rest := t[0], t[1:]
	if i := strings.IndexByte(rest, '['); i >= 0 && (k == 'M' || k == 'm') && strings.HasSuffix(rest, "]") {
		rest = rest[:i]
	}
	if k == 'O' && (rest == "" || rest == "8" || rest == "4") {
		return 8, true, nil
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("type string %q has no valid size", s)
	}
	switch k {
	case 'U':
		if n > math.MaxInt64/4 {
			return 0, false, fmt.Errorf("type string %q is too large", s)
		}
		return n * 4, false, nil
	case 'b', 'i', 'u', 'f', 'c', 'S', 'a', 'V', 'M', 'm':
		return n, false, nil
	}
	return 0, false, fmt.Errorf("type string %q has an unknown kind %q", s, k)
}

// parser reads the Python literal subset .npy headers use: dicts,
// lists, tuples, strings, ints, True, False and None.
type parser struct {
	s     []byte
	i     int
	depth int
}

func (p *parser) parse() (any, error) {
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the dict", p.s[p.i])
	}
	return v, nil
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) value() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.container('}')
	case c == '[':
		return p.container(']')
	case c == '(':
		return p.container(')')
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == 'L') {
			j++
		}
		t := strings.TrimSuffix(string(p.s[p.i:j]), "L")
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid integer %q", t)
		}
		p.i = j
		return n, nil
	}
	for _, kw := range [...]struct {
		s string
		v any
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if bytes.HasPrefix(p.s[p.i:], []byte(kw.s)) {
			p.i += len(kw.s)
			return kw.v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q", p.s[p.i])
}

// container parses a dict (map[string]any), list or tuple ([]any).
func (p *parser) container(end byte) (any, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	defer func() { p.depth-- }()
	p.i++
	var list []any
	var dict map[string]any
	if end == '}' {
		dict = map[string]any{}
	}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			if dict != nil {
				return dict, nil
			}
			if list == nil {
				list = []any{}
			}
			return list, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if dict != nil {
			k, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is not a string", v)
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errors.New("missing ':' in dict")
			}
			p.i++
			if v, err = p.value(); err != nil {
				return nil, err
			}
			if _, dup := dict[k]; dup {
				return nil, fmt.Errorf("duplicate key %q", k)
			}
			dict[k] = v
		} else {
			list = append(list, v)
		}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == end {
			continue
		}
		return nil, fmt.Errorf("expected ',' or %q", end)
	}
}

func (p *parser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case q:
			return b.String(), nil
		case '\\':
			if p.i >= len(p.s) {
				return "", errors.New("unterminated string")
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case '\n':
			return "", errors.New("newline in string")
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated string")
}

// text renders a parsed literal back to Python syntax (for Descr).
func (p *parser) text(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = p.text(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	return "?"
}
