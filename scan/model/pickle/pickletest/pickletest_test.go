package pickletest

import (
	"bytes"
	"math"
	"math/big"
	"testing"
)

// TestEncodings checks the writer against the bytes CPython's pickler
// produces for the same values (taken from the pickle protocol as
// documented in pickletools).
func TestEncodings(t *testing.T) {
	two64, _ := new(big.Int).SetString("18446744073709551616", 10)
	cases := []struct {
		name string
		w    *Writer
		want string
	}{
		{"int 1 p2", New(2).Int(1).Stop(), "\x80\x02K\x01."},
		{"int 300 p2", New(2).Int(300).Stop(), "\x80\x02M\x2c\x01."},
		{"int -1 p2", New(2).Int(-1).Stop(), "\x80\x02J\xff\xff\xff\xff."},
		{"int 2^40 p2", New(2).Int(1 << 40).Stop(), "\x80\x02\x8a\x06\x00\x00\x00\x00\x00\x01."},
		{"int 255 as long", New(2).BigInt(big.NewInt(255)).Stop(), "\x80\x02\x8a\x02\xff\x00."},
		{"int -2^63 as long", New(2).BigInt(big.NewInt(math.MinInt64)).Stop(), "\x80\x02\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80."},
		{"int 2^64 p2", New(2).BigInt(two64).Stop(), "\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."},
		{"int p0", New(0).Int(-5).Stop(), "I-5\n."},
		{"bool p0", New(0).Bool(true).Stop(), "I01\n."},
		{"str p0", New(0).Str("a\\b\n").Stop(), "Va\\u005cb\\u000a\n."},
		{"str p0 latin-1", New(0).Str("é").Stop(), "V\xe9\n."},
		{"str p2", New(2).Str("ab").Stop(), "\x80\x02X\x02\x00\x00\x00ab."},
		{"str p4", New(4).Str("ab").Stop(), "\x80\x04\x8c\x02ab."},
		{"STRING", New(0).StringLine("it's\n").Stop(), "S'it\\'s\\x0a'\n."},
		{"bytes p3", New(3).BytesVal([]byte{1, 2}).Stop(), "\x80\x03C\x02\x01\x02."},
		{"bytes p2", New(2).BytesVal([]byte{0xff}).Stop(), "\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R."},
		{"float p2", New(2).Float(1.5).Stop(), "\x80\x02G\x3f\xf8\x00\x00\x00\x00\x00\x00."},
		{"global p2", New(2).GlobalAuto("os", "system").Stop(), "\x80\x02cos\nsystem\n."},
		{"global p4", New(4).GlobalAuto("os", "system").Stop(), "\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93."},
		{"memo p1", New(1).None().Memo().GetAt(0).GetAt(300).Stop(), "Nq\x00h\x00j\x2c\x01\x00\x00."},
		{"memo p0", New(0).None().Memo().GetAt(0).Stop(), "Np0\ng0\n."},
		{"tuple p2", New(2).TupleOf(I(1), I(2)).Stop(), "\x80\x02K\x01K\x02\x86."},
		{"tuple p1", New(1).TupleOf(I(1), I(2)).Stop(), "(K\x01K\x02t."},
		{"ext", New(2).Ext(1).Ext(300).Ext(70000).Stop(), "\x80\x02\x82\x01\x83\x2c\x01\x84\x70\x11\x01\x00."},
		{"frame", New(4).FrameOp(3).None().Stop(), "\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00N."},
	}
	for _, c := range cases {
		if got := c.w.Bytes(); !bytes.Equal(got, []byte(c.want)) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestTorchLegacyLayout checks the legacy layout: five pickles, then per
// storage an int64 element count and the data.
func TestTorchLegacyLayout(t *testing.T) {
	b := TorchLegacy([]Tensor{{Name: "w", Shape: []int64{2, 3}}}, func(int) []byte { return []byte{9} })
	if !bytes.HasPrefix(b, []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.")) {
		t.Errorf("magic pickle: %q", b[:16])
	}
	tail := b[len(b)-8-24:]
	if !bytes.Equal(tail[:9], []byte{6, 0, 0, 0, 0, 0, 0, 0, 9}) {
		t.Errorf("storage header %q", tail[:9])
	}
}
