// Package ggufwrite writes small GGUF files for tests: a header, metadata
// key-value pairs of any type (nested arrays included), tensor infos and a
// zeroed data area. It writes what it is given, valid or not, so tests can
// build hostile files.
package ggufwrite

import (
	"bytes"
	"encoding/binary"
	"math"
)

// The GGUF metadata value types.
const (
	Uint8   uint32 = 0
	Int8    uint32 = 1
	Uint16  uint32 = 2
	Int16   uint32 = 3
	Uint32  uint32 = 4
	Int32   uint32 = 5
	Float32 uint32 = 6
	Bool    uint32 = 7
	String  uint32 = 8
	Array   uint32 = 9
	Uint64  uint32 = 10
	Int64   uint32 = 11
	Float64 uint32 = 12
)

// KV is one metadata pair. Value's Go type must match Type: uint8, int8,
// uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, or Arr for Array.
type KV struct {
	Key   string
	Type  uint32
	Value any
}

// Arr is an array value. Count, when non-zero, is written instead of
// len(Values) (to declare more elements than are present).
type Arr struct {
	Type   uint32
	Values []any
	Count  uint64
}

// Tensor is one tensor info.
type Tensor struct {
	Name   string
	Dims   []uint64
	Type   uint32
	Offset uint64
}

// File is a GGUF file to write.
type File struct {
	// Version is 1, 2 or 3 (default 3).
	Version uint32
	// BigEndian writes a big-endian file.
	BigEndian bool
	KVs       []KV
	// Tensors are written as tensor infos; their data is zeros.
	Tensors []Tensor
	// Alignment pads the end of the tensor infos (default 32).
	Alignment int
	// DataSize is the size of the data area (zeros).
	DataSize int
	// TensorCount and KVCount, when non-zero, are written instead of the
	// real counts.
	TensorCount, KVCount uint64
}

// Bytes encodes f.
func (f *File) Bytes() []byte {
	w := &writer{order: binary.LittleEndian, version: f.Version}
	if f.BigEndian {
		w.order = binary.BigEndian
	}
	if w.version == 0 {
		w.version = 3
	}
	w.buf.WriteString("GGUF")
	w.u32(w.version)
	tc, kc := uint64(len(f.Tensors)), uint64(len(f.KVs))
	if f.TensorCount != 0 {
		tc = f.TensorCount
	}
	if f.KVCount != 0 {
		kc = f.KVCount
	}
	w.count(tc)
	w.count(kc)
	for _, kv := range f.KVs {
		w.str(kv.Key)
		w.u32(kv.Type)
		w.value(kv.Type, kv.Value)
	}
	for _, t := range f.Tensors {
		w.str(t.Name)
		w.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			w.count(d)
		}
		w.u32(t.Type)
		w.u64(t.Offset)
	}
	align := f.Alignment
	if align <= 0 {
		align = 32
	}
	for w.buf.Len()%align != 0 {
		w.buf.WriteByte(0)
	}
	w.buf.Write(make([]byte, f.DataSize))
	return w.buf.Bytes()
}

type writer struct {
	buf     bytes.Buffer
	order   binary.AppendByteOrder
	version uint32
}

func (w *writer) u32(v uint32) { w.buf.Write(w.order.AppendUint32(nil, v)) }
func (w *writer) u64(v uint64) { w.buf.Write(w.order.AppendUint64(nil, v)) }

// count writes a count or length: 32 bits in version 1, 64 after.
func (w *writer) count(v uint64) {
	if w.version == 1 {
		w.u32(uint32(v))
	} else {
		w.u64(v)
	}
}

func (w *writer) str(s string) {
	w.count(uint64(len(s)))
	w.buf.WriteString(s)
}

func (w *writer) value(t uint32, v any) {
	switch t {
	case Uint8:
		w.buf.WriteByte(v.(uint8))
	case Int8:
		w.buf.WriteByte(byte(v.(int8)))
	case Uint16:
		w.buf.Write(w.order.AppendUint16(nil, v.(uint16)))
	case Int16:
		w.buf.Write(w.order.AppendUint16(nil, uint16(v.(int16))))
	case Uint32:
		w.u32(v.(uint32))
	case Int32:
		w.u32(uint32(v.(int32)))
	case Float32:
		w.u32(math.Float32bits(v.(float32)))
	case Bool:
		if v.(bool) {
			w.buf.WriteByte(1)
		} else {
			w.buf.WriteByte(0)
		}
	case String:
		w.str(v.(string))
	case Uint64:
		w.u64(v.(uint64))
	case Int64:
		w.u64(uint64(v.(int64)))
	case Float64:
		w.u64(math.Float64bits(v.(float64)))
	case Array:
		a := v.(Arr)
		w.u32(a.Type)
		n := uint64(len(a.Values))
		if a.Count != 0 {
			n = a.Count
		}
		w.count(n)
		for _, e := range a.Values {
			w.value(a.Type, e)
		}
	default:
		// An unknown type: no value bytes, as a hostile file would have.
	}
}
