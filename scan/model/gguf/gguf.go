// Package gguf reads the header of a GGUF model file (llama.cpp's format,
// versions 1 to 3, little- or big-endian) within limits — the metadata
// key-value pairs of every type, nested arrays included, and the tensor
// infos — and checks it: counts against the file size, string and array
// lengths, tensor dimensions and types, offsets inside the file and on
// general.alignment, overlapping tensors, duplicate keys and names. Every
// chat template in the metadata (tokenizer.chat_template and
// tokenizer.chat_template.<name>) goes through package template, since a
// template rendered by an unsandboxed Jinja runs code (CVE-2024-34359).
//
// Scan reads the header only, never the tensor data, and allocates only
// what it keeps: string values up to Limits.MaxString, the first
// Limits.KeepArray elements of each array.
package gguf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
	"github.com/rampartsec/rampart/scan/model/template"
)

// Detector is the value of Finding.Detector for findings of this package.
const Detector = "model.gguf"

// ValueType is the type of a metadata value.
type ValueType uint32

// The metadata value types.
const (
	TypeUint8 ValueType = iota
	TypeInt8
	TypeUint16
	TypeInt16
	TypeUint32
	TypeInt32
	TypeFloat32
	TypeBool
	TypeString
	TypeArray
	TypeUint64
	TypeInt64
	TypeFloat64
)

var typeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

// String returns the type's name.
func (t ValueType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// size returns the encoded size of a fixed-size type, or 0.
func (t ValueType) size() uint64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Array is an array value: its element type, its length, and its first
// elements (at most Limits.KeepArray).
type Array struct {
	Type   ValueType
	Len    uint64
	Values []any
}

// KV is one metadata pair. Value holds uint8, int8, uint16, int16, uint32,
// int32, float32, bool, string, uint64, int64, float64 or Array; a string
// longer than Limits.MaxString is not kept (Value is nil).
type KV struct {
	Key   string
	Type  ValueType
	Value any
	// Offset is the byte offset of the key; ValueOffset that of the value
	// (for a string, of its first byte after the length).
	Offset, ValueOffset int64
}

// TensorInfo describes one tensor.
type TensorInfo struct {
	Name string
	Dims []uint64
	// Type is the ggml type (0 F32, 1 F16, 2 Q4_0, …).
	Type uint32
	// Offset is relative to File.DataOffset.
	Offset uint64
	// Size is the data size in bytes, 0 when the type is unknown.
	Size uint64
}

// File is the parsed header of a GGUF file.
type File struct {
	Version     uint32
	BigEndian   bool
	TensorCount uint64
	KVCount     uint64
	Metadata    []KV
	Tensors     []TensorInfo
	// Alignment is general.alignment, or 32.
	Alignment uint64
	// DataOffset is where the tensor data starts.
	DataOffset int64
}

// Get returns the metadata value of key.
func (f *File) Get(key string) (KV, bool) {
	for _, kv := range f.Metadata {
		if kv.Key == key {
			return kv, true
		}
	}
	return KV{}, false
}

// ChatTemplates returns the chat templates in the metadata, by key
// (tokenizer.chat_template and tokenizer.chat_template.<name>).
func (f *File) ChatTemplates() map[string]string {
	out := map[string]string{}
	for _, kv := range f.Metadata {
		if s, ok := kv.Value.(string); ok && isTemplateKey(kv.Key) {
			if _, dup := out[kv.Key]; !dup {
				out[kv.Key] = s
			}
		}
	}
	return out
}

func isTemplateKey(k string) bool {
	return k == "tokenizer.chat_template" || strings.HasPrefix(k, "tokenizer.chat_template.")
}

// Limits bounds a scan. A zero field takes its default.
type Limits struct {
	// MaxString is the longest string value kept and checked (default
	// 1 MiB); longer ones are skipped and reported.
	MaxString uint64
	// MaxKeptBytes bounds the string bytes kept over the whole file
	// (default 64 MiB).
	MaxKeptBytes uint64
	// MaxElements bounds the array elements read over the whole file
	// (default 64 Mi); vocabularies have a few hundred thousand.
	MaxElements uint64
	// KeepArray is the number of leading elements kept per array (default
	// 1024).
	KeepArray int
	// MaxDepth bounds the nesting of arrays (default 4).
	MaxDepth int
	// MaxTensors and MaxKV bound the counts (default 1 Mi each).
	MaxTensors, MaxKV uint64
}

func (l Limits) withDefaults() Limits {
	if l.MaxString == 0 {
		l.MaxString = 1 << 20
	}
	if l.MaxKeptBytes == 0 {
		l.MaxKeptBytes = 64 << 20
	}
	if l.MaxElements == 0 {
		l.MaxElements = 64 << 20
	}
	if l.KeepArray <= 0 {
		l.KeepArray = 1024
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 4
	}
	if l.MaxTensors == 0 {
		l.MaxTensors = 1 << 20
	}
	if l.MaxKV == 0 {
		l.MaxKV = 1 << 20
	}
	return l
}

// ErrNotGGUF is returned by Scan for input without the GGUF magic.
var ErrNotGGUF = errors.New("gguf: not a GGUF file")

var family = finding.Family{
	Name:        "model.gguf",
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load this file; obtain the model from a trusted source, and render its chat template only in a sandboxed Jinja environment.",
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
		CWE:   []string{"CWE-20"},
	},
}

