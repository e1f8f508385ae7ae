package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/rampartsec/rampart/finding"
)

// evilPickle and evilBig are the contents of testdata/compressed (see
// testdata/SOURCE.md): hand-written pickles that call os.system.
var evilPickle = []byte("\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.")

func evilBig() []byte {
	pad := bytes.Repeat([]byte("tensor weights "), 200)
	b := []byte("\x80\x02X")
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pad)))
	b = append(b, pad...)
	b = append(b, '0')
	return append(b, evilPickle[2:]...)
}

// sniffStream is the format Walk would give b.
func sniffStream(b []byte) Format {
	f := Sniff(b)
	if f == Unknown && isZlib(b) {
		f = Zlib
	}
	if f == Unknown && IsLZMA(b) {
		f = LZMA
	}
	return f
}

func TestCompressedFiles(t *testing.T) {
	for _, c := range []struct {
		file   string
		format Format
		big    bool
	}{
		{"evil.pkl.xz", XZ, false},
		{"evil-crc32.pkl.xz", XZ, false},
		{"evil-sha256.pkl.xz", XZ, false},
		{"evil-nocheck.pkl.xz", XZ, false},
		{"evil-python.pkl.xz", XZ, false},
		{"evil-blocks.pkl.xz", XZ, true},
		{"evil.pkl.lzma", LZMA, false},
		{"evil-python.pkl.lzma", LZMA, false},
		{"evil.pkl.zst", Zstd, false},
		{"evil.pkl.lz4", LZ4, false},
		{"evil-legacy.pkl.lz4", LZ4, false},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata/compressed", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if f := sniffStream(b); f != c.format {
				t.Fatalf("format %v, want %v", f, c.format)
			}
			data, fs, err := walkStream(t, b, Limits{})
			want := evilPickle
			if c.big {
				want = evilBig()
			}
			if err != nil || !bytes.Equal(data, want) || len(fs) != 0 {
				t.Fatalf("read %q, err %v, findings %v", data, err, rules(fs))
			}
		})
	}
	t.Run("concatenated streams", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/evil-streams.pkl.xz")
		if err != nil {
			t.Fatal(err)
		}
		data, fs, err := walkStream(t, b, Limits{})
		if want := append(bytes.Clone(evilPickle), evilBig()...); err != nil || !bytes.Equal(data, want) || len(fs) != 0 {
			t.Fatalf("read %d bytes, err %v, findings %v", len(data), err, rules(fs))
		}
	})
}

// xzOf compresses b with ulikunitz/xz's writer.
func xzOf(t testing.TB, b []byte, cfg xz.WriterConfig) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := cfg.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32() % 64) // compressible, with long matches rare
	}
	return b
}

func TestXZRoundTrip(t *testing.T) {
	data := randomBytes(40_000, 1)
	for _, cfg := range []xz.WriterConfig{
		{CheckSum: xz.CRC32},
		{CheckSum: xz.CRC64, BlockSize: 4096},
		{CheckSum: xz.SHA256, BlockSize: 15_000},
		{NoCheckSum: true, DictCap: 1 << 16},
	} {
		b := xzOf(t, data, cfg)
		got, fs, err := walkStream(t, b, Limits{})
		if err != nil || !bytes.Equal(got, data) || len(fs) != 0 {
			t.Errorf("%+v: read %d of %d bytes, err %v, findings %v", cfg, len(got), len(data), err, rules(fs))
		}
	}
	var zb bytes.Buffer
	zw, err := zstd.NewWriter(&zb)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	zw.Close()
	var lb bytes.Buffer
	lw := lz4.NewWriter(&lb)
	lw.Write(data)
	lw.Close()
	for name, b := range map[string][]byte{"zstd": zb.Bytes(), "lz4": lb.Bytes()} {
		got, fs, err := walkStream(t, b, Limits{})
		if err != nil || !bytes.Equal(got, data) || len(fs) != 0 {
			t.Errorf("%s: read %d of %d bytes, err %v, findings %v", name, len(got), len(data), err, rules(fs))
		}
	}
}

