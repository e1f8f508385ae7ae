package encrypt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const benchSize = 64 << 20

func BenchmarkSeal(b *testing.B) {
	plain := random(b, benchSize)
	kek := testKEK(b, "bench")
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		w, err := NewWriter(context.Background(), io.Discard, kek, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.ReadFrom(bytes.NewReader(plain)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	ct := seal(b, random(b, benchSize), DefaultChunkSize)
	kek := testKEK(b, "test")
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		r, err := NewReader(context.Background(), bytes.NewReader(ct), kek)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLargeFile encrypts and decrypts a file of RAMPART_LARGE_FILE_MB
// megabytes (default 256; the documented measurement used 2048) in
// $TMPDIR through EncryptFile and DecryptFile, logs the throughput and
// the peak resident memory of the process (VmHWM), and fails when the peak
// grew by more than 64 MiB: memory must not follow the file's size.
func TestLargeFile(t *testing.T) {
	mb, _ := strconv.Atoi(os.Getenv("RAMPART_LARGE_FILE_MB"))
	if mb <= 0 {
		mb = 256
	}
	dir, err := os.MkdirTemp("", "rampart-large-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src, enc, dec := filepath.Join(dir, "w"), filepath.Join(dir, "w.enc"), filepath.Join(dir, "w.out")
	// Write the plaintext from a repeated random 1 MiB block (fast to
	// generate, still random to AES) while hashing it.
	block := random(t, 1<<20)
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for i := range mb {
		block[0] = byte(i)
		block[1] = byte(i >> 8)
		f.Write(block)
		h.Write(block)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := h.Sum(nil)
	runtime.GC()
	before := vmHWM(t)
	kek := testKEK(t, "large")
	start := time.Now()
	if err := EncryptFile(context.Background(), src, enc, kek, Options{}); err != nil {
		t.Fatal(err)
	}
	encDur := time.Since(start)
	os.Remove(src)
	start = time.Now()
	if err := DecryptFile(context.Background(), enc, dec, kek); err != nil {
		t.Fatal(err)
	}
	decDur := time.Since(start)
	after := vmHWM(t)
	out, err := os.Open(dec)
	if err != nil {
		t.Fatal(err)
	}
	h.Reset()
	io.Copy(h, out)
	out.Close()
	if !bytes.Equal(h.Sum(nil), want) {
		t.Fatal("large round trip differs")
	}
	size := float64(mb) / 1024
	t.Logf("%d MiB: encrypt %v (%.2f GiB/s), decrypt %v (%.2f GiB/s), peak RSS before %d KiB, after %d KiB",
		mb, encDur.Round(time.Millisecond), size/encDur.Seconds(), decDur.Round(time.Millisecond), size/decDur.Seconds(), before, after)
	if after-before > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB during the round trip", after-before)
	}
}

// vmHWM is the process's peak resident set size in KiB.
func vmHWM(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Skip("no VmHWM")
	return 0
}
