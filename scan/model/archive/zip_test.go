package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/fixtures"
)

// pickleHead is the start of a protocol-4 pickle, enough for the tests to
// recognise the member they must find.
var pickleHead = []byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94.")

type zfile struct {
	name   string
	data   []byte
	method uint16
	mode   os.FileMode
}

// buildZip writes files with archive/zip.
func buildZip(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: f.method}
		if f.mode != 0 {
			h.SetMode(f.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// got is one entry as the tests saw it.
type got struct {
	Entry
	data []byte
	err  error
}

// walkAll walks a zip, reading every entry.
func walkAll(t testing.TB, b []byte, lim Limits) ([]got, []finding.Finding, error) {
	t.Helper()
	var out []got
	fs, err := WalkZip(context.Background(), bytes.NewReader(b), int64(len(b)), lim, func(e Entry) error {
		g := got{Entry: e}
		rc, err := e.Open()
		if err != nil {
			g.err = err
		} else {
			g.data, g.err = io.ReadAll(rc)
			rc.Close()
		}
		out = append(out, g)
		return nil
	})
	return out, fs, err
}

func rules(fs []finding.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID)
	}
	return ids
}

func hasRule(fs []finding.Finding, r *finding.Rule) bool {
	return slices.Contains(rules(fs), r.ID)
}

// findSig returns the offset of the n-th (0-based) occurrence of sig.
func findSig(t testing.TB, b []byte, sig string, n int) int {
	t.Helper()
	off := 0
	for i := 0; ; i++ {
		j := bytes.Index(b[off:], []byte(sig))
		if j < 0 {
			t.Fatalf("signature %q #%d not found", sig, n)
		}
		if i == n {
			return off + j
		}
		off += j + 1
	}
}

func TestWalkZipWellFormed(t *testing.T) {
	big := bytes.Repeat([]byte("tensor data "), 1000)
	b := buildZip(t,
		zfile{name: "archive/data.pkl", data: pickleHead, method: zip.Store},
		zfile{name: "archive/data/0", data: big, method: zip.Deflate},
		zfile{name: "archive/version", data: []byte("3\n"), method: zip.Deflate},
	)
	gs, fs, err := walkAll(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("findings on a well-formed zip: %v", rules(fs))
	}
	want := map[string][]byte{"archive/data.pkl": pickleHead, "archive/data/0": big, "archive/version": []byte("3\n")}
	if len(gs) != len(want) {
		t.Fatalf("got %d entries, want %d", len(gs), len(want))
	}
	for _, g := range gs {
		if g.err != nil {
			t.Errorf("%s: %v", g.Name, g.err)
		}
		if !bytes.Equal(g.data, want[g.Name]) {
			t.Errorf("%s: data differs (%d bytes, want %d)", g.Name, len(g.data), len(want[g.Name]))
		}
		if !g.InCentral || g.Size != int64(len(want[g.Name])) {
			t.Errorf("%s: InCentral=%v Size=%d", g.Name, g.InCentral, g.Size)
		}
	}
}