// setXZDict rewrites the LZMA2 dictionary code of the block header at off
// (one filter, no sizes: the layout Python and `xz -T1` write) and its
// CRC-32.
func setXZDict(t *testing.T, b []byte, off int, code byte) []byte {
	t.Helper()
	b = bytes.Clone(b)
	size := (int(b[off]) + 1) * 4
	h := b[off : off+size]
	if h[1]&0xc3 != 0 || h[2] != lzma2FilterID || h[3] != 1 {
		t.Fatalf("unexpected block header % x", h)
	}
	h[4] = code
	binary.LittleEndian.PutUint32(h[size-4:], crc32.ChecksumIEEE(h[:size-4]))
	return b
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestXZHostile(t *testing.T) {
	good, err := os.ReadFile("testdata/compressed/evil-python.pkl.xz")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("declared 4 GiB dictionary", func(t *testing.T) {
		b := setXZDict(t, good, 12, 40)
		var data []byte
		var fs []finding.Finding
		var rerr error
		n := allocated(func() { data, fs, rerr = walkStream(t, b, Limits{}) })
		if rerr != nil || !bytes.Equal(data, evilPickle) || len(fs) != 0 {
			t.Fatalf("read %q, err %v, findings %v", data, rerr, rules(fs))
		}
		// The block's content is tiny: the dictionary is not the 4 GiB
		// the header declares, nor the 128 MiB limit.
		if n > 8<<20 {
			t.Errorf("allocated %d bytes", n)
		}
	})
	t.Run("history beyond the limit", func(t *testing.T) {
		block := randomBytes(256<<10, 2)
		b := xzOf(t, append(bytes.Clone(block), block...), xz.WriterConfig{DictCap: 1 << 20})
		data, fs, err := walkStream(t, b, Limits{MaxDictionary: 64 << 10})
		if !errors.Is(err, errDictionary) || !hasRule(fs, RuleLimit) || len(data) > 256<<10+64<<10 {
			t.Fatalf("read %d, err %v, findings %v", len(data), err, rules(fs))
		}
		// With the default limit it decodes.
		data, fs, err = walkStream(t, b, Limits{})
		if err != nil || len(data) != 512<<10 || len(fs) != 0 {
			t.Fatalf("default limit: read %d, err %v, findings %v", len(data), err, rules(fs))
		}
	})
	t.Run("bomb", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/zeros-64m.xz")
		if err != nil {
			t.Fatal(err)
		}
		data, fs, err := walkStream(t, b, Limits{})
		if !errors.Is(err, ErrLimit) || !hasRule(fs, RuleRatio) || len(data) >= 64<<20 {
			t.Fatalf("read %d, err %v, findings %v", len(data), err, rules(fs))
		}
	})
	t.Run("BCJ filter", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/evil-bcj.pkl.xz")
		if err != nil {
			t.Fatal(err)
		}
		_, fs, err := walkStream(t, b, Limits{})
		if err == nil || !hasRule(fs, RuleFilterEvasion) {
			t.Fatalf("err %v, findings %v", err, rules(fs))
		}
	})
	corrupt := map[string]func([]byte) []byte{
		"data byte":      func(b []byte) []byte { b[30] ^= 0x55; return b },
		"check":          func(b []byte) []byte { b[len(b)-12-8-5] ^= 1; return b },
		"stream header":  func(b []byte) []byte { b[7] = 0x0f; return b },
		"block header":   func(b []byte) []byte { b[13] ^= 0x40; return b },
		"index":          func(b []byte) []byte { b[len(b)-12-4-3] ^= 1; return b },
		"footer magic":   func(b []byte) []byte { b[len(b)-1] = 'X'; return b },
		"truncated":      func(b []byte) []byte { return b[:len(b)-20] },
		"trailing bytes": func(b []byte) []byte { return append(b, "tail"...) },
		"odd padding":    func(b []byte) []byte { return append(b, 0, 0) },
	}
	for name, mangle := range corrupt {
		t.Run(name, func(t *testing.T) {
			_, fs, err := walkStream(t, mangle(bytes.Clone(good)), Limits{})
			if err == nil || !hasRule(fs, RuleMalformed) {
				t.Fatalf("err %v, findings %v", err, rules(fs))
			}
		})
	}
}

