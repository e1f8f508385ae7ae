// Package safetensors checks the header of a safetensors file without
// reading its tensor data: the 8-byte little-endian header length, then
// the JSON header that maps tensor names to a dtype, a shape and a byte
// range of the data area, plus an optional "__metadata__" map of strings.
//
// A safetensors file cannot carry code, but a malformed header can crash or
// mislead a loader that trusts it (out-of-range or overlapping byte ranges,
// shapes whose size overflows, duplicate keys that parsers resolve
// differently), and the metadata strings are free text an attacker controls.
// Scan reads only the first 8 bytes and the header, so its cost does not
// depend on the size of the file.
package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Detector is the value of Finding.Detector for findings of this package.
const Detector = "model.safetensors"

// MaxHeaderSize is the largest header Scan reads (100 MB, the limit of the
// reference implementation).
const MaxHeaderSize = 100_000_000

// LongMetadata is the length from which a metadata value is reported as
// unusually long.
const LongMetadata = 64 << 10

// maxDepth bounds the nesting of JSON values in the header.
const maxDepth = 64

// DTypeBits gives the size in bits of one element of each dtype the
// safetensors format defines.
var DTypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8,
	"F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64, "C64": 64,
}

// Tensor is one tensor entry of the header.
type Tensor struct {
	Name  string
	DType string
	Shape []uint64
	// Begin and End are the tensor's byte range relative to the data
	// area, which starts at Header.DataOffset.
	Begin, End uint64
}

// Header is the parsed header of a safetensors file.
type Header struct {
	// Len is the declared header length; DataOffset (8+Len) is where the
	// data area starts.
	Len        uint64
	DataOffset int64
	// Metadata is the "__metadata__" map (string values only).
	Metadata map[string]string
	// Tensors are the tensor entries in header order.
	Tensors []Tensor
}

var family = finding.Family{
	Name:        "model.safetensors",
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load this file; re-export the model with the reference safetensors library from a trusted source.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
		CWE:   []string{"CWE-20"},
	},
}

// The rules of this package.
var (
	RuleHeaderSize      = family.Rule("header-size", "Header length is zero, beyond the file or beyond the limit", finding.High)
	RuleHeaderJSON      = family.Rule("header-json", "Header is not a valid UTF-8 JSON object", finding.Medium)
	RuleDuplicateKey    = family.Rule("duplicate-key", "Header repeats a key (parsers disagree on which wins)", finding.High)
	RuleDType           = family.Rule("dtype", "Tensor has an unknown dtype", finding.Medium)
	RuleShape           = family.Rule("shape", "Tensor shape is invalid or does not match its byte range", finding.Medium)
	RuleOffsets         = family.Rule("offsets", "Tensor byte range is invalid or outside the data area", finding.High)
	RuleOverlap         = family.Rule("overlap", "Tensors share bytes of the data area", finding.High)
	RuleLayout          = family.Rule("layout", "Data area has holes or trailing bytes", finding.Low)
	RuleMetadata        = family.Rule("metadata", "__metadata__ is not a map of strings", finding.Medium)
	RuleMetadataContent = family.Rule("metadata-content", "Metadata value looks like code, a pickle or is very long", finding.Low)
	RuleExtraField      = family.Rule("extra-field", "Tensor entry has fields the format does not define", finding.Info)
)

// Rules returns every rule this package can emit.
func Rules() []finding.Rule {
	return modelfinding.Rules(RuleHeaderSize, RuleHeaderJSON, RuleDuplicateKey, RuleDType, RuleShape,
		RuleOffsets, RuleOverlap, RuleLayout, RuleMetadata, RuleMetadataContent, RuleExtraField)
}