// The rules of this package (chat template findings use package
// template's rules).
var (
	RuleVersion      = family.Rule("version", "Unsupported GGUF version", finding.Medium)
	RuleTruncated    = family.Rule("truncated", "Header runs past the end of the file", finding.Medium)
	RuleCount        = family.Rule("count", "Declared count cannot fit in the file or exceeds the limit", finding.High)
	RuleString       = family.Rule("string", "String length beyond the file or the limit", finding.Medium)
	RuleArray        = family.Rule("array", "Array length or nesting beyond the file or the limits", finding.Medium)
	RuleValueType    = family.Rule("value-type", "Unknown metadata value type", finding.Medium)
	RuleDuplicateKey = family.Rule("duplicate-key", "Metadata key repeated (readers disagree on which wins)", finding.High)
	RuleAlignment    = family.Rule("alignment", "general.alignment is not a power of two of type uint32", finding.Medium)
	RuleTensorType   = family.Rule("tensor-type", "Tensor has an unknown ggml type", finding.Medium)
	RuleTensorDims   = family.Rule("tensor-dims", "Tensor dimensions are invalid, overflow or do not fit the block size", finding.High)
	RuleTensorOffset = family.Rule("tensor-offset", "Tensor data is misaligned or outside the file", finding.High)
	RuleTensorName   = family.Rule("tensor-name", "Tensor name is repeated or too long", finding.Medium)
	RuleOverlap      = family.Rule("overlap", "Tensors share bytes", finding.High)
	RuleTemplateType = family.Rule("chat-template-type", "Chat template key does not hold a string", finding.Medium)
)

// Rules returns every rule this package can emit, including package
// template's.
func Rules() []finding.Rule {
	rs := []*finding.Rule{RuleVersion, RuleTruncated, RuleCount, RuleString, RuleArray, RuleValueType,
		RuleDuplicateKey, RuleAlignment, RuleTensorType, RuleTensorDims, RuleTensorOffset, RuleTensorName,
		RuleOverlap, RuleTemplateType}
	out := make([]finding.Rule, 0, len(rs))
	for _, r := range rs {
		out = append(out, *r)
	}
	return append(out, template.Rules()...)
}

// ggmlTypes gives block size and bytes per block of each ggml type.
var ggmlTypes = map[uint32]struct {
	name        string
	block, size uint64
}{
	0: {"F32", 1, 4}, 1: {"F16", 1, 2}, 2: {"Q4_0", 32, 18}, 3: {"Q4_1", 32, 20},
	6: {"Q5_0", 32, 22}, 7: {"Q5_1", 32, 24}, 8: {"Q8_0", 32, 34}, 9: {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84}, 11: {"Q3_K", 256, 110}, 12: {"Q4_K", 256, 144}, 13: {"Q5_K", 256, 176},
	14: {"Q6_K", 256, 210}, 15: {"Q8_K", 256, 292}, 16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74},
	18: {"IQ3_XXS", 256, 98}, 19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82}, 23: {"IQ4_XS", 256, 136}, 24: {"I8", 1, 1}, 25: {"I16", 1, 2},
	26: {"I32", 1, 4}, 27: {"I64", 1, 8}, 28: {"F64", 1, 8}, 29: {"IQ1_M", 256, 56},
	30: {"BF16", 1, 2}, 34: {"TQ1_0", 256, 54}, 35: {"TQ2_0", 256, 66}, 39: {"MXFP4", 32, 17},
}

