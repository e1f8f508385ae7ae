// Package pickletest writes pickle streams opcode by opcode, for tests
// and test corpora of the pickle scanner: benign checkpoints shaped like
// the ones PyTorch, NumPy and joblib write, and malicious ones that use
// every opcode path a loader follows. It never runs Python; it emits the
// bytes the pickle protocol defines (see Python's pickletools for the
// opcode reference).
//
// A Writer's methods append one opcode each (or a few, for the helpers)
// and return the Writer, so that a pickle reads as a chain:
//
//	w := pickletest.New(4)
//	w.StackGlobal("os", "system").Str("id").Tuple1().Reduce().Stop()
//	data := w.Bytes()
package pickletest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// The opcodes.
const (
	Mark           = '('
	Stop           = '.'
	Pop            = '0'
	PopMark        = '1'
	Dup            = '2'
	Float          = 'F'
	Int            = 'I'
	BinInt         = 'J'
	BinInt1        = 'K'
	Long           = 'L'
	BinInt2        = 'M'
	None           = 'N'
	PersID         = 'P'
	BinPersID      = 'Q'
	Reduce         = 'R'
	String         = 'S'
	BinString      = 'T'
	ShortBinString = 'U'
	Unicode        = 'V'
	BinUnicode     = 'X'
	Append         = 'a'
	Build          = 'b'
	Global         = 'c'
	Dict           = 'd'
	EmptyDict      = '}'
	Appends        = 'e'
	Get            = 'g'
	BinGet         = 'h'
	Inst           = 'i'
	LongBinGet     = 'j'
	List           = 'l'
	EmptyList      = ']'
	Obj            = 'o'
	Put            = 'p'
	BinPut         = 'q'
	LongBinPut     = 'r'
	SetItem        = 's'
	Tuple          = 't'
	EmptyTuple     = ')'
	SetItems       = 'u'
	BinFloat       = 'G'
	Proto          = 0x80
	NewObj         = 0x81
	Ext1           = 0x82
	Ext2           = 0x83
	Ext4           = 0x84
	Tuple1         = 0x85
	Tuple2         = 0x86
	Tuple3         = 0x87
	NewTrue        = 0x88
	NewFalse       = 0x89
	Long1          = 0x8a
	Long4          = 0x8b
	BinBytes       = 'B'
	ShortBinBytes  = 'C'
	ShortBinUni    = 0x8c
	BinUnicode8    = 0x8d
	BinBytes8      = 0x8e
	EmptySet       = 0x8f
	AddItems       = 0x90
	FrozenSet      = 0x91
	NewObjEx       = 0x92
	StackGlobal    = 0x93
	Memoize        = 0x94
	Frame          = 0x95
	ByteArray8     = 0x96
	NextBuffer     = 0x97
	ReadOnlyBuffer = 0x98
)

// Writer appends opcodes to a pickle stream.
type Writer struct {
	b     bytes.Buffer
	proto int
	memo  int // next memo index Put assigns
	// globals maps module\x00name to the memo index GlobalMemo used.
	globals map[string]int
}

// New starts a pickle of the given protocol (0 to 5); protocols 2 and up
// begin with PROTO.
func New(proto int) *Writer {
	w := &Writer{proto: proto}
	if proto >= 2 {
		w.b.Write([]byte{Proto, byte(proto)})
	}
	return w
}

// Protocol returns the protocol the writer chooses opcodes for.
func (w *Writer) Protocol() int { return w.proto }

// Next starts another pickle of the given protocol on the same stream
// (after a Stop): the memo index restarts.
func (w *Writer) Next(proto int) *Writer {
	w.proto, w.memo, w.globals = proto, 0, nil
	if proto >= 2 {
		w.b.Write([]byte{Proto, byte(proto)})
	}
	return w
}

// Bytes returns the stream written so far.
func (w *Writer) Bytes() []byte { return bytes.Clone(w.b.Bytes()) }

// Len returns the number of bytes written.
func (w *Writer) Len() int { return w.b.Len() }

// Raw appends bytes as they are.
func (w *Writer) Raw(b ...byte) *Writer { w.b.Write(b); return w }

// Op appends an opcode and its raw argument bytes.
func (w *Writer) Op(op byte, arg ...byte) *Writer {
	w.b.WriteByte(op)
	w.b.Write(arg)
	return w
}

func (w *Writer) line(op byte, s string) *Writer {
	w.b.WriteByte(op)
	w.b.WriteString(s)
	w.b.WriteByte('\n')
	return w
}

func le(n uint64, size int) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, n)
	return b[:size]
}

// ProtoOp appends a PROTO opcode (anywhere in the stream).
func (w *Writer) ProtoOp(v byte) *Writer { return w.Op(Proto, v) }

// FrameOp appends a FRAME opcode declaring n bytes.
func (w *Writer) FrameOp(n uint64) *Writer { return w.Op(Frame, le(n, 8)...) }