func TestLZMAAndZstdHostile(t *testing.T) {
	t.Run("lzma declared 4 GiB dictionary", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/evil-python.pkl.lzma")
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint32(b[1:5], 0xffffffff)
		var data []byte
		var fs []finding.Finding
		var rerr error
		n := allocated(func() { data, fs, rerr = walkStream(t, b, Limits{MaxDictionary: 1 << 20}) })
		if rerr != nil || !bytes.Equal(data, evilPickle) || len(fs) != 0 {
			t.Fatalf("read %q, err %v, findings %v", data, rerr, rules(fs))
		}
		if n > 8<<20 {
			t.Errorf("allocated %d bytes", n)
		}
	})
	t.Run("lzma truncated", func(t *testing.T) {
		var buf bytes.Buffer
		w, err := lzma.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(randomBytes(20_000, 4))
		w.Close()
		b := buf.Bytes()
		_, fs, err := walkStream(t, b[:len(b)/2], Limits{})
		if err == nil || !hasRule(fs, RuleMalformed) {
			t.Fatalf("err %v, findings %v", err, rules(fs))
		}
	})
	t.Run("zstd window above the limit", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/evil-window.pkl.zst")
		if err != nil {
			t.Fatal(err)
		}
		_, fs, err := walkStream(t, b, Limits{})
		if !errors.Is(err, errDictionary) || !hasRule(fs, RuleLimit) {
			t.Fatalf("err %v, findings %v", err, rules(fs))
		}
		data, fs, err := walkStream(t, b, Limits{MaxDictionary: 256 << 20})
		if err != nil || !bytes.Equal(data, evilPickle) || len(fs) != 0 {
			t.Fatalf("256 MiB limit: read %q, err %v, findings %v", data, err, rules(fs))
		}
	})
	t.Run("zstd corrupt", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/evil.pkl.zst")
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-2] ^= 0xff
		_, fs, err := walkStream(t, b, Limits{})
		if err == nil || !hasRule(fs, RuleMalformed) {
			t.Fatalf("err %v, findings %v", err, rules(fs))
		}
	})
	t.Run("lz4 corrupt", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/evil.pkl.lz4")
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-6] ^= 0xff
		_, fs, err := walkStream(t, b, Limits{})
		if err == nil || !hasRule(fs, RuleMalformed) {
			t.Fatalf("err %v, findings %v", err, rules(fs))
		}
	})
}

func TestLZMADictSize(t *testing.T) {
	for d, want := range map[uint32]bool{0: false, 1 << 11: false, 1 << 12: true, 3 << 11: true, 3 << 10: false, 5 << 12: false, 8 << 20: true, 12 << 20: true, 10 << 20: false, 1<<31 + 1<<30: true, 0xffffffff: true, 0xfffffffe: false} {
		if got := lzmaDictSize(d); got != want {
			t.Errorf("lzmaDictSize(%d) = %v, want %v", d, got, want)
		}
	}
}

func TestIsLZMA(t *testing.T) {
	for _, name := range []string{"evil.pkl.lzma", "evil-python.pkl.lzma"} {
		b, err := os.ReadFile(filepath.Join("testdata/compressed", name))
		if err != nil {
			t.Fatal(err)
		}
		if !IsLZMA(b) {
			t.Errorf("IsLZMA(%s) = false", name)
		}
	}
	not := [][]byte{
		nil, evilPickle, []byte("(dp0\nS'a'\np1\nI1\ns."), make([]byte, 64), bytes.Repeat([]byte{0xff}, 64),
		append([]byte("\x58\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"F32\"}}"), make([]byte, 32)...),
		randomBytes(64, 3),
		// A raw int64 array: plausible properties, size and zero byte,
		// but no dictionary size an encoder writes.
		binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 5), 17<<24), 0),
	}
	for _, b := range not {
		if IsLZMA(b) {
			t.Errorf("IsLZMA(%q) = true", b)
		}
	}
}

