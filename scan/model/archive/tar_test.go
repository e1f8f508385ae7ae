package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

type tfile struct {
	name     string
	data     []byte
	typeflag byte
	link     string
}

func buildTar(t testing.TB, files ...tfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: f.typeflag, Linkname: f.link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(f.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func walkTarAll(t testing.TB, b []byte, lim Limits) ([]got, []finding.Finding, error) {
	t.Helper()
	var out []got
	fs, err := WalkTar(context.Background(), bytes.NewReader(b), int64(len(b)), lim, func(e Entry) error {
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

// TestWalkTarLegacyPyTorch walks the layout of a legacy (pre-1.6) PyTorch
// tar checkpoint: sys_info, pickle, storages, tensors.
func TestWalkTarLegacyPyTorch(t *testing.T) {
	members := []tfile{
		{name: "sys_info", data: []byte("\x80\x02}q\x00.")},
		{name: "pickle", data: pickleHead},
		{name: "storages", data: append([]byte("\x80\x02K\x01."), make([]byte, 4000)...)},
		{name: "tensors", data: []byte("\x80\x02K\x00.")},
	}
	b := buildTar(t, members...)
	gs, fs, err := walkTarAll(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("findings: %v", rules(fs))
	}
	if len(gs) != len(members) {
		t.Fatalf("%d entries", len(gs))
	}
	for i, g := range gs {
		if g.Name != members[i].name || !bytes.Equal(g.data, members[i].data) || g.err != nil {
			t.Errorf("entry %d: %q %d bytes err %v", i, g.Name, len(g.data), g.err)
		}
		if !bytes.Equal(b[g.DataOffset:g.DataOffset+int64(len(g.data))], g.data) {
			t.Errorf("entry %q: DataOffset %d does not point at its data", g.Name, g.DataOffset)
		}
	}
}

func TestWalkTarFindings(t *testing.T) {
	tests := []struct {
		name  string
		files []tfile
		lim   Limits
		want  []*finding.Rule
	}{
		{"symlink", []tfile{{name: "pickle", typeflag: tar.TypeSymlink, link: "/etc/passwd"}}, Limits{}, []*finding.Rule{RuleSymlink, RulePathTraversal}},
		{"hard link", []tfile{{name: "a", data: []byte("x")}, {name: "b", typeflag: tar.TypeLink, link: "a"}}, Limits{}, []*finding.Rule{RuleSymlink}},
		{"traversal", []tfile{{name: "../../x", data: []byte("x")}}, Limits{}, []*finding.Rule{RulePathTraversal}},
		{"duplicate", []tfile{{name: "pickle", data: []byte("a")}, {name: "pickle", data: []byte("b")}}, Limits{}, []*finding.Rule{RuleDuplicate}},
		{"fifo", []tfile{{name: "p", typeflag: tar.TypeFifo}}, Limits{}, []*finding.Rule{RuleSpecialFile}},
		{"entry limit", []tfile{{name: "a", data: make([]byte, 100)}}, Limits{MaxEntrySize: 10}, []*finding.Rule{RuleLimit}},
		{"count limit", []tfile{{name: "a"}, {name: "b"}, {name: "c"}}, Limits{MaxEntries: 2}, []*finding.Rule{RuleLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs, err := walkTarAll(t, buildTar(t, tt.files...), tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.want {
				if !hasRule(fs, r) {
					t.Errorf("missing %s: %v", r.ID, rules(fs))
				}
			}
		})
	}
}

func TestWalkTarBounds(t *testing.T) {
	t.Run("reader stops at the entry limit", func(t *testing.T) {
		gs, _, err := walkTarAll(t, buildTar(t, tfile{name: "a", data: make([]byte, 5000)}), Limits{MaxEntrySize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs[0].data) != 1000 || !errors.Is(gs[0].err, ErrLimit) {
			t.Errorf("read %d, err %v", len(gs[0].data), gs[0].err)
		}
	})
	t.Run("truncated archive", func(t *testing.T) {
		b := buildTar(t, tfile{name: "a", data: make([]byte, 5000)}, tfile{name: "b", data: []byte("x")})
		_, fs, err := walkTarAll(t, b[:3000], Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !hasRule(fs, RuleMalformed) && !hasRule(fs, RuleSizeMismatch) {
			t.Errorf("truncation not reported: %v", rules(fs))
		}
	})
	t.Run("corrupt header", func(t *testing.T) {
		b := buildTar(t, tfile{name: "a", data: []byte("x")}, tfile{name: "b", data: []byte("y")})
		b[1024+148] = 'x' // checksum of the second header
		gs, fs, err := walkTarAll(t, b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 1 || !hasRule(fs, RuleMalformed) {
			t.Errorf("%d entries, findings %v", len(gs), rules(fs))
		}
		if fs[0].Location.Offset != 1024 {
			t.Errorf("offset %d, want 1024", fs[0].Location.Offset)
		}
	})
	t.Run("open after its turn", func(t *testing.T) {
		b := buildTar(t, tfile{name: "a", data: []byte("x")})
		var saved Entry
		if _, err := WalkTar(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{}, func(e Entry) error { saved = e; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := saved.Open(); !errors.Is(err, ErrClosed) {
			t.Errorf("err = %v", err)
		}
	})
}
