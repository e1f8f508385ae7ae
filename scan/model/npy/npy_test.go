package npy_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/npy"
)

// file builds a .npy file of the given version with a header dict
// literal, padded as NumPy pads it, followed by data.
func file(major byte, dict string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString(npy.Magic)
	b.WriteByte(major)
	b.WriteByte(0)
	pre := 10
	if major > 1 {
		pre = 12
	}
	h := dict
	for (pre+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(h)))
	}
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func parse(t *testing.T, b []byte) (*npy.Header, []finding.Finding) {
	t.Helper()
	h, fs, err := npy.Parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return h, fs
}

func ruleIDs(fs []finding.Finding) []string {
	var s []string
	for _, f := range fs {
		s = append(s, f.RuleID)
	}
	return s
}

func TestParse(t *testing.T) {
	cases := []struct {
		name     string
		data     []byte
		object   bool
		itemsize int64
		shape    []int64
		rule     *finding.Rule // the one finding expected, or nil
	}{
		{"float64 v1", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", make([]byte, 24)), false, 8, []int64{3}, nil},
		{"int32 2-D v2", file(2, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", make([]byte, 24)), false, 4, []int64{2, 3}, nil},
		{"unicode v3", file(3, "{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", make([]byte, 40)), false, 20, []int64{2}, nil},
		{"scalar", file(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }", []byte{1}), false, 1, nil, nil},
		{"datetime", file(1, "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), false, 8, []int64{1}, nil},
		{"object", file(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", []byte{0x80, 2, 'N', '.'}), true, 8, []int64{2}, npy.RuleObjectArray},
		{"structured with object field", file(1, "{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }", []byte{'.'}), true, 12, []int64{1}, npy.RuleObjectArray},
		{"structured", file(1, "{'descr': [('a', '<i4'), ('b', '<f8', (2, 2))], 'fortran_order': False, 'shape': (2,), }", make([]byte, 72)), false, 36, []int64{2}, nil},
		{"truncated data", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", make([]byte, 16)), false, 8, []int64{3}, npy.RuleTruncated},
		{"trailing data", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 16)), false, 8, []int64{1}, npy.RuleTrailing},
		{"huge shape", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", nil), false, 8, []int64{1000000000000}, npy.RuleTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, fs := parse(t, c.data)
			if h == nil {
				t.Fatalf("no header; findings %v", fs)
			}
			if h.HasObject != c.object || h.ItemSize != c.itemsize || len(h.Shape) != len(c.shape) {
				t.Errorf("header %+v, want object=%v itemsize=%d shape=%v", h, c.object, c.itemsize, c.shape)
			}
			for i := range c.shape {
				if h.Shape[i] != c.shape[i] {
					t.Errorf("shape %v, want %v", h.Shape, c.shape)
				}
			}
			if c.object && h.DataOffset%64 != 0 {
				t.Errorf("data offset %d not aligned", h.DataOffset)
			}
			switch {
			case c.rule == nil && len(fs) > 0:
				t.Errorf("unexpected findings %v", ruleIDs(fs))
			case c.rule != nil && (len(fs) != 1 || fs[0].RuleID != c.rule.ID):
				t.Errorf("findings %v, want [%s]", ruleIDs(fs), c.rule.ID)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"short", []byte("\x93NUM"), "too short"},
		{"magic", []byte("\x93NUMPZ\x01\x00\x10\x00{}                "), "magic"},
		{"version", file(4, "{}", nil), "version"},
		{"header past end", []byte("\x93NUMPY\x01\x00\xff\x00{'descr'"), "past the end"},
		{"header too long", append([]byte("\x93NUMPY\x02\x00\x00\x00\x10\x00"), make([]byte, 1<<20+10)...), "exceeds"},
		{"not a dict", file(1, "['descr']", nil), "not a dict"},
		{"missing key", file(1, "{'descr': '<f8', 'shape': (1,)}", nil), "keys"},
		{"bad descr", file(1, "{'descr': '<q9', 'fortran_order': False, 'shape': (1,)}", nil), "descr"},
		{"negative shape", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", nil), "non-negative"},
		{"shape overflow", file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", nil), "overflows"},
		{"syntax", file(1, "{'descr': '<f8', 'fortran_order': Fals, 'shape': (1,)}", nil), "header"},
		{"deep nesting", file(1, "{'descr': "+strings.Repeat("[", 100)+"}", nil), "deeply"},
		{"non-ASCII in v1", file(1, "{'descr': '<f8\xff', 'fortran_order': False, 'shape': (1,)}", nil), "non-ASCII"},
		{"duplicate key", file(1, "{'descr': '<f8', 'descr': '<f8', 'shape': (1,)}", nil), "duplicate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, fs := parse(t, c.data)
			if h != nil {
				t.Fatalf("header %+v for a malformed file", h)
			}
			if len(fs) != 1 || fs[0].RuleID != npy.RuleMalformed.ID || !strings.Contains(fs[0].Message, c.msg) {
				t.Errorf("findings %+v, want one malformed mentioning %q", fs, c.msg)
			}
		})
	}
}

// TestPicklescanFiles parses the NumPy files of picklescan's fixtures.
func TestPicklescanFiles(t *testing.T) {
	for _, c := range []struct {
		file   string
		object bool
	}{
		{"../pickle/testdata/picklescan/files/data2/int_array.npy", false},
		{"../pickle/testdata/picklescan/files/data2/object_array.npy", true},
		{"../pickle/testdata/picklescan/files/data2/dns_exfiltration.npy", true},
	} {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		h, fs := parse(t, b)
		if h == nil || h.HasObject != c.object {
			t.Errorf("%s: header %+v findings %v", c.file, h, ruleIDs(fs))
		}
	}
}

type failAt struct{}

func (failAt) ReadAt(p []byte, off int64) (int, error) { return 0, errors.New("boom") }

func TestReadError(t *testing.T) {
	if _, _, err := npy.Parse(failAt{}, 100); err == nil {
		t.Error("want an error")
	}
}

func FuzzParseNPY(f *testing.F) {
	f.Add(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", make([]byte, 24)))
	f.Add(file(1, "{'descr': [('a', '<i4'), ('b', '|O', (2,))], 'fortran_order': False, 'shape': (1,), }", []byte{'.'}))
	f.Add(file(3, "{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", make([]byte, 40)))
	for _, p := range []string{"int_array.npy", "object_array.npy", "dns_exfiltration.npy"} {
		if b, err := os.ReadFile("../pickle/testdata/picklescan/files/data2/" + p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, fs, err := npy.Parse(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("error on in-memory input: %v", err)
		}
		if h == nil && len(fs) == 0 {
			t.Fatal("no header and no finding")
		}
		if h != nil && (h.DataOffset > int64(len(b)) || h.ItemSize < 0) {
			t.Fatalf("header %+v out of bounds for %d bytes", h, len(b))
		}
	})
}
