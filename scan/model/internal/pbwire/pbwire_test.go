package pbwire

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// message builds a message with every wire type, a nested message and a
// value longer than the Reader's window.
func message() []byte {
	var b []byte
	b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.VarintType), 300)
	b = protowire.AppendFixed32(protowire.AppendTag(b, 2, protowire.Fixed32Type), 7)
	b = protowire.AppendFixed64(protowire.AppendTag(b, 3, protowire.Fixed64Type), 9)
	inner := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "inner")
	b = protowire.AppendBytes(protowire.AppendTag(b, 4, protowire.BytesType), inner)
	b = protowire.AppendBytes(protowire.AppendTag(b, 5, protowire.BytesType), make([]byte, 3*readerWindow))
	return protowire.AppendString(protowire.AppendTag(b, 6, protowire.BytesType), "after")
}

type seen struct {
	Num      protowire.Number
	Type     protowire.Type
	Varint   uint64
	Off, Len int64
}

func collectBytes(b []byte) ([]seen, error) {
	var out []seen
	err := Each(b, 0, func(f Field) error {
		out = append(out, seen{f.Num, f.Type, f.Varint, f.Off, f.Len})
		return nil
	})
	return out, err
}

func collectReader(b []byte) ([]seen, error) {
	var out []seen
	r := NewReader(bytes.NewReader(b), int64(len(b)))
	err := r.Each(0, int64(len(b)), func(f Field) error {
		out = append(out, seen{f.Num, f.Type, f.Varint, f.Off, f.Len})
		return nil
	})
	return out, err
}

func TestEachAndReaderAgree(t *testing.T) {
	b := message()
	want := []seen{
		{1, protowire.VarintType, 300, 1, 0},
		{2, protowire.Fixed32Type, 7, 4, 0},
		{3, protowire.Fixed64Type, 9, 9, 0},
	}
	got, err := collectBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got[:3], want) || len(got) != 6 || got[5].Num != 6 || got[4].Len != 3*readerWindow {
		t.Fatalf("Each: %+v", got)
	}
	rgot, err := collectReader(b)
	if err != nil || !slices.Equal(got, rgot) {
		t.Fatalf("Reader.Each differs (%v):\n%+v\n%+v", err, got, rgot)
	}
	r := NewReader(bytes.NewReader(b), int64(len(b)))
	v, err := r.ReadBytes(Field{Num: 6, Off: got[5].Off, Len: got[5].Len}, 10)
	if err != nil || string(v) != "after" {
		t.Fatalf("ReadBytes = %q, %v", v, err)
	}
	if _, err := r.ReadBytes(Field{Num: 5, Off: got[4].Off, Len: got[4].Len}, 10); err == nil {
		t.Fatal("ReadBytes read past its limit")
	}
}

func TestMalformed(t *testing.T) {
	huge := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.BytesType), 1<<62)
	for name, in := range map[string][]byte{
		"declared length 2^62": huge,
		"truncated varint":     {0x08, 0xff},
		"field number zero":    {0x00, 0x01},
		"group":                {0x0b, 0x0c},
		"bad wire type":        {0x0e},
	} {
		t.Run(name, func(t *testing.T) {
			var pe *Error
			if _, err := collectReader(in); !errors.As(err, &pe) {
				t.Errorf("Reader: want *Error, got %v", err)
			}
			if name == "group" {
				return // Each skips groups
			}
			if _, err := collectBytes(in); !errors.As(err, &pe) {
				t.Errorf("Each: want *Error, got %v", err)
			}
		})
	}
}

type failing struct{}

func (failing) ReadAt([]byte, int64) (int, error) { return 0, fmt.Errorf("boom") }

func TestIOError(t *testing.T) {
	err := NewReader(failing{}, 100).Each(0, 100, func(Field) error { return nil })
	var ioe *IOError
	if !errors.As(err, &ioe) {
		t.Fatalf("want *IOError, got %v", err)
	}
}

// FuzzReader checks the streaming Reader against the in-memory Each: same
// fields, same offsets, both fail or neither (groups aside).
func FuzzReader(f *testing.F) {
	f.Add(message()[:200])
	f.Add([]byte{0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i'})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err1 := collectBytes(b)
		rgot, err2 := collectReader(b)
		if err1 == nil && err2 == nil && !slices.Equal(got, rgot) {
			t.Fatalf("differ:\n%+v\n%+v", got, rgot)
		}
		if err1 != nil && err2 == nil {
			t.Fatalf("Each failed (%v), Reader did not", err1)
		}
		if err2 != nil && err1 == nil {
			// Each skips groups, which the Reader refuses; up to there
			// both saw the same fields.
			var pe *Error
			if !errors.As(err2, &pe) || !strings.Contains(pe.Err.Error(), "wire type") ||
				len(rgot) > len(got) || !slices.Equal(rgot, got[:len(rgot)]) {
				t.Fatalf("Reader failed (%v), Each did not: %+v", err2, got)
			}
		}
	})
}
