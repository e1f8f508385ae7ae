package encrypt

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

const testChunk = MinChunkSize

func testKEK(t testing.TB, id string) *LocalKEK {
	t.Helper()
	key := bytes.Repeat([]byte{0x42}, KEKSize)
	if id == "other" {
		key[0] = 0x43
	}
	k, err := NewLocalKEK(id, key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func seal(t testing.TB, plain []byte, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(context.Background(), &out, testKEK(t, "test"), Options{ChunkSize: chunk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(ct []byte, kw KeyWrapper) ([]byte, error) {
	r, err := NewReader(context.Background(), bytes.NewReader(ct), kw)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func random(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, testChunk - 1, testChunk, testChunk + 1, 3 * testChunk, 3*testChunk + 17} {
		plain := random(t, n)
		ct := seal(t, plain, testChunk)
		chunks := n/testChunk + 1
		if want := headerLen(t, ct) + n + chunks*Overhead; len(ct) != want {
			t.Errorf("n=%d: ciphertext %d bytes, want %d", n, len(ct), want)
		}
		got, err := open(ct, testKEK(t, "test"))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("n=%d: plaintext differs", n)
		}
		// Read through WriteTo as well as Read.
		r, err := NewReader(context.Background(), bytes.NewReader(ct), testKEK(t, "test"))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := r.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), plain) {
			t.Fatalf("n=%d: WriteTo: %v", n, err)
		}
	}
}

// TestRoundTrip64MB encrypts and decrypts 64 MiB through files with the
// default chunk size, written in odd-sized pieces.
func TestRoundTrip64MB(t *testing.T) {
	dir := t.TempDir()
	src, enc, dec := filepath.Join(dir, "w"), filepath.Join(dir, "w.enc"), filepath.Join(dir, "w.out")
	plain := random(t, 64<<20)
	if err := os.WriteFile(src, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	kek := testKEK(t, "test")
	if err := EncryptFile(context.Background(), src, enc, kek, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := DecryptFile(context.Background(), enc, dec, kek); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatal("64 MiB round trip differs")
	}
	// The same through Write with pieces that straddle chunks.
	var out bytes.Buffer
	w, err := NewWriter(context.Background(), &out, kek, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for p := plain; len(p) > 0; {
		n := min(len(p), 1+mrand.IntN(3<<20))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = open(out.Bytes(), kek)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Write round trip: %v", err)
	}
}

func headerLen(t testing.TB, ct []byte) int {
	t.Helper()
	h, err := readHeader(bytes.NewReader(ct))
	if err != nil {
		t.Fatal(err)
	}
	return len(h.raw)
}

// TestTamperEveryChunk flips one random byte in each chunk in turn, and
// one in each byte of the header; each must fail authentication.
func TestTamperEveryChunk(t *testing.T) {
	plain := random(t, 5*testChunk+100)
	ct := seal(t, plain, testChunk)
	hl := headerLen(t, ct)
	step := testChunk + Overhead
	for c := 0; c < 6; c++ {
		start := hl + c*step
		end := min(start+step, len(ct))
		for _, pos := range []int{start, start + mrand.IntN(end-start), end - 1} {
			bad := bytes.Clone(ct)
			bad[pos] ^= 0x80
			_, err := open(bad, testKEK(t, "test"))
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("chunk %d byte %d changed: err = %v, want ErrAuth", c, pos, err)
			}
		}
	}
	for pos := range hl {
		bad := bytes.Clone(ct)
		bad[pos] ^= 0x01
		if _, err := open(bad, testKEK(t, "test")); err == nil {
			t.Fatalf("header byte %d changed and the file decrypts", pos)
		}
	}
}

func TestTamperStructure(t *testing.T) {
	plain := random(t, 4*testChunk+10)
	ct := seal(t, plain, testChunk)
	hl := headerLen(t, ct)
	step := testChunk + Overhead
	chunk := func(i int) []byte { return ct[hl+i*step : min(hl+(i+1)*step, len(ct))] }
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	other := seal(t, plain, testChunk) // same plaintext, other data key
	ohl := headerLen(t, other)
	cases := []struct {
		name string
		ct   []byte
		want error
	}{
		{"swap chunks 1 and 2", join(ct[:hl], chunk(0), chunk(2), chunk(1), chunk(3), chunk(4)), ErrAuth},
		{"duplicate chunk 1", join(ct[:hl], chunk(0), chunk(1), chunk(1), chunk(2), chunk(3), chunk(4)), ErrAuth},
		{"drop chunk 2", join(ct[:hl], chunk(0), chunk(1), chunk(3), chunk(4)), ErrAuth},
		{"drop the final chunk", ct[:hl+4*step], ErrTruncated},
		{"cut inside the final chunk", ct[:len(ct)-1], ErrAuth},
		{"cut inside chunk 2", ct[:hl+2*step+100], ErrAuth},
		{"cut to a partial tag", ct[:hl+2*step+5], ErrTruncated},
		{"header only", ct[:hl], ErrTruncated},
		{"append a byte", join(ct, []byte{0}), ErrAuth},
		{"append a chunk", join(ct, chunk(1)), ErrAuth},
		{"final chunk as middle", join(ct[:hl], chunk(0), chunk(4)), ErrAuth},
		{"splice chunk from another file", join(ct[:hl], chunk(0), other[ohl+step:ohl+2*step], chunk(2), chunk(3), chunk(4)), ErrAuth},
		{"header of another file", join(other[:ohl], ct[hl:]), ErrAuth},
		{"empty", nil, ErrFormat},
		{"not encrypted", bytes.Repeat([]byte("x"), 100), ErrFormat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := open(tc.ct, testKEK(t, "test"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(got) > 0 && tc.want != ErrFormat {
				// Read may have released authenticated chunks before the
				// failure; they must be a prefix of the plaintext.
				if !bytes.HasPrefix(plain, got) && tc.name != "splice chunk from another file" {
					t.Fatalf("released %d bytes that are not a prefix of the plaintext", len(got))
				}
			}
		})
	}
}

func TestWrongKEK(t *testing.T) {
	ct := seal(t, []byte("weights"), testChunk)
	_, err := open(ct, testKEK(t, "other"))
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
}

// TestDecryptFileKeepsNothing checks that a failed decryption leaves no
// output and no temporary file.
func TestDecryptFileKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	ct := seal(t, random(t, 3*DefaultChunkSize), 0)
	ct[len(ct)-DefaultChunkSize] ^= 1 // inside the last full chunk
	enc := filepath.Join(dir, "m.enc")
	if err := os.WriteFile(enc, ct, 0o600); err != nil {
		t.Fatal(err)
	}
	err := DecryptFile(context.Background(), enc, filepath.Join(dir, "m"), testKEK(t, "test"))
	if !IsAuthError(err) {
		t.Fatalf("err = %v, want an authentication error", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("left %d entries in the folder, want only m.enc", len(ents))
	}
}

func TestParseKEK(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	hexKey := "0707070707070707070707070707070707070707070707070707070707070707"
	t.Setenv("RAMPART_TEST_KEK_HEX", hexKey)
	t.Setenv("RAMPART_TEST_KEK_B64", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
	t.Setenv("RAMPART_TEST_KEK_SHORT", "abc")
	dir := t.TempDir()
	rawFile := filepath.Join(dir, "raw")
	if err := os.WriteFile(rawFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ct := seal(t, []byte("w"), testChunk) // under key 0x42…
	ref42, err := NewLocalKEK("x", bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(ct, ref42); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"env:RAMPART_TEST_KEK_HEX", "env:RAMPART_TEST_KEK_B64", "file:" + rawFile} {
		k, err := ParseKEK(context.Background(), ref, "")
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if k.ID() != ref {
			t.Errorf("id = %q, want %q", k.ID(), ref)
		}
		w, err := k.WrapKey(context.Background(), raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := NewLocalKEK("y", raw)
		if _, err := want.UnwrapKey(context.Background(), w, nil); err != nil {
			t.Errorf("%s: decoded to another key", ref)
		}
	}
	for _, ref := range []string{"env:RAMPART_TEST_KEK_SHORT", "env:RAMPART_TEST_KEK_UNSET", "literal"} {
		if _, err := ParseKEK(context.Background(), ref, ""); err == nil {
			t.Errorf("%s: no error", ref)
		}
	}
}