// TestDatasetZips checks the picklescan and modelscan fixtures: every
// malicious zip yields its pickle (first byte PROTO), with the finding for
// the trick it uses; encrypted ones are reported as not inspectable.
func TestDatasetZips(t *testing.T) {
	tests := []struct {
		file       string
		pickle     string // member whose data must start with a pickle opcode
		wantRules  []*finding.Rule
		notRules   []*finding.Rule
		encrypted  bool
		wantPickle bool
	}{
		{file: "picklescan/malicious1.zip", pickle: "data.pkl", notRules: []*finding.Rule{RuleFlagEvasion, RuleNameMismatch, RuleCRC}},
		{file: "picklescan/malicious1_0x1.zip", pickle: "model/config.pkl", wantRules: []*finding.Rule{RuleFlagEvasion}, notRules: []*finding.Rule{RuleEncrypted}},
		{file: "picklescan/malicious1_0x20.zip", pickle: "model/config.pkl", wantRules: []*finding.Rule{RuleFlagEvasion}},
		{file: "picklescan/malicious1_0x40.zip", pickle: "model/config.pkl", wantRules: []*finding.Rule{RuleFlagEvasion}, notRules: []*finding.Rule{RuleEncrypted}},
		{file: "picklescan/malicious1_central_directory.zip", pickle: "data.pkl", wantRules: []*finding.Rule{RuleNameMismatch}},
		{file: "picklescan/malicious1_crc.zip", pickle: "data.pkl", wantRules: []*finding.Rule{RuleCRC}},
		{file: "picklescan/malicious1_wrong_ext.zip", pickle: "data.txt"},
		{file: "picklescan/new_pytorch_model.bin", pickle: "archive/data.pkl", notRules: []*finding.Rule{RuleSizeMismatch, RuleMalformed}},
		{file: "modelscan/unsafe_zip_pytorch.pt", pickle: "unsafe_zip_pytorch/data.pkl", notRules: []*finding.Rule{RuleSizeMismatch, RuleMalformed}},
		{file: "picklescan/object_arrays.npz", pickle: "", notRules: []*finding.Rule{RuleMalformed}},
		{file: "picklescan/object_arrays_compressed.npz", notRules: []*finding.Rule{RuleMalformed, RuleCRC}},
		{file: "picklescan/int_arrays_compressed.npz", notRules: []*finding.Rule{RuleMalformed, RuleCRC}},
		{file: "picklescan/benign_password_protected.zip", wantRules: []*finding.Rule{RuleEncrypted}, notRules: []*finding.Rule{RuleFlagEvasion}, encrypted: true},
		{file: "modelscan/password_protected.zip", wantRules: []*finding.Rule{RuleEncrypted}, notRules: []*finding.Rule{RuleFlagEvasion}, encrypted: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			gs, fs, err := walkAll(t, b, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.wantRules {
				if !hasRule(fs, r) {
					t.Errorf("missing %s; got %v", r.ID, rules(fs))
				}
			}
			for _, r := range tt.notRules {
				if hasRule(fs, r) {
					t.Errorf("unexpected %s; got %v", r.ID, rules(fs))
				}
			}
			if tt.encrypted {
				if len(gs) == 0 || !gs[0].Encrypted || !errors.Is(gs[0].err, ErrEncrypted) {
					t.Errorf("entry not reported encrypted: %+v", gs)
				}
				for _, f := range fs {
					if f.RuleID == RuleEncrypted.ID && (f.Severity < finding.Medium || !strings.Contains(f.Message, "cannot be inspected")) {
						t.Errorf("encrypted finding: %+v", f)
					}
				}
			}
			if tt.pickle != "" {
				i := slices.IndexFunc(gs, func(g got) bool { return g.Name == tt.pickle })
				if i < 0 {
					t.Fatalf("member %q not yielded; got %d entries", tt.pickle, len(gs))
				}
				g := gs[i]
				if g.err != nil {
					t.Fatalf("reading %q: %v", tt.pickle, g.err)
				}
				if len(g.data) < 2 || g.data[0] != 0x80 || g.data[1] > 5 {
					t.Errorf("member %q does not start with a pickle PROTO opcode: % x", tt.pickle, g.data[:min(len(g.data), 8)])
				}
			}
			if strings.HasSuffix(tt.file, ".npz") {
				for _, g := range gs {
					if g.err != nil || !bytes.HasPrefix(g.data, []byte("\x93NUMPY")) {
						t.Errorf("%s: not read as .npy (err %v)", g.Name, g.err)
					}
				}
			}
		})
	}
}

// setFlags sets the general-purpose flags of the first entry in both
// headers.
func setFlags(t testing.TB, b []byte, flags uint16) {
	lo := findSig(t, b, sigLocal, 0)
	co := findSig(t, b, sigCentral, 0)
	binary.LittleEndian.PutUint16(b[lo+6:], flags)
	binary.LittleEndian.PutUint16(b[co+8:], flags)
}