// Mark appends MARK.
func (w *Writer) Mark() *Writer { return w.Op(Mark) }

// Stop appends STOP.
func (w *Writer) Stop() *Writer { return w.Op(Stop) }

// Pop appends POP.
func (w *Writer) Pop() *Writer { return w.Op(Pop) }

// PopMark appends POP_MARK.
func (w *Writer) PopMark() *Writer { return w.Op(PopMark) }

// Dup appends DUP.
func (w *Writer) Dup() *Writer { return w.Op(Dup) }

// None appends NONE.
func (w *Writer) None() *Writer { return w.Op(None) }

// Bool appends NEWTRUE/NEWFALSE (protocol 2+) or INT 01/00.
func (w *Writer) Bool(v bool) *Writer {
	switch {
	case w.proto >= 2 && v:
		return w.Op(NewTrue)
	case w.proto >= 2:
		return w.Op(NewFalse)
	case v:
		return w.line(Int, "01")
	}
	return w.line(Int, "00")
}

// Int appends an integer the way the pickler would: INT at protocol 0,
// else BININT1, BININT2, BININT or LONG1.
func (w *Writer) Int(n int64) *Writer {
	switch {
	case w.proto == 0:
		return w.line(Int, strconv.FormatInt(n, 10))
	case n >= 0 && n < 256:
		return w.Op(BinInt1, byte(n))
	case n >= 0 && n < 65536:
		return w.Op(BinInt2, le(uint64(n), 2)...)
	case n >= math.MinInt32 && n <= math.MaxInt32:
		return w.Op(BinInt, le(uint64(uint32(int32(n))), 4)...)
	}
	return w.BigInt(big.NewInt(n))
}

// BigInt appends LONG (protocol 0-1) or LONG1/LONG4.
func (w *Writer) BigInt(n *big.Int) *Writer {
	if w.proto < 2 {
		return w.line(Long, n.String()+"L")
	}
	b := twosComplement(n)
	if len(b) < 256 {
		return w.Op(Long1, byte(len(b))).Raw(b...)
	}
	return w.Op(Long4, le(uint64(len(b)), 4)...).Raw(b...)
}

// twosComplement returns n little-endian in the fewest bytes.
func twosComplement(n *big.Int) []byte {
	if n.Sign() == 0 {
		return nil
	}
	nb := n.BitLen()/8 + 1
	m := new(big.Int).Set(n)
	if n.Sign() < 0 {
		m.Add(m, new(big.Int).Lsh(big.NewInt(1), uint(nb*8)))
	}
	be := m.FillBytes(make([]byte, nb))
	out := make([]byte, nb)
	for i := range be {
		out[i] = be[nb-1-i]
	}
	// Drop redundant sign bytes.
	for len(out) > 1 {
		last, prev := out[len(out)-1], out[len(out)-2]
		if (last == 0 && prev < 0x80) || (last == 0xff && prev >= 0x80) {
			out = out[:len(out)-1]
			continue
		}
		break
	}
	return out
}

// Float appends FLOAT (protocol 0) or BINFLOAT.
func (w *Writer) Float(f float64) *Writer {
	if w.proto == 0 {
		return w.line(Float, strconv.FormatFloat(f, 'g', -1, 64))
	}
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, math.Float64bits(f))
	return w.Op(BinFloat, b...)
}

// Str appends a str the way the pickler would: UNICODE at protocol 0,
// BINUNICODE at 1-3, SHORT_BINUNICODE or BINUNICODE (BINUNICODE8 past
// 4 GiB) at 4-5.
func (w *Writer) Str(s string) *Writer {
	switch {
	case w.proto == 0:
		return w.UnicodeLine(s)
	case w.proto >= 4 && len(s) < 256:
		return w.ShortBinUnicode(s)
	}
	return w.BinUnicode(s)
}

// UnicodeLine appends UNICODE with raw-unicode-escape encoding.
func (w *Writer) UnicodeLine(s string) *Writer {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '\n' || r == '\r' || r == 0 || r > 0xff:
			if r > 0xffff {
				fmt.Fprintf(&b, "\\U%08x", r)
			} else {
				fmt.Fprintf(&b, "\\u%04x", r)
			}
		default:
			b.WriteByte(byte(r)) // Latin-1
		}
	}
	return w.line(Unicode, b.String())
}

// StringLine appends STRING with a quoted, escaped argument.
func (w *Writer) StringLine(s string) *Writer {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return w.line(String, b.String())
}

// BinUnicode appends BINUNICODE.
func (w *Writer) BinUnicode(s string) *Writer {
	return w.Op(BinUnicode, le(uint64(len(s)), 4)...).Raw([]byte(s)...)
}

