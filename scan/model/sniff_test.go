package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/scan/model/archive"
	"github.com/rampartsec/rampart/scan/model/internal/fixtures"
	"github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

func TestSniff(t *testing.T) {
	zlibHead := []byte{0x78, 0x9c, 0x6b, 0x60, 0x99, 0x5a, 0xcc, 0xc0, 0x00, 0x00}
	st := binary.LittleEndian.AppendUint64(nil, 20)
	st = append(st, `{"a":{"dtype":"F32"}}`...)
	for _, c := range []struct {
		name string
		head []byte
		size int64
		want Format
		arch archive.Format
	}{
		{"zip", []byte("PK\x03\x04rest"), 100, Archive, archive.Zip},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), 100, Archive, archive.SevenZip},
		{"gzip", []byte("\x1f\x8b\x08\x00"), 100, Archive, archive.Gzip},
		{"pickle p2", []byte("\x80\x02}q\x00."), 6, Pickle, 0},
		{"pickle p5", []byte("\x80\x05\x95\x10"), 6, Pickle, 0},
		{"not pickle p9", []byte("\x80\x09\x95\x10"), 6, Unknown, 0},
		{"pickle p0 is probed, not sniffed", []byte("(S'raise'\ni__builtin__\nexec\n."), 30, Unknown, 0},
		{"zlib", zlibHead, 10, Zlib, 0},
		{"zlib header check alone is not zlib", []byte("(S'x'\n."), 7, Unknown, 0},
		{"npy", []byte("\x93NUMPY\x01\x00v\x00"), 200, NPY, 0},
		{"gguf", []byte("GGUF\x03\x00\x00\x00"), 200, GGUF, 0},
		{"hdf5", []byte("\x89HDF\r\n\x1a\n\x00"), 2000, HDF5, 0},
		{"safetensors", st, int64(len(st)) + 16, Safetensors, 0},
		{"safetensors header longer than file", st, 20, Unknown, 0},
		{"json object", []byte(" {\"chat_template\": \"x\"}"), 23, JSON, 0},
		{"json array", []byte("[1, 2]"), 6, JSON, 0},
		{"text", []byte("hello world"), 11, Unknown, 0},
		{"onnx", fixtures.BenignONNX().Bytes(), -1, ONNX, 0},
		{"savedmodel", fixtures.SavedModel(fixtures.BenignTFGraph()), -1, SavedModel, 0},
		{"empty", nil, 0, Unknown, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			head := c.head
			if len(head) > sniffLen {
				head = head[:sniffLen]
			}
			size := c.size
			if size < 0 {
				size = int64(len(c.head))
			}
			got, arch := Sniff(head, size)
			if got != c.want || got == Archive && arch != c.arch {
				t.Errorf("Sniff = %v/%v, want %v/%v", got, arch, c.want, c.arch)
			}
		})
	}
}

// scanBytes runs the scanner on one in-memory file.
func scanBytes(t testing.TB, name string, b []byte) *scanner {
	s := &scanner{ctx: context.Background(), opts: Options{}.withDefaults()}
	s.budget = s.opts.MaxFiles
	s.piece(&piece{name: name, r: bytes.NewReader(b), size: int64(len(b)), lim: s.limits()})
	return s
}

func TestProbe(t *testing.T) {
	for _, c := range []struct {
		name    string
		data    []byte
		pickled bool // some finding comes from the pickle analyser
	}{
		{"python source", []byte("import os\nos.system('id')\n"), false},
		{"prose", []byte("c is a letter\nand so is d\n"), false},
		{"protocol 0 payload", pickletest.New(0).Call("os", "system", pickletest.S("id")).Stop().Bytes(), true},
		{"protocol 0 payload without STOP", pickletest.New(0).Call("os", "system", pickletest.S("id")).Bytes(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := scanBytes(t, "x", c.data)
			got := false
			for _, f := range s.findings {
				if f.Detector == "model.pickle" {
					got = true
				}
			}
			if got != c.pickled {
				t.Errorf("pickle findings: %v, want %v (%v)", got, c.pickled, s.findings)
			}
		})
	}
}

// FuzzScanBytes: the whole scanner, on any bytes under any model name,
// never panics and reports only valid findings.
func FuzzScanBytes(f *testing.F) {
	f.Add("model.pt", pickletest.TorchDataPkl([]pickletest.Tensor{{Name: "w", Shape: []int64{2}}}))
	f.Add("x.npy", []byte("\x93NUMPY\x01\x00\x10\x00{'descr': '|O'}\n\x80\x02."))
	f.Add("a.zip", []byte("PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add("c.json", []byte(`{"chat_template": "{{ x.__class__ }}", "auto_map": {"AutoModel": "m.M"}}`))
	f.Add("z", []byte{0x78, 0x9c, 0x6b, 0x60, 0x99, 0x5a, 0xcc, 0xc0, 0x00, 0x00})
	f.Add("m.onnx", fixtures.BenignONNX().Bytes())
	for _, name := range []string{"evil-blocks.pkl.xz", "evil.pkl.lzma", "evil.pkl.zst", "evil.pkl.lz4"} {
		b, err := os.ReadFile(filepath.Join("archive", "testdata", "compressed", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, b)
	}
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		s := scanBytes(t, name, b)
		for _, fd := range s.findings {
			if fd.RuleID == "" || fd.Location.Offset < 0 {
				t.Fatalf("invalid finding %+v", fd)
			}
		}
	})
}