// maxDims is GGML_MAX_DIMS; maxName is GGML_MAX_NAME.
const (
	maxDims = 4
	maxName = 64
)

// errStop ends parsing after a finding that leaves the rest unreadable.
var errStop = errors.New("gguf: stop")

// Scan reads and checks the header of the GGUF file in r (size bytes).
// Problems with the file are findings (with byte offsets, and the key or
// tensor name in Location.Field); the File holds what could be parsed
// before an unrecoverable problem. The error is non-nil only when the
// context ends, r fails to read, or the input is not GGUF (ErrNotGGUF).
func Scan(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*File, []finding.Finding, error) {
	p := &parser{ctx: ctx, c: newCursor(r, size), lim: lim.withDefaults(), size: size}
	f, err := p.parse()
	if errors.Is(err, errStop) {
		err = nil
	}
	return f, modelfinding.Cap(p.fs), err
}

// MaxPerRule is the number of findings of one rule a scan lists; the rest
// are counted in one summary finding.
const MaxPerRule = modelfinding.MaxPerRule

type parser struct {
	ctx      context.Context
	c        *cursor
	lim      Limits
	size     int64
	f        *File
	fs       []finding.Finding
	elements uint64 // array elements read so far
	kept     uint64 // string bytes kept so far
}

func (p *parser) add(r *finding.Rule, off int64, field, excerpt, msg string) {
	p.fs = append(p.fs, modelfinding.At(r, Detector, off, field, excerpt, msg))
}

// stop reports the cursor's error: truncation as a finding, I/O as an
// error.
func (p *parser) stop(what string) error {
	err := p.c.err
	if errors.Is(err, errShort) {
		p.add(RuleTruncated, p.c.off, "", "", fmt.Sprintf("%s at offset %d runs past the end of the %d-byte file", what, p.c.off, p.size))
		return errStop
	}
	return err
}

func (p *parser) parse() (*File, error) {
	magic := p.c.bytes(4)
	if p.c.err != nil || string(magic) != "GGUF" {
		if p.c.err != nil && !errors.Is(p.c.err, errShort) {
			return nil, p.c.err
		}
		return nil, ErrNotGGUF
	}
	f := &File{Alignment: 32}
	p.f = f
	v := p.c.u32()
	if p.c.err != nil {
		return f, p.stop("version")
	}
	switch {
	case v >= 1 && v <= 3:
	case bits.ReverseBytes32(v) >= 1 && bits.ReverseBytes32(v) <= 3:
		f.BigEndian = true
		p.c.order = binary.BigEndian
		v = bits.ReverseBytes32(v)
	default:
		p.add(RuleVersion, 4, "", fmt.Sprint(v), fmt.Sprintf("GGUF version %d is not 1, 2 or 3 in either byte order", v))
		return f, errStop
	}
	f.Version = v
	p.c.v1 = v == 1
	f.TensorCount = p.c.count()
	f.KVCount = p.c.count()
	if p.c.err != nil {
		return f, p.stop("counts")
	}
	// A pair needs at least a key length, a type and one byte; a tensor
	// info a name length, n_dims, a type and an offset.
	rest := uint64(p.size - p.c.off)
	minKV, minTensor := uint64(8+4+1), uint64(8+4+4+8)
	if p.c.v1 {
		minKV, minTensor = 4+4+1, 4+4+4+8
	}
	if f.KVCount > rest/minKV || f.KVCount > p.lim.MaxKV {
		p.add(RuleCount, 16, "", fmt.Sprint(f.KVCount), fmt.Sprintf("%d metadata pairs declared: more than the %d bytes left can hold or the limit of %d", f.KVCount, rest, p.lim.MaxKV))
		return f, errStop
	}
	if f.TensorCount > rest/minTensor || f.TensorCount > p.lim.MaxTensors {
		p.add(RuleCount, 8, "", fmt.Sprint(f.TensorCount), fmt.Sprintf("%d tensors declared: more than the %d bytes left can hold or the limit of %d", f.TensorCount, rest, p.lim.MaxTensors))
		return f, errStop
	}
	if err := p.metadata(); err != nil {
		return f, err
	}
	if err := p.tensors(); err != nil {
		return f, err
	}
	p.layout()
	p.templates()
	return f, nil
}