func TestWalkZipTricks(t *testing.T) {
	payload := append(pickleHead, bytes.Repeat([]byte{'A'}, 200)...)
	tests := []struct {
		name       string
		build      func(t testing.TB) []byte
		lim        Limits
		want       []*finding.Rule
		readable   string // entry whose data must equal payload
		unreadable error  // error Open or reading the first entry must give
	}{
		{
			name: "fake encryption on deflate",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Deflate})
				setFlags(t, b, flagEncrypted)
				return b
			},
			want: []*finding.Rule{RuleFlagEvasion}, readable: "a.pkl",
		},
		{
			name: "patched-data flag",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Store})
				setFlags(t, b, flagPatched)
				return b
			},
			want: []*finding.Rule{RuleFlagEvasion}, readable: "a.pkl",
		},
		{
			name: "really encrypted stored entry",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Store})
				setFlags(t, b, flagEncrypted)
				// Traditional encryption adds a 12-byte header to the data.
				co := findSig(t, b, sigCentral, 0)
				binary.LittleEndian.PutUint32(b[co+24:], uint32(len(payload)-12))
				return b
			},
			want: []*finding.Rule{RuleEncrypted}, unreadable: ErrEncrypted,
		},
		{
			name: "CRC error",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Deflate})
				co := findSig(t, b, sigCentral, 0)
				b[co+16] ^= 0xff
				return b
			},
			want: []*finding.Rule{RuleCRC}, readable: "a.pkl",
		},
		{
			name: "local name differs from central name",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "data.pkl", data: payload, method: zip.Store})
				lo := findSig(t, b, sigLocal, 0)
				copy(b[lo+localLen:], "datap.kl")
				return b
			},
			want: []*finding.Rule{RuleNameMismatch}, readable: "data.pkl",
		},
		{
			name: "central directory cut off",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "x/data.pkl", data: payload, method: zip.Deflate})
				return b[:findSig(t, b, sigCentral, 0)]
			},
			want: []*finding.Rule{RuleMalformed, RuleHidden}, readable: "x/data.pkl",
		},
		{
			name: "central directory with garbage signature",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "ok.txt", data: []byte("hello"), method: zip.Store}, zfile{name: "data.pkl", data: payload, method: zip.Store})
				co := findSig(t, b, sigCentral, 1)
				copy(b[co:], "XXXX")
				return b
			},
			want: []*finding.Rule{RuleMalformed, RuleHidden}, readable: "data.pkl",
		},
		{
			name: "entry missing from central directory",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "ok.txt", data: []byte("hello"), method: zip.Store}, zfile{name: "hidden.pkl", data: payload, method: zip.Deflate})
				// Drop the second central record and fix the end record.
				c0, c1 := findSig(t, b, sigCentral, 0), findSig(t, b, sigCentral, 1)
				end := findSig(t, b, sigEnd, 0)
				out := append(append([]byte{}, b[:c1]...), b[end:]...)
				e := len(out) - endLen
				binary.LittleEndian.PutUint16(out[e+8:], 1)
				binary.LittleEndian.PutUint16(out[e+10:], 1)
				binary.LittleEndian.PutUint32(out[e+12:], uint32(c1-c0))
				return out
			},
			want: []*finding.Rule{RuleHidden}, readable: "hidden.pkl",
		},
		{
			name: "duplicate names",
			build: func(t testing.TB) []byte {
				return buildZip(t, zfile{name: "data.pkl", data: []byte("benign"), method: zip.Store}, zfile{name: "data.pkl", data: payload, method: zip.Store})
			},
			want: []*finding.Rule{RuleDuplicate}, readable: "data.pkl",
		},
		{
			name: "path traversal",
			build: func(t testing.TB) []byte {
				return buildZip(t, zfile{name: "../../etc/cron.d/x", data: payload, method: zip.Store})
			},
			want: []*finding.Rule{RulePathTraversal}, readable: "../../etc/cron.d/x",
		},
		{
			name: "absolute path",
			build: func(t testing.TB) []byte {
				return buildZip(t, zfile{name: "/tmp/x.pkl", data: payload, method: zip.Store})
			},
			want: []*finding.Rule{RulePathTraversal}, readable: "/tmp/x.pkl",
		},
		{
			name: "symlink",
			build: func(t testing.TB) []byte {
				return buildZip(t, zfile{name: "link", data: []byte("/etc/passwd"), method: zip.Store, mode: os.ModeSymlink | 0o777})
			},
			want: []*finding.Rule{RuleSymlink},
		},
		{
			name: "unsupported method",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Store})
				binary.LittleEndian.PutUint16(b[findSig(t, b, sigLocal, 0)+8:], 98)
				binary.LittleEndian.PutUint16(b[findSig(t, b, sigCentral, 0)+10:], 98)
				return b
			},
			want: []*finding.Rule{RuleMethod}, unreadable: ErrMethod,
		},
		{
			name: "data prepended (polyglot)",
			build: func(t testing.TB) []byte {
				return append(append([]byte{}, pickleHead...), buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Deflate})...)
			},
			want: []*finding.Rule{RulePrefix}, readable: "a.pkl",
		},
		{
			name: "two central records share one local header",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Store}, zfile{name: "b.pkl", data: payload, method: zip.Store})
				c1 := findSig(t, b, sigCentral, 1)
				binary.LittleEndian.PutUint32(b[c1+42:], 0)
				return b
			},
			want: []*finding.Rule{RuleOverlap, RuleNameMismatch}, readable: "a.pkl",
		},
		{
			name: "trailing data",
			build: func(t testing.TB) []byte {
				return append(buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Store}), "junk after the end"...)
			},
			want: []*finding.Rule{RuleTrailingData}, readable: "a.pkl",
		},
		{
			name: "header declares less than the data holds",
			build: func(t testing.TB) []byte {
				b := buildZip(t, zfile{name: "a.pkl", data: payload, method: zip.Deflate})
				binary.LittleEndian.PutUint32(b[findSig(t, b, sigCentral, 0)+24:], 10)
				return b
			},
			want: []*finding.Rule{RuleSizeMismatch},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.build(t)
			gs, fs, err := walkAll(t, b, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.want {
				if !hasRule(fs, r) {
					t.Errorf("missing %s; got %v", r.ID, rules(fs))
				}
			}
			for _, f := range fs {
				if f.Detector != Detector || f.Layer != finding.LayerModelWeights {
					t.Errorf("finding %s: detector %q layer %v", f.RuleID, f.Detector, f.Layer)
				}
			}
			if tt.readable != "" {
				ok := false
				for _, g := range gs {
					if g.Name == tt.readable && g.err == nil && bytes.Equal(g.data, payload) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("entry %q not read back; entries: %v", tt.readable, names(gs))
				}
			}
			if tt.unreadable != nil {
				if len(gs) == 0 || !errors.Is(gs[0].err, tt.unreadable) {
					t.Errorf("want %v opening the entry, got %+v", tt.unreadable, gs)
				}
			}
		})
	}
}