// Scan reads the header of the safetensors file in r (size bytes) and
// checks it. It reads the first 8 bytes and the header only. Problems
// with the file are findings; the header is nil when it could not be
// parsed. The error is non-nil only when r fails to read.
func Scan(r io.ReaderAt, size int64) (*Header, []finding.Finding, error) {
	var fs []finding.Finding
	var lenBuf [8]byte
	if size < 8 {
		fs = append(fs, modelfinding.At(RuleHeaderSize, Detector, 0, "", "", fmt.Sprintf("file of %d bytes is too short for the 8-byte header length", size)))
		return nil, fs, nil
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	switch {
	case n == 0:
		fs = append(fs, modelfinding.At(RuleHeaderSize, Detector, 0, "", "0", "header length is 0"))
		return nil, fs, nil
	case n > MaxHeaderSize:
		fs = append(fs, modelfinding.At(RuleHeaderSize, Detector, 0, "", strconv.FormatUint(n, 10), fmt.Sprintf("header length %d exceeds the %d-byte limit", n, MaxHeaderSize)))
		return nil, fs, nil
	case n > uint64(size-8):
		fs = append(fs, modelfinding.At(RuleHeaderSize, Detector, 0, "", strconv.FormatUint(n, 10), fmt.Sprintf("header length %d runs past the end of the %d-byte file", n, size)))
		return nil, fs, nil
	}
	raw := make([]byte, n)
	if m, err := r.ReadAt(raw, 8); m != len(raw) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, fmt.Errorf("safetensors: reading %d-byte header: %w", n, err)
	}
	h := &Header{Len: n, DataOffset: 8 + int64(n)}
	p := &parser{h: h, size: size}
	p.parse(raw)
	return h, modelfinding.Cap(p.fs), nil
}

// MaxPerRule is the number of findings of one rule a scan lists; the rest
// are counted in one summary finding.
const MaxPerRule = modelfinding.MaxPerRule

// parser checks one header.
type parser struct {
	h    *Header
	size int64
	fs   []finding.Finding
	at   int64 // header offset of the entry being checked
}

// add reports a finding at the header (offset 8) or, with at, at the
// header byte where the entry concerned starts.
func (p *parser) add(r *finding.Rule, field, excerpt, msg string) {
	p.fs = append(p.fs, modelfinding.At(r, Detector, 8+p.at, field, excerpt, msg))
}

func (p *parser) parse(raw []byte) {
	if !utf8.Valid(raw) {
		p.add(RuleHeaderJSON, "", "", "header is not valid UTF-8")
	}
	if raw[0] != '{' {
		p.add(RuleHeaderJSON, "", modelfinding.Clip(string(raw), 64), "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	top, ok := p.object(dec, "", 0)
	if !ok {
		p.h.Tensors = nil
		return
	}
	p.at = 0
	if rest := bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		p.add(RuleHeaderJSON, "", modelfinding.Clip(string(rest), 64), fmt.Sprintf("%d bytes after the header object (only spaces may pad it)", len(rest)))
	}
	for _, kv := range top {
		p.at = kv.off
		if kv.key == "__metadata__" {
			p.metadata(kv.val)
			continue
		}
		p.tensor(kv.key, kv.val)
	}
	p.at = 0
	p.layout()
}

// kv is one member of a JSON object, in order.
type kv struct {
	key string
	val any
	off int64 // header offset of the key
}

// object reads a JSON object whose '{' may still be pending, reporting
// duplicate keys; it returns false (after a finding) on invalid JSON.
func (p *parser) object(dec *json.Decoder, path string, depth int) ([]kv, bool) {
	tok, err := dec.Token()
	if err != nil {
		p.add(RuleHeaderJSON, path, "", fmt.Sprintf("header JSON invalid at byte %d: %v", dec.InputOffset(), err))
		return nil, false
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		p.add(RuleHeaderJSON, path, fmt.Sprint(tok), "header is not a JSON object")
		return nil, false
	}
	return p.members(dec, path, depth)
}

// members reads the members of an object after its '{'.
func (p *parser) members(dec *json.Decoder, path string, depth int) ([]kv, bool) {
	var out []kv
	seen := map[string]bool{}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			p.add(RuleHeaderJSON, path, "", fmt.Sprintf("header JSON invalid at byte %d: %v", dec.InputOffset(), err))
			return nil, false
		}
		key, _ := tok.(string)
		p.at = off
		if seen[key] {
			p.add(RuleDuplicateKey, path, key, fmt.Sprintf("key %q appears more than once%s: readers that keep the first and readers that keep the last see different tensors", key, inPath(path)))
		}
		seen[key] = true
		v, ok := p.value(dec, joinPath(path, key), depth+1)
		if !ok {
			return nil, false
		}
		out = append(out, kv{key, v, off})
	}
	if _, err := dec.Token(); err != nil { // '}'
		p.add(RuleHeaderJSON, path, "", fmt.Sprintf("header JSON invalid at byte %d: %v", dec.InputOffset(), err))
		return nil, false
	}
	return out, true
}