// metadata reads the key-value pairs.
func (p *parser) metadata() error {
	seen := map[string]bool{}
	for i := uint64(0); i < p.f.KVCount; i++ {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		off := p.c.off
		key, ok := p.str()
		if p.c.err != nil {
			return p.stop("metadata key")
		}
		if !ok {
			p.add(RuleString, off, "", "", fmt.Sprintf("metadata key %d at offset %d is longer than the string limit", i, off))
			return errStop
		}
		t := ValueType(p.c.u32())
		if p.c.err != nil {
			return p.stop("metadata type")
		}
		kv := KV{Key: key, Type: t, Offset: off, ValueOffset: p.c.off}
		if seen[key] {
			p.add(RuleDuplicateKey, off, key, key, fmt.Sprintf("metadata key %q appears more than once: readers that keep the first and the last see different values", key))
		}
		seen[key] = true
		if t == TypeString {
			kv.ValueOffset += p.c.lenSize()
		}
		val, err := p.value(t, key, 0, true)
		if err != nil {
			return err
		}
		kv.Value = val
		p.f.Metadata = append(p.f.Metadata, kv)
		p.checkKV(kv)
	}
	return nil
}

// checkKV applies the checks of particular keys.
func (p *parser) checkKV(kv KV) {
	switch {
	case kv.Key == "general.alignment":
		a, ok := kv.Value.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			p.add(RuleAlignment, kv.Offset, kv.Key, fmt.Sprint(kv.Value), fmt.Sprintf("general.alignment is %v of type %v: must be a power of two of type uint32; the default of 32 is assumed", kv.Value, kv.Type))
			return
		}
		p.f.Alignment = uint64(a)
	case isTemplateKey(kv.Key) && kv.Type != TypeString:
		p.add(RuleTemplateType, kv.Offset, kv.Key, kv.Type.String(), fmt.Sprintf("%s holds a %v, not a string", kv.Key, kv.Type))
	}
}

// str reads a string; ok is false (and nothing is kept) when it is longer
// than MaxString or than what is left of the kept-bytes budget.
func (p *parser) str() (s string, ok bool) {
	off := p.c.off
	n := p.c.count()
	if p.c.err != nil {
		return "", true
	}
	if n > uint64(p.size-p.c.off) {
		p.c.off = off
		p.c.fail()
		return "", true
	}
	if n > p.lim.MaxString || p.kept+n > p.lim.MaxKeptBytes {
		p.c.skip(n)
		return "", false
	}
	p.kept += n
	return string(p.c.bytes(int(n))), true
}

// value reads a value of type t.
func (p *parser) value(t ValueType, key string, depth int, top bool) (any, error) {
	off := p.c.off
	var v any
	switch t {
	case TypeUint8:
		v = p.c.u8()
	case TypeInt8:
		v = int8(p.c.u8())
	case TypeBool:
		v = p.c.u8() != 0
	case TypeUint16:
		v = p.c.u16()
	case TypeInt16:
		v = int16(p.c.u16())
	case TypeUint32:
		v = p.c.u32()
	case TypeInt32:
		v = int32(p.c.u32())
	case TypeFloat32:
		v = math.Float32frombits(p.c.u32())
	case TypeUint64:
		v = p.c.u64()
	case TypeInt64:
		v = int64(p.c.u64())
	case TypeFloat64:
		v = math.Float64frombits(p.c.u64())
	case TypeString:
		s, ok := p.str()
		if p.c.err != nil {
			return nil, p.stop(fmt.Sprintf("string value of %q", key))
		}
		if !ok {
			if top {
				p.add(RuleString, off, key, key, fmt.Sprintf("string value of %q is longer than the %d-byte limit or the kept-bytes budget: not inspected", key, p.lim.MaxString))
				if isTemplateKey(key) {
					// A chat template that cannot be checked may hide anything.
					p.fs[len(p.fs)-1].Severity = finding.High
				}
			}
			return nil, nil
		}
		return s, nil
	case TypeArray:
		return p.array(key, depth)
	default:
		p.add(RuleValueType, off-4, key, fmt.Sprint(uint32(t)), fmt.Sprintf("metadata %q has unknown value type %d: the rest of the header cannot be read", key, uint32(t)))
		return nil, errStop
	}
	if p.c.err != nil {
		return nil, p.stop(fmt.Sprintf("value of %q", key))
	}
	return v, nil
}