func FuzzXZ(f *testing.F) {
	for _, name := range []string{"evil.pkl.xz", "evil-blocks.pkl.xz", "evil-streams.pkl.xz", "evil-sha256.pkl.xz", "evil-bcj.pkl.xz"} {
		b, err := os.ReadFile(filepath.Join("testdata/compressed", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newXZReader(bytes.NewReader(b), 1<<20)
		n, err := io.Copy(io.Discard, io.LimitReader(r, 64<<20))
		if err == nil && n == 0 && len(b) < 32 {
			t.Fatalf("%d-byte input decoded without error to nothing", len(b))
		}
		// Whatever was read, the reader stays stopped.
		if err != nil {
			if m, err2 := r.Read(make([]byte, 16)); m != 0 || err2 == nil {
				t.Fatalf("read %d, %v after error %v", m, err2, err)
			}
		}
	})
}

func FuzzLZMA(f *testing.F) {
	for _, name := range []string{"evil.pkl.lzma", "evil-python.pkl.lzma"} {
		b, err := os.ReadFile(filepath.Join("testdata/compressed", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		IsLZMA(b)
		r, err := newLZMAReader(bytes.NewReader(b), 1<<20)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		if _, err := io.Copy(io.Discard, io.LimitReader(r, 64<<20)); err != nil && !errors.Is(err, errCorrupt) && !errors.Is(err, errDictionary) {
			t.Fatalf("error %v is neither corrupt data nor the dictionary limit", err)
		}
	})
}

// BenchmarkXZ decodes 4 MiB of tensor-like bytes (random, 6 bits of
// entropy per byte) through the walk's xz reader ("walk") and through
// ulikunitz/xz's own reader ("library", the baseline in the same run).
func BenchmarkXZ(b *testing.B) {
	data := randomBytes(4<<20, 5)
	comp := xzOf(b, data, xz.WriterConfig{CheckSum: xz.CRC64})
	b.Run("walk", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_, err := WalkCompressed(context.Background(), bytes.NewReader(comp), int64(len(comp)), XZ, Limits{}, func(e Entry) error {
				rc, err := e.Open()
				if err != nil {
					return err
				}
				defer rc.Close()
				n, err := io.Copy(io.Discard, rc)
				if err != nil || n != int64(len(data)) {
					b.Fatalf("read %d, %v", n, err)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r, err := xz.NewReader(bytes.NewReader(comp))
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, r); err != nil || n != int64(len(data)) {
				b.Fatalf("read %d, %v", n, err)
			}
		}
	})
}

// TestZipMethods: ZIP members compressed with bzip2 and LZMA (Python's
// zipfile), zstd and xz (APPNOTE methods 93 and 95, written here through
// archive/zip's compressor hook) are decompressed like deflated ones.
func TestZipMethods(t *testing.T) {
	for _, name := range []string{"evil-bzip2.zip", "evil-lzma.zip"} {
		b, err := os.ReadFile(filepath.Join("testdata/compressed", name))
		if err != nil {
			t.Fatal(err)
		}
		got := readZip(t, b, Limits{})
		if !bytes.Equal(got["weights/evil.pkl"], evilPickle) || !bytes.Equal(got["weights/big.pkl"], evilBig()) {
			t.Errorf("%s: read %q", name, got)
		}
	}
	for method, compressor := range map[uint16]zip.Compressor{
		methodZstd: func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) },
		// ulikunitz/xz's writer emits its stream header when created,
		// before archive/zip has written the local header: compress at
		// Close instead.
		methodXZ: func(w io.Writer) (io.WriteCloser, error) { return &closeXZ{w: w, t: t}, nil },
	} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		zw.RegisterCompressor(method, compressor)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "evil.pkl", Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(evilBig())
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if got := readZip(t, buf.Bytes(), Limits{}); !bytes.Equal(got["evil.pkl"], evilBig()) {
			t.Errorf("method %d: read %q", method, got)
		}
	}
	t.Run("corrupt lzma member", func(t *testing.T) {
		b, err := os.ReadFile("testdata/compressed/evil-lzma.zip")
		if err != nil {
			t.Fatal(err)
		}
		b[30+len("weights/evil.pkl")+2] = 9 // properties size
		var fs []finding.Finding
		fs, err = WalkZip(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{}, func(e Entry) error {
			if rc, err := e.Open(); err == nil {
				io.Copy(io.Discard, rc)
				rc.Close()
			}
			return nil
		})
		if err != nil || !hasRule(fs, RuleMalformed) {
			t.Fatalf("err %v, findings %v", err, rules(fs))
		}
	})
}

// readZip returns the content of every member of the ZIP b.
func readZip(t *testing.T, b []byte, lim Limits) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	fs, err := WalkZip(context.Background(), bytes.NewReader(b), int64(len(b)), lim, func(e Entry) error {
		rc, err := e.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		out[e.Name] = data
		return nil
	})
	if err != nil || len(fs) != 0 {
		t.Fatalf("err %v, findings %v", err, rules(fs))
	}
	return out
}

// closeXZ buffers what is written and writes it xz-compressed at Close.
type closeXZ struct {
	w   io.Writer
	t   *testing.T
	buf bytes.Buffer
}

func (c *closeXZ) Write(p []byte) (int, error) { return c.buf.Write(p) }

func (c *closeXZ) Close() error {
	_, err := c.w.Write(xzOf(c.t, c.buf.Bytes(), xz.WriterConfig{}))
	return err
}