// ShortBinUnicode appends SHORT_BINUNICODE (len(s) < 256).
func (w *Writer) ShortBinUnicode(s string) *Writer {
	return w.Op(ShortBinUni, byte(len(s))).Raw([]byte(s)...)
}

// BinUnicode8 appends BINUNICODE8.
func (w *Writer) BinUnicode8(s string) *Writer {
	return w.Op(BinUnicode8, le(uint64(len(s)), 8)...).Raw([]byte(s)...)
}

// BinString appends BINSTRING (Python 2 str).
func (w *Writer) BinString(s string) *Writer {
	return w.Op(BinString, le(uint64(len(s)), 4)...).Raw([]byte(s)...)
}

// ShortBinString appends SHORT_BINSTRING (len(s) < 256).
func (w *Writer) ShortBinString(s string) *Writer {
	return w.Op(ShortBinString, byte(len(s))).Raw([]byte(s)...)
}

// BytesVal appends bytes the way the pickler would: SHORT_BINBYTES or
// BINBYTES (BINBYTES8 past 4 GiB) at protocol 3+, _codecs.encode(str,
// "latin1") below.
func (w *Writer) BytesVal(b []byte) *Writer {
	switch {
	case w.proto < 3:
		var s strings.Builder
		for _, c := range b {
			s.WriteRune(rune(c))
		}
		return w.Call("_codecs", "encode", S(s.String()), S("latin1"))
	case len(b) < 256:
		return w.Op(ShortBinBytes, byte(len(b))).Raw(b...)
	case uint64(len(b)) <= math.MaxUint32:
		return w.Op(BinBytes, le(uint64(len(b)), 4)...).Raw(b...)
	}
	return w.Op(BinBytes8, le(uint64(len(b)), 8)...).Raw(b...)
}

// BinBytesHeader appends BINBYTES declaring n bytes without the payload
// (for truncation tests and for streaming large payloads with Raw).
func (w *Writer) BinBytesHeader(n uint32) *Writer { return w.Op(BinBytes, le(uint64(n), 4)...) }

// ByteArray8 appends BYTEARRAY8.
func (w *Writer) ByteArray8(b []byte) *Writer {
	return w.Op(ByteArray8, le(uint64(len(b)), 8)...).Raw(b...)
}

// Global appends GLOBAL module name.
func (w *Writer) Global(module, name string) *Writer {
	w.b.WriteByte(Global)
	w.b.WriteString(module + "\n" + name + "\n")
	return w
}

// StackGlobal pushes module and name as strings and appends STACK_GLOBAL,
// the way protocol 4 pickles write a global.
func (w *Writer) StackGlobal(module, name string) *Writer {
	return w.Str(module).Memo().Str(name).Memo().Op(StackGlobal)
}

// GlobalAuto writes a global the way the pickler would for the protocol:
// STACK_GLOBAL at 4+, GLOBAL below.
func (w *Writer) GlobalAuto(module, name string) *Writer {
	if w.proto >= 4 {
		return w.StackGlobal(module, name)
	}
	return w.Global(module, name)
}

// Inst appends INST module name (the arguments follow a MARK).
func (w *Writer) Inst(module, name string) *Writer {
	w.b.WriteByte(Inst)
	w.b.WriteString(module + "\n" + name + "\n")
	return w
}

// Memo stores the top of the stack in the next memo slot the way the
// pickler would (MEMOIZE at 4+, BINPUT/LONG_BINPUT at 1-3, PUT at 0).
func (w *Writer) Memo() *Writer {
	w.PutAuto()
	return w
}

// PutAuto is Memo returning the index used.
func (w *Writer) PutAuto() int {
	i := w.memo
	w.memo++
	if w.proto >= 4 {
		w.Op(Memoize)
		return i
	}
	w.PutAt(i)
	return i
}

// PutAt stores the top of the stack at memo index i (PUT at protocol 0,
// else BINPUT or LONG_BINPUT).
func (w *Writer) PutAt(i int) *Writer {
	switch {
	case w.proto == 0:
		return w.line(Put, strconv.Itoa(i))
	case i < 256:
		return w.Op(BinPut, byte(i))
	}
	return w.Op(LongBinPut, le(uint64(i), 4)...)
}

// MemoizeOp appends MEMOIZE (and advances the writer's memo index).
func (w *Writer) MemoizeOp() *Writer { w.memo++; return w.Op(Memoize) }

// GetAt pushes memo index i (GET at protocol 0, else BINGET or
// LONG_BINGET).
func (w *Writer) GetAt(i int) *Writer {
	switch {
	case w.proto == 0:
		return w.line(Get, strconv.Itoa(i))
	case i < 256:
		return w.Op(BinGet, byte(i))
	}
	return w.Op(LongBinGet, le(uint64(i), 4)...)
}

// EmptyTuple appends EMPTY_TUPLE.
func (w *Writer) EmptyTuple() *Writer { return w.Op(EmptyTuple) }