// array reads an array value.
func (p *parser) array(key string, depth int) (any, error) {
	off := p.c.off
	if depth >= p.lim.MaxDepth {
		p.add(RuleArray, off, key, key, fmt.Sprintf("arrays nested deeper than %d in %q", p.lim.MaxDepth, key))
		return nil, errStop
	}
	et := ValueType(p.c.u32())
	n := p.c.count()
	if p.c.err != nil {
		return nil, p.stop(fmt.Sprintf("array header of %q", key))
	}
	a := Array{Type: et, Len: n}
	rest := uint64(p.size - p.c.off)
	minSize := et.size()
	if minSize == 0 {
		minSize = 4 // a string or array element has at least a length
	}
	if et > TypeFloat64 {
		p.add(RuleValueType, off, key, fmt.Sprint(uint32(et)), fmt.Sprintf("array %q has unknown element type %d", key, uint32(et)))
		return nil, errStop
	}
	if n > rest/minSize {
		p.add(RuleArray, off, key, fmt.Sprint(n), fmt.Sprintf("array %q declares %d elements of %v: more than the %d bytes left can hold", key, n, et, rest))
		return nil, errStop
	}
	if p.elements+n > p.lim.MaxElements {
		p.add(RuleArray, off, key, fmt.Sprint(n), fmt.Sprintf("array %q: %d elements exceed the limit of %d array elements per file", key, n, p.lim.MaxElements))
		return nil, errStop
	}
	p.elements += n
	keep := min(n, uint64(p.lim.KeepArray))
	if sz := et.size(); sz > 0 {
		for range keep {
			v, err := p.value(et, key, depth+1, false)
			if err != nil {
				return nil, err
			}
			a.Values = append(a.Values, v)
		}
		p.c.skip((n - keep) * sz)
		if p.c.err != nil {
			return nil, p.stop(fmt.Sprintf("array %q", key))
		}
		return a, nil
	}
	for i := uint64(0); i < n; i++ {
		if i%4096 == 0 {
			if err := p.ctx.Err(); err != nil {
				return nil, err
			}
		}
		if et == TypeString && i >= keep {
			// Skip without keeping.
			l := p.c.count()
			p.c.skip(l)
			if p.c.err != nil {
				return nil, p.stop(fmt.Sprintf("string %d of array %q", i, key))
			}
			continue
		}
		v, err := p.value(et, key, depth+1, false)
		if err != nil {
			return nil, err
		}
		if i < keep {
			a.Values = append(a.Values, v)
		}
	}
	return a, nil
}

// tensors reads the tensor infos.
func (p *parser) tensors() error {
	names := map[string]bool{}
	for i := uint64(0); i < p.f.TensorCount; i++ {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		off := p.c.off
		name, ok := p.str()
		if p.c.err != nil {
			return p.stop("tensor name")
		}
		if !ok {
			p.add(RuleString, off, "", "", fmt.Sprintf("name of tensor %d at offset %d is longer than the string limit", i, off))
			return errStop
		}
		nd := p.c.u32()
		if p.c.err != nil {
			return p.stop(fmt.Sprintf("tensor %q", name))
		}
		if nd > maxDims {
			p.add(RuleTensorDims, off, name, fmt.Sprint(nd), fmt.Sprintf("tensor %q has %d dimensions; ggml allows %d", name, nd, maxDims))
			if uint64(nd) > uint64(p.size-p.c.off)/4 {
				return errStop
			}
		}
		t := TensorInfo{Name: name, Dims: make([]uint64, 0, min(nd, maxDims))}
		for range nd {
			d := p.c.count()
			if len(t.Dims) < maxDims {
				t.Dims = append(t.Dims, d)
			}
		}
		t.Type = p.c.u32()
		t.Offset = p.c.u64()
		if p.c.err != nil {
			return p.stop(fmt.Sprintf("tensor %q", name))
		}
		if names[name] {
			p.add(RuleTensorName, off, name, name, fmt.Sprintf("tensor name %q repeated", name))
		}
		names[name] = true
		if len(name) >= maxName {
			p.add(RuleTensorName, off, name, name, fmt.Sprintf("tensor name of %d bytes: llama.cpp limits names to %d", len(name), maxName-1))
		}
		p.checkTensor(&t, off, nd)
		p.f.Tensors = append(p.f.Tensors, t)
	}
	pad := (p.f.Alignment - uint64(p.c.off)%p.f.Alignment) % p.f.Alignment
	p.f.DataOffset = p.c.off + int64(pad)
	if p.f.DataOffset > p.size {
		p.add(RuleTruncated, p.c.off, "", "", fmt.Sprintf("tensor data would start at %d, past the end of the %d-byte file", p.f.DataOffset, p.size))
	}
	return nil
}