func names(gs []got) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func TestWalkZipLimits(t *testing.T) {
	t.Run("zip bomb stops at the ratio", func(t *testing.T) {
		zeros := make([]byte, 16<<20)
		b := buildZip(t, zfile{name: "bomb", data: zeros, method: zip.Deflate})
		if len(b) > 1<<20 {
			t.Fatalf("bomb is %d bytes", len(b))
		}
		gs, fs, err := walkAll(t, b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !hasRule(fs, RuleRatio) {
			t.Errorf("no ratio finding: %v", rules(fs))
		}
		if !errors.Is(gs[0].err, ErrLimit) || int64(len(gs[0].data)) > int64(len(b))*DefaultMaxRatio+64<<10 {
			t.Errorf("read %d bytes, err %v", len(gs[0].data), gs[0].err)
		}
	})
	t.Run("header that lies about the size", func(t *testing.T) {
		zeros := make([]byte, 8<<20)
		b := buildZip(t, zfile{name: "bomb", data: zeros, method: zip.Deflate})
		binary.LittleEndian.PutUint32(b[findSig(t, b, sigCentral, 0)+24:], 1000)
		gs, fs, err := walkAll(t, b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs[0].data) != 1000 || gs[0].err != nil {
			t.Errorf("read %d bytes (err %v), want the declared 1000", len(gs[0].data), gs[0].err)
		}
		if !hasRule(fs, RuleSizeMismatch) {
			t.Errorf("no size mismatch: %v", rules(fs))
		}
	})
	t.Run("per-entry limit", func(t *testing.T) {
		b := buildZip(t, zfile{name: "big", data: make([]byte, 5000), method: zip.Store})
		gs, fs, err := walkAll(t, b, Limits{MaxEntrySize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs[0].data) != 1000 || !errors.Is(gs[0].err, ErrLimit) {
			t.Errorf("read %d bytes, err %v", len(gs[0].data), gs[0].err)
		}
		if !hasRule(fs, RuleLimit) {
			t.Errorf("no limit finding: %v", rules(fs))
		}
	})
	t.Run("total limit", func(t *testing.T) {
		b := buildZip(t, zfile{name: "a", data: make([]byte, 3000), method: zip.Store}, zfile{name: "b", data: make([]byte, 3000), method: zip.Store})
		gs, fs, err := walkAll(t, b, Limits{MaxTotalSize: 4000})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(gs[0].data) + len(gs[1].data); n != 4000 || !errors.Is(gs[1].err, ErrLimit) {
			t.Errorf("read %d bytes in total, err %v", n, gs[1].err)
		}
		if !hasRule(fs, RuleLimit) {
			t.Errorf("no limit finding: %v", rules(fs))
		}
	})
	t.Run("entry count", func(t *testing.T) {
		var files []zfile
		for i := range 10 {
			files = append(files, zfile{name: string(rune('a' + i)), data: []byte("x")})
		}
		gs, fs, err := walkAll(t, buildZip(t, files...), Limits{MaxEntries: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 3 || !hasRule(fs, RuleLimit) {
			t.Errorf("%d entries, findings %v", len(gs), rules(fs))
		}
	})
	t.Run("nesting depth", func(t *testing.T) {
		b := buildZip(t, zfile{name: "a", data: []byte("x")})
		called := false
		fs, err := WalkZip(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{MaxDepth: 2, Depth: 3}, func(Entry) error { called = true; return nil })
		if err != nil || called || !hasRule(fs, RuleDepth) {
			t.Errorf("err %v called %v findings %v", err, called, rules(fs))
		}
	})
	t.Run("nested limits go one level deeper with the budget left", func(t *testing.T) {
		inner := buildZip(t, zfile{name: "deep.pkl", data: payloadOf(100)})
		outer := buildZip(t, zfile{name: "inner.zip", data: inner}, zfile{name: "pad", data: make([]byte, 500)})
		var nestedFindings []finding.Finding
		_, err := WalkZip(context.Background(), bytes.NewReader(outer), int64(len(outer)), Limits{MaxTotalSize: 10000, MaxDepth: 1}, func(e Entry) error {
			if e.Name != "inner.zip" {
				return nil
			}
			rc, _ := e.Open()
			data, _ := io.ReadAll(rc)
			lim := e.Nested()
			if lim.Depth != 1 || lim.MaxTotalSize != 10000-int64(len(inner)) {
				t.Errorf("nested limits %+v", lim)
			}
			fs, err := WalkZip(context.Background(), bytes.NewReader(data), int64(len(data)), lim, func(e Entry) error {
				if e.Name != "deep.pkl" || e.Depth != 1 {
					t.Errorf("inner entry %q depth %d", e.Name, e.Depth)
				}
				// One more level is refused.
				fs, _ := WalkZip(context.Background(), bytes.NewReader(inner), int64(len(inner)), e.Nested(), func(Entry) error { return nil })
				nestedFindings = append(nestedFindings, fs...)
				return nil
			})
			nestedFindings = append(nestedFindings, fs...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !hasRule(nestedFindings, RuleDepth) {
			t.Errorf("depth 2 walked with MaxDepth 1: %v", rules(nestedFindings))
		}
	})
	t.Run("declared zip64 size", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "huge", Method: zip.Store, CompressedSize64: 10, UncompressedSize64: 5 << 30})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, 10))
		zw.Close()
		gs, fs, err := walkAll(t, buf.Bytes(), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 1 || gs[0].Size != 5<<30 || !hasRule(fs, RuleLimit) || !hasRule(fs, RuleSizeMismatch) {
			t.Errorf("entries %+v findings %v", gs, rules(fs))
		}
	})
}

func payloadOf(n int) []byte { return append(append([]byte{}, pickleHead...), make([]byte, n)...) }

func TestWalkZipErrors(t *testing.T) {
	t.Run("not a zip", func(t *testing.T) {
		b := []byte("\x80\x02}q\x00.just a pickle")
		_, _, err := walkAll(t, b, Limits{})
		if !errors.Is(err, ErrNotZip) {
			t.Errorf("err = %v, want ErrNotZip", err)
		}
	})
	t.Run("empty input", func(t *testing.T) {
		_, _, err := walkAll(t, nil, Limits{})
		if !errors.Is(err, ErrNotZip) {
			t.Errorf("err = %v, want ErrNotZip", err)
		}
	})
	t.Run("callback error is returned", func(t *testing.T) {
		b := buildZip(t, zfile{name: "a", data: []byte("x")})
		stop := errors.New("stop")
		_, err := WalkZip(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{}, func(Entry) error { return stop })
		if err != stop {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		b := buildZip(t, zfile{name: "a", data: []byte("x")})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := WalkZip(ctx, bytes.NewReader(b), int64(len(b)), Limits{}, func(Entry) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("end record declares a huge directory", func(t *testing.T) {
		b := buildZip(t, zfile{name: "a", data: []byte("x")})
		e := len(b) - endLen
		binary.LittleEndian.PutUint16(b[e+10:], 0xffff)
		binary.LittleEndian.PutUint32(b[e+12:], 0xfffffff0)
		_, fs, err := walkAll(t, b, Limits{})
		if err != nil || !hasRule(fs, RuleMalformed) {
			t.Errorf("err %v findings %v", err, rules(fs))
		}
	})
}

func TestSniff(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		head []byte
		want Format
	}{
		{read("picklescan/malicious1.zip"), Zip},
		{read("picklescan/malicious1.7z"), SevenZip},
		{buildTar(t, tfile{name: "pickle", data: pickleHead}), Tar},
		{[]byte("\x1f\x8b\x08\x00"), Gzip},
		{[]byte("\x80\x02}q\x00."), Unknown},
		{nil, Unknown},
	}
	for _, tt := range tests {
		if got := Sniff(tt.head[:min(len(tt.head), SniffLen)]); got != tt.want {
			t.Errorf("Sniff(% x…) = %v, want %v", tt.head[:min(len(tt.head), 8)], got, tt.want)
		}
	}
	f := NotInspected(SevenZip)
	if f.RuleID != RuleNotInspected.ID || f.Severity != finding.Medium || !strings.Contains(f.Message, "7z") {
		t.Errorf("NotInspected: %+v", f)
	}
	if SevenZip.Inspected() || !Zip.Inspected() || !Tar.Inspected() {
		t.Error("Inspected wrong")
	}
}

func TestRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "model.archive.") || seen[r.ID] || r.Layer != finding.LayerModelWeights {
			t.Errorf("rule %+v", r)
		}
		seen[r.ID] = true
	}
}

func FuzzWalkZip(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Add(buildZip(f, zfile{name: "a.pkl", data: pickleHead, method: zip.Deflate}, zfile{name: "b", data: []byte("bb"), method: zip.Store}))
	f.Add(buildTar(f, tfile{name: "pickle", data: pickleHead}, tfile{name: "storages", data: []byte("xx")}))
	f.Add(fixtures.Gzip(pickleHead))
	f.Add(fixtures.Zlib(pickleHead))
	lim := Limits{MaxEntries: 64, MaxEntrySize: 1 << 16, MaxTotalSize: 1 << 18, MaxRatio: 50}
	f.Fuzz(func(t *testing.T, b []byte) {
		var total int64
		read := func(e Entry) error {
			if e.Offset < 0 || e.Offset > int64(len(b)) {
				t.Fatalf("entry offset %d outside %d-byte input", e.Offset, len(b))
			}
			rc, err := e.Open()
			if err != nil {
				return nil
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			if n > lim.MaxEntrySize {
				t.Fatalf("entry yielded %d bytes, limit %d", n, lim.MaxEntrySize)
			}
			total += n
			return nil
		}
		WalkZip(context.Background(), bytes.NewReader(b), int64(len(b)), lim, read)
		if total > lim.MaxTotalSize {
			t.Fatalf("zip walk yielded %d bytes, limit %d", total, lim.MaxTotalSize)
		}
		total = 0
		WalkTar(context.Background(), bytes.NewReader(b), int64(len(b)), lim, read)
		if total > lim.MaxTotalSize {
			t.Fatalf("tar walk yielded %d bytes, limit %d", total, lim.MaxTotalSize)
		}
		total = 0
		Walk(context.Background(), bytes.NewReader(b), int64(len(b)), lim, read)
		if total > lim.MaxTotalSize {
			t.Fatalf("walk yielded %d bytes, limit %d", total, lim.MaxTotalSize)
		}
		if f := Sniff(b); f == Gzip || f == Bzip2 || isZlib(b) {
			if f == Unknown {
				f = Zlib
			}
			total = 0
			WalkCompressed(context.Background(), bytes.NewReader(b), int64(len(b)), f, lim, read)
			if total > lim.MaxTotalSize {
				t.Fatalf("%v stream yielded %d bytes, limit %d", f, total, lim.MaxTotalSize)
			}
		}
	})
}

func TestFindingsCappedPerRule(t *testing.T) {
	var files []zfile
	for i := range 3 * MaxPerRule {
		files = append(files, zfile{name: "../x" + itoa(i), data: []byte("x")})
	}
	_, fs, err := walkAll(t, buildZip(t, files...), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var summary string
	for _, f := range fs {
		if f.RuleID == RulePathTraversal.ID {
			n++
			summary = f.Message
		}
	}
	if n != MaxPerRule+1 || !strings.Contains(summary, "200 more") {
		t.Errorf("%d traversal findings, last %q", n, summary)
	}
}

func itoa(i int) string { return fmt.Sprint(i) }

// BenchmarkWalkZip walks a PyTorch-style checkpoint of 1,000 stored
// tensors (64 KiB each) and reads its pickle: the walk reads headers only.
func BenchmarkWalkZip(b *testing.B) {
	files := []zfile{{name: "archive/data.pkl", data: payloadOf(100_000), method: zip.Store}}
	for i := range 1000 {
		files = append(files, zfile{name: "archive/data/" + itoa(i), data: make([]byte, 64<<10), method: zip.Store})
	}
	data := buildZip(b, files...)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, err := WalkZip(context.Background(), bytes.NewReader(data), int64(len(data)), Limits{}, func(e Entry) error {
			if e.Name == "archive/data.pkl" {
				rc, _ := e.Open()
				io.Copy(io.Discard, rc)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestZip64EndRecord rewrites a zip's end record to ZIP64: the counts,
// size and offset come from the ZIP64 end record the locator points at.
func TestZip64EndRecord(t *testing.T) {
	payload := payloadOf(50)
	b := buildZip(t, zfile{name: "archive/data.pkl", data: payload, method: zip.Deflate})
	cd, end := findSig(t, b, sigCentral, 0), findSig(t, b, sigEnd, 0)
	le := binary.LittleEndian
	var z64 []byte
	z64 = append(z64, sigEnd64...)
	z64 = le.AppendUint64(z64, end64Len-12)
	z64 = le.AppendUint16(z64, 45)
	z64 = le.AppendUint16(z64, 45)
	z64 = le.AppendUint32(z64, 0)
	z64 = le.AppendUint32(z64, 0)
	z64 = le.AppendUint64(z64, 1)
	z64 = le.AppendUint64(z64, 1)
	z64 = le.AppendUint64(z64, uint64(end-cd))
	z64 = le.AppendUint64(z64, uint64(cd))
	loc := append([]byte(sigEnd64Loc), le.AppendUint32(nil, 0)...)
	loc = le.AppendUint64(loc, uint64(end))
	loc = le.AppendUint32(loc, 1)
	eocd := append([]byte{}, b[end:]...)
	le.PutUint16(eocd[8:], 0xffff)
	le.PutUint16(eocd[10:], 0xffff)
	le.PutUint32(eocd[12:], 0xffffffff)
	le.PutUint32(eocd[16:], 0xffffffff)
	out := append(append(append(append([]byte{}, b[:end]...), z64...), loc...), eocd...)
	gs, fs, err := walkAll(t, out, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("findings: %v", rules(fs))
	}
	if len(gs) != 1 || !bytes.Equal(gs[0].data, payload) {
		t.Errorf("entries %v", names(gs))
	}
}
