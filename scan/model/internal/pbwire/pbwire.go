// Package pbwire walks protocol buffer messages field by field without
// generated code, for scanners that read hostile model files (TensorFlow
// SavedModel, ONNX). It never allocates what a length prefix declares: every
// field value is a sub-slice of the message it was read from.
package pbwire

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field is one field of a message.
type Field struct {
	Num  protowire.Number
	Type protowire.Type
	// Varint holds the value of a varint, fixed32 or fixed64 field.
	Varint uint64
	// Bytes holds the value of a length-delimited field (a sub-slice of the
	// message); Reader.Each leaves it nil.
	Bytes []byte
	// Len is the length of a length-delimited field's value.
	Len int64
	// Off is the absolute byte offset of the field's value.
	Off int64
}

// Error is malformed wire data at a byte offset.
type Error struct {
	Off int64
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("malformed protobuf at byte %d: %v", e.Off, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Each calls fn for every field of msg, whose first byte is at absolute
// offset base: the in-memory counterpart of Reader.Each (which the scanners
// use), kept as its reference in the differential fuzz test. It stops at the first error fn returns, or with an *Error at
// the first malformed field.
func Each(msg []byte, base int64, fn func(Field) error) error {
	pos := 0
	for pos < len(msg) {
		num, typ, n := protowire.ConsumeTag(msg[pos:])
		if n < 0 {
			return &Error{base + int64(pos), protowire.ParseError(n)}
		}
		if num <= 0 {
			return &Error{base + int64(pos), fmt.Errorf("field number %d", num)}
		}
		pos += n
		f := Field{Num: num, Type: typ, Off: base + int64(pos)}
		switch typ {
		case protowire.VarintType:
			f.Varint, n = protowire.ConsumeVarint(msg[pos:])
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(msg[pos:])
			f.Varint = uint64(v)
		case protowire.Fixed64Type:
			f.Varint, n = protowire.ConsumeFixed64(msg[pos:])
		case protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(msg[pos:])
			if n >= 0 {
				f.Off = base + int64(pos+n-len(v))
				f.Bytes = v
				f.Len = int64(len(v))
			}
		default:
			// Groups (deprecated) and invalid types: skip the value.
			n = protowire.ConsumeFieldValue(num, typ, msg[pos:])
		}
		if n < 0 {
			return &Error{base + int64(pos), fmt.Errorf("field %d: %w", num, protowire.ParseError(n))}
		}
		pos += n
		if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			continue
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// Reader walks messages of a file through an io.ReaderAt, reading only the
// tags and lengths, so that large values (tensor data) are skipped without
// being read. It keeps one window of the file in memory.
type Reader struct {
	r      io.ReaderAt
	size   int64
	win    []byte
	winOff int64
	buf    []byte
}

// readerWindow is the size of the window a Reader keeps.
const readerWindow = 64 << 10

// NewReader returns a Reader of the size bytes of r.
func NewReader(r io.ReaderAt, size int64) *Reader {
	return &Reader{r: r, size: size, buf: make([]byte, min(readerWindow, max(size, 0)))}
}

// Size returns the size of the file.
func (r *Reader) Size() int64 { return r.size }

// IOError is a failure of the underlying io.ReaderAt.
type IOError struct{ Err error }

func (e *IOError) Error() string { return "reading: " + e.Err.Error() }
func (e *IOError) Unwrap() error { return e.Err }

// window returns the bytes of the file from pos up to at most end,
// refilling the window when fewer than need bytes are cached.
func (r *Reader) window(pos, end int64, need int) ([]byte, error) {
	have := r.winOff + int64(len(r.win))
	if pos < r.winOff || pos+int64(need) > have && have < r.size {
		n := min(int64(len(r.buf)), r.size-pos)
		if n < 0 {
			n = 0
		}
		b := r.buf[:n]
		if _, err := r.r.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, &IOError{fmt.Errorf("at byte %d: %w", pos, err)}
		}
		r.win, r.winOff = b, pos // no slice of the window leaves the Reader
	}
	w := r.win[pos-r.winOff:]
	if lim := end - pos; int64(len(w)) > lim {
		w = w[:lim]
	}
	return w, nil
}

// Each calls fn for every field of the message that occupies bytes
// [start, end) of the file. Length-delimited fields carry Off and Len, not
// Bytes; read them with ReadBytes or walk them with Each. Every declared
// length is checked against end before anything else happens.
func (r *Reader) Each(start, end int64, fn func(Field) error) error {
	if start < 0 || end > r.size || start > end {
		return &Error{start, fmt.Errorf("message [%d, %d) outside the %d-byte file", start, end, r.size)}
	}
	pos := start
	for pos < end {
		w, err := r.window(pos, end, 2*binaryMaxVarint)
		if err != nil {
			return err
		}
		num, typ, n := protowire.ConsumeTag(w)
		if n < 0 {
			return &Error{pos, protowire.ParseError(n)}
		}
		if num <= 0 {
			return &Error{pos, fmt.Errorf("field number %d", num)}
		}
		w = w[n:]
		pos += int64(n)
		f := Field{Num: num, Type: typ, Off: pos}
		switch typ {
		case protowire.VarintType:
			f.Varint, n = protowire.ConsumeVarint(w)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(w)
			f.Varint = uint64(v)
		case protowire.Fixed64Type:
			f.Varint, n = protowire.ConsumeFixed64(w)
		case protowire.BytesType:
			var l uint64
			l, n = protowire.ConsumeVarint(w)
			if n >= 0 {
				if l > uint64(end-pos-int64(n)) {
					return &Error{pos, fmt.Errorf("field %d declares %d bytes, past the end of its message at byte %d", num, l, end)}
				}
				f.Off, f.Len = pos+int64(n), int64(l)
				n += int(l)
			}
		default:
			return &Error{pos, fmt.Errorf("field %d has unsupported wire type %d", num, typ)}
		}
		if n < 0 {
			return &Error{pos, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))}
		}
		pos += int64(n)
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// binaryMaxVarint is the longest varint.
const binaryMaxVarint = 10

// ReadBytes reads the value of a length-delimited field, refusing values
// longer than max.
func (r *Reader) ReadBytes(f Field, max int64) ([]byte, error) {
	if f.Len > max {
		return nil, &Error{f.Off, fmt.Errorf("field %d of %d bytes is longer than the %d-byte limit", f.Num, f.Len, max)}
	}
	if f.Off < 0 || f.Off+f.Len > r.size {
		return nil, &Error{f.Off, fmt.Errorf("field %d runs past the end of the file", f.Num)}
	}
	b := make([]byte, f.Len)
	if _, err := r.r.ReadAt(b, f.Off); err != nil && !errors.Is(err, io.EOF) {
		return nil, &IOError{fmt.Errorf("at byte %d: %w", f.Off, err)}
	}
	return b, nil
}
