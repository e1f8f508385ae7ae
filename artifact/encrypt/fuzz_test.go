package encrypt

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// FuzzOpen decrypts arbitrary bytes: it must never panic, and whatever it
// accepts must have come from the test KEK.
func FuzzOpen(f *testing.F) {
	for _, n := range []int{0, 5, MinChunkSize, 2*MinChunkSize + 3} {
		f.Add(seal(f, bytes.Repeat([]byte{'w'}, n), MinChunkSize))
	}
	f.Add([]byte(Magic))
	f.Add([]byte("RAMPENC\x01\x01\x00\x00\x04\x00abcd\x00\x00\x3c"))
	kek := testKEK(f, "test")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(context.Background(), bytes.NewReader(data), kek)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, r)
	})
}