// Tuple appends TUPLE (items since the last MARK).
func (w *Writer) Tuple() *Writer { return w.Op(Tuple) }

// Tuple1 appends TUPLE1.
func (w *Writer) Tuple1() *Writer { return w.Op(Tuple1) }

// Tuple2 appends TUPLE2.
func (w *Writer) Tuple2() *Writer { return w.Op(Tuple2) }

// Tuple3 appends TUPLE3.
func (w *Writer) Tuple3() *Writer { return w.Op(Tuple3) }

// EmptyList appends EMPTY_LIST.
func (w *Writer) EmptyList() *Writer { return w.Op(EmptyList) }

// List appends LIST (items since the last MARK).
func (w *Writer) List() *Writer { return w.Op(List) }

// Append appends APPEND.
func (w *Writer) Append() *Writer { return w.Op(Append) }

// Appends appends APPENDS.
func (w *Writer) Appends() *Writer { return w.Op(Appends) }

// EmptyDict appends EMPTY_DICT.
func (w *Writer) EmptyDict() *Writer { return w.Op(EmptyDict) }

// Dict appends DICT (key, value pairs since the last MARK).
func (w *Writer) Dict() *Writer { return w.Op(Dict) }

// SetItem appends SETITEM.
func (w *Writer) SetItem() *Writer { return w.Op(SetItem) }

// SetItems appends SETITEMS.
func (w *Writer) SetItems() *Writer { return w.Op(SetItems) }

// EmptySet appends EMPTY_SET.
func (w *Writer) EmptySet() *Writer { return w.Op(EmptySet) }

// AddItems appends ADDITEMS.
func (w *Writer) AddItems() *Writer { return w.Op(AddItems) }

// FrozenSet appends FROZENSET.
func (w *Writer) FrozenSet() *Writer { return w.Op(FrozenSet) }

// Reduce appends REDUCE.
func (w *Writer) Reduce() *Writer { return w.Op(Reduce) }

// Build appends BUILD.
func (w *Writer) Build() *Writer { return w.Op(Build) }

// NewObj appends NEWOBJ.
func (w *Writer) NewObj() *Writer { return w.Op(NewObj) }

// NewObjEx appends NEWOBJ_EX.
func (w *Writer) NewObjEx() *Writer { return w.Op(NewObjEx) }

// ObjOp appends OBJ.
func (w *Writer) ObjOp() *Writer { return w.Op(Obj) }

// PersIDLine appends PERSID with a protocol 0 id.
func (w *Writer) PersIDLine(id string) *Writer { return w.line(PersID, id) }

// BinPersIDOp appends BINPERSID.
func (w *Writer) BinPersIDOp() *Writer { return w.Op(BinPersID) }

// Ext appends EXT1, EXT2 or EXT4 for the extension code.
func (w *Writer) Ext(code uint32) *Writer {
	switch {
	case code < 256:
		return w.Op(Ext1, byte(code))
	case code < 65536:
		return w.Op(Ext2, le(uint64(code), 2)...)
	}
	return w.Op(Ext4, le(uint64(code), 4)...)
}

// NextBufferOp appends NEXT_BUFFER.
func (w *Writer) NextBufferOp() *Writer { return w.Op(NextBuffer) }

// ReadOnlyBufferOp appends READONLY_BUFFER.
func (w *Writer) ReadOnlyBufferOp() *Writer { return w.Op(ReadOnlyBuffer) }

// Call writes module.name(*args) with REDUCE, each arg written by a
// function (use Arg helpers such as S and I).
func (w *Writer) Call(module, name string, args ...func(*Writer)) *Writer {
	w.GlobalAuto(module, name)
	return w.TupleOf(args...).Reduce()
}

// TupleOf writes a tuple of the given items the way the pickler would.
func (w *Writer) TupleOf(items ...func(*Writer)) *Writer {
	if len(items) == 0 {
		return w.EmptyTuple()
	}
	if w.proto >= 2 && len(items) <= 3 {
		for _, it := range items {
			it(w)
		}
		return w.Op(byte(Tuple1 + len(items) - 1))
	}
	w.Mark()
	for _, it := range items {
		it(w)
	}
	return w.Tuple()
}

// S returns an item writer for a str.
func S(s string) func(*Writer) { return func(w *Writer) { w.Str(s) } }

// I returns an item writer for an int.
func I(n int64) func(*Writer) { return func(w *Writer) { w.Int(n) } }

// G returns an item writer for a global.
func G(module, name string) func(*Writer) { return func(w *Writer) { w.GlobalAuto(module, name) } }

// Nil returns an item writer for None.
func Nil() func(*Writer) { return func(w *Writer) { w.None() } }

// B returns an item writer for a bool.
func B(v bool) func(*Writer) { return func(w *Writer) { w.Bool(v) } }