// checkTensor checks a tensor's type, dimensions and alignment and sets
// its size.
func (p *parser) checkTensor(t *TensorInfo, off int64, nd uint32) {
	ne := uint64(1)
	for _, d := range t.Dims {
		if d > math.MaxInt64 {
			p.add(RuleTensorDims, off, t.Name, fmt.Sprint(t.Dims), fmt.Sprintf("tensor %q: dimension %d is negative as int64", t.Name, d))
			return
		}
		hi, lo := bits.Mul64(ne, d)
		if hi != 0 || lo > math.MaxInt64 {
			p.add(RuleTensorDims, off, t.Name, fmt.Sprint(t.Dims), fmt.Sprintf("tensor %q: element count of %v overflows int64", t.Name, t.Dims))
			return
		}
		ne = lo
	}
	if t.Offset%p.f.Alignment != 0 {
		p.add(RuleTensorOffset, off, t.Name, fmt.Sprint(t.Offset), fmt.Sprintf("tensor %q: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, p.f.Alignment))
	}
	gt, ok := ggmlTypes[t.Type]
	if !ok {
		p.add(RuleTensorType, off, t.Name, fmt.Sprint(t.Type), fmt.Sprintf("tensor %q: unknown ggml type %d", t.Name, t.Type))
		return
	}
	if nd > 0 && t.Dims[0]%gt.block != 0 {
		p.add(RuleTensorDims, off, t.Name, fmt.Sprint(t.Dims), fmt.Sprintf("tensor %q: first dimension %d is not a multiple of the %s block size %d", t.Name, t.Dims[0], gt.name, gt.block))
		return
	}
	hi, lo := bits.Mul64(ne/gt.block, gt.size)
	if hi != 0 || lo > math.MaxInt64 {
		p.add(RuleTensorDims, off, t.Name, fmt.Sprint(t.Dims), fmt.Sprintf("tensor %q: byte size overflows", t.Name))
		return
	}
	t.Size = lo
}

// layout checks that tensor data lies inside the file without overlap.
func (p *parser) layout() {
	if p.f.DataOffset > p.size {
		return
	}
	avail := uint64(p.size - p.f.DataOffset)
	type span struct {
		name       string
		start, end uint64
	}
	var spans []span
	outside := 0
	for _, t := range p.f.Tensors {
		if t.Offset > avail || t.Size > avail-t.Offset {
			if outside < 16 {
				p.add(RuleTensorOffset, p.f.DataOffset, t.Name, fmt.Sprint(t.Offset),
					fmt.Sprintf("tensor %q: %d bytes at data offset %d run past the end of the file (%d data bytes)", t.Name, t.Size, t.Offset, avail))
			}
			outside++
			continue
		}
		if t.Size > 0 {
			spans = append(spans, span{t.Name, t.Offset, t.Offset + t.Size})
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	var end uint64
	var last string
	reported := 0
	for i, s := range spans {
		if i > 0 && s.start < end && reported < 16 {
			reported++
			p.add(RuleOverlap, p.f.DataOffset+int64(s.start), s.name, s.name,
				fmt.Sprintf("tensor %q [%d, %d) overlaps tensor %q, which ends at %d", s.name, s.start, s.end, last, end))
		}
		if s.end > end {
			end, last = s.end, s.name
		}
	}
}

// templates checks every chat template, placing the template's findings
// at their byte offset in the file.
func (p *parser) templates() {
	for _, kv := range p.f.Metadata {
		s, ok := kv.Value.(string)
		if !ok || !isTemplateKey(kv.Key) {
			continue
		}
		for _, f := range template.Check(s) {
			f.Location.Field = kv.Key
			f.Location.Offset = kv.ValueOffset
			if f.Location.Span != nil {
				f.Location.Offset += int64(f.Location.Span.Start)
			}
			p.fs = append(p.fs, f)
		}
	}
}

// Sniff reports whether head, the first bytes of a file, starts with the
// GGUF magic.
func Sniff(head []byte) bool { return len(head) >= 4 && string(head[:4]) == "GGUF" }