// value reads any JSON value: objects become []kv, arrays []any, numbers
// json.Number.
func (p *parser) value(dec *json.Decoder, path string, depth int) (any, bool) {
	if depth > maxDepth {
		p.add(RuleHeaderJSON, path, "", fmt.Sprintf("header JSON nested deeper than %d", maxDepth))
		return nil, false
	}
	tok, err := dec.Token()
	if err != nil {
		p.add(RuleHeaderJSON, path, "", fmt.Sprintf("header JSON invalid at byte %d: %v", dec.InputOffset(), err))
		return nil, false
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return p.members(dec, path, depth)
		}
		var arr []any
		for dec.More() {
			v, ok := p.value(dec, path, depth+1)
			if !ok {
				return nil, false
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil {
			p.add(RuleHeaderJSON, path, "", fmt.Sprintf("header JSON invalid at byte %d: %v", dec.InputOffset(), err))
			return nil, false
		}
		if arr == nil {
			arr = []any{}
		}
		return arr, true
	default:
		return t, true
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func inPath(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

// metadata checks the "__metadata__" value.
func (p *parser) metadata(v any) {
	members, ok := v.([]kv)
	if !ok {
		p.add(RuleMetadata, "__metadata__", fmt.Sprint(v), "__metadata__ is not an object")
		return
	}
	p.h.Metadata = make(map[string]string, len(members))
	for _, m := range members {
		s, ok := m.val.(string)
		if !ok {
			p.add(RuleMetadata, "__metadata__."+m.key, m.key, fmt.Sprintf("__metadata__ value of %q is not a string", m.key))
			continue
		}
		p.h.Metadata[m.key] = s
		if why := suspicious(s); why != "" {
			p.add(RuleMetadataContent, "__metadata__."+m.key, s, fmt.Sprintf("__metadata__ value of %q %s", m.key, why))
		}
	}
}

// suspicious says why a metadata string deserves a look, or "".
func suspicious(s string) string {
	if len(s) >= LongMetadata {
		return fmt.Sprintf("is %d bytes long", len(s))
	}
	if strings.HasPrefix(s, "\u0080") || strings.HasPrefix(s, "gASV") || strings.HasPrefix(s, "gAJ") || strings.HasPrefix(s, "gAN") {
		return "looks like a pickle (raw or base64)"
	}
	low := strings.ToLower(s)
	for _, m := range codeMarkers {
		if strings.Contains(low, m) {
			return fmt.Sprintf("looks like code (%q)", m)
		}
	}
	return ""
}

// codeMarkers are substrings that rarely occur in metadata other than code.
var codeMarkers = []string{
	"__import__", "import os", "import subprocess", "os.system", "subprocess.", "eval(", "exec(",
	"__builtins__", "__globals__", "__class__", "<script", "#!/bin/", "/bin/sh", "powershell",
	"curl http", "wget http", "{{", "{%",
}

// tensor checks one tensor entry.
func (p *parser) tensor(name string, v any) {
	members, ok := v.([]kv)
	if !ok {
		p.add(RuleHeaderJSON, name, name, fmt.Sprintf("entry %q is not an object", name))
		return
	}
	t := Tensor{Name: name}
	var haveDType, haveShape, haveOffsets bool
	for _, m := range members {
		switch m.key {
		case "dtype":
			s, ok := m.val.(string)
			if !ok {
				p.add(RuleDType, name, fmt.Sprint(m.val), fmt.Sprintf("tensor %q: dtype is not a string", name))
				return
			}
			t.DType, haveDType = s, true
		case "shape":
			arr, ok := m.val.([]any)
			if !ok {
				p.add(RuleShape, name, fmt.Sprint(m.val), fmt.Sprintf("tensor %q: shape is not an array", name))
				return
			}
			t.Shape = make([]uint64, 0, len(arr))
			for _, d := range arr {
				u, ok := uintOf(d)
				if !ok {
					p.add(RuleShape, name, fmt.Sprint(d), fmt.Sprintf("tensor %q: shape dimension %v is not a non-negative integer", name, d))
					return
				}
				t.Shape = append(t.Shape, u)
			}
			haveShape = true
		case "data_offsets":
			arr, ok := m.val.([]any)
			if !ok || len(arr) != 2 {
				p.add(RuleOffsets, name, fmt.Sprint(m.val), fmt.Sprintf("tensor %q: data_offsets is not a pair", name))
				return
			}
			b, ok1 := uintOf(arr[0])
			e, ok2 := uintOf(arr[1])
			if !ok1 || !ok2 {
				p.add(RuleOffsets, name, fmt.Sprint(m.val), fmt.Sprintf("tensor %q: data_offsets are not non-negative integers", name))
				return
			}
			t.Begin, t.End, haveOffsets = b, e, true
		default:
			p.add(RuleExtraField, name, m.key, fmt.Sprintf("tensor %q has field %q", name, m.key))
		}
	}
	if !haveDType || !haveShape || !haveOffsets {
		p.add(RuleHeaderJSON, name, name, fmt.Sprintf("tensor %q lacks dtype, shape or data_offsets", name))
		return
	}
	dataLen := uint64(p.size) - p.h.Len - 8
	if t.End < t.Begin || t.End > dataLen {
		p.add(RuleOffsets, name, fmt.Sprintf("[%d, %d]", t.Begin, t.End),
			fmt.Sprintf("tensor %q: byte range [%d, %d) is not inside the %d-byte data area", name, t.Begin, t.End, dataLen))
	}
	p.h.Tensors = append(p.h.Tensors, t)
	bitsPer, known := DTypeBits[t.DType]
	if !known {
		p.add(RuleDType, name, t.DType, fmt.Sprintf("tensor %q: unknown dtype %q", name, t.DType))
		return
	}
	n := uint64(1)
	for _, d := range t.Shape {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			p.add(RuleShape, name, fmt.Sprint(t.Shape), fmt.Sprintf("tensor %q: element count of shape %v overflows", name, t.Shape))
			return
		}
		n = lo
	}
	hi, nbits := bits.Mul64(n, bitsPer)
	if hi != 0 {
		p.add(RuleShape, name, fmt.Sprint(t.Shape), fmt.Sprintf("tensor %q: byte size of shape %v overflows", name, t.Shape))
		return
	}
	if nbits%8 != 0 {
		p.add(RuleShape, name, fmt.Sprint(t.Shape), fmt.Sprintf("tensor %q: %d elements of %d bits do not fill whole bytes", name, n, bitsPer))
		return
	}
	if t.End >= t.Begin && nbits/8 != t.End-t.Begin {
		p.add(RuleShape, name, fmt.Sprint(t.Shape),
			fmt.Sprintf("tensor %q: shape %v of %s needs %d bytes, its byte range holds %d", name, t.Shape, t.DType, nbits/8, t.End-t.Begin))
	}
}

// uintOf converts a JSON number to a non-negative integer.
func uintOf(v any) (uint64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	u, err := strconv.ParseUint(string(n), 10, 64)
	return u, err == nil
}

// layout checks that the tensors tile the data area: no overlap, no
// holes, no trailing bytes.
func (p *parser) layout() {
	dataLen := uint64(p.size) - p.h.Len - 8
	var ts []Tensor
	for _, t := range p.h.Tensors {
		if t.End > t.Begin && t.End <= dataLen {
			ts = append(ts, t)
		}
	}
	slices.SortFunc(ts, func(a, b Tensor) int { return cmp.Compare(a.Begin, b.Begin) })
	var pos uint64
	var holes uint64
	overlaps := 0
	for i, t := range ts {
		if i > 0 && t.Begin < pos {
			if overlaps < 16 {
				p.add(RuleOverlap, t.Name, fmt.Sprintf("[%d, %d]", t.Begin, t.End),
					fmt.Sprintf("tensor %q [%d, %d) overlaps tensor %q, which ends at %d", t.Name, t.Begin, t.End, ts[i-1].Name, pos))
			}
			overlaps++
		} else if t.Begin > pos {
			holes += t.Begin - pos
		}
		pos = max(pos, t.End)
	}
	if holes > 0 {
		p.add(RuleLayout, "", strconv.FormatUint(holes, 10), fmt.Sprintf("%d bytes of the data area belong to no tensor", holes))
	}
	if pos < dataLen {
		p.add(RuleLayout, "", strconv.FormatUint(dataLen-pos, 10), fmt.Sprintf("%d bytes after the last tensor: data a loader never reads", dataLen-pos))
	}
}

// Sniff reports whether head, the first bytes (at least 9) of a file of
// size bytes, looks like safetensors: a header length that fits the file
// and the limit, followed by '{'.
func Sniff(head []byte, size int64) bool {
	if len(head) < 9 || size < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n <= MaxHeaderSize && n <= uint64(size-8) && head[8] == '{'
}
