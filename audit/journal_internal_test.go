package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzJournalFrames feeds arbitrary bytes to the frame reader, as
// recovery does with a damaged file: it must not panic, and what it
// accepts must be exactly a run of valid frames at the start of the input.
func FuzzJournalFrames(f *testing.F) {
	frame := appendFrame(nil, []byte(`{"id":"a"}`))
	f.Add([]byte{})
	f.Add(frame)
	f.Add(append(appendFrame(nil, []byte("x")), frame...))
	f.Add(frame[:5])
	f.Add(frame[:len(frame)-1])
	f.Add(make([]byte, 64))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	bad := bytes.Clone(frame)
	bad[9] ^= 0x40
	f.Add(append(bytes.Clone(frame), bad...))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r frameReader
		for _, maxRecs := range []int{1, 3, 1 << 20} {
			var (
				off     int64
				reframe []byte
			)
			for {
				payloads, next, stop := r.batch(bytes.NewReader(data), off, int64(len(data)), maxRecs)
				if next < off || next > int64(len(data)) {
					t.Fatalf("batch from %d returned next %d (input %d bytes)", off, next, len(data))
				}
				if len(payloads) > maxRecs {
					t.Fatalf("%d payloads for maxRecs %d", len(payloads), maxRecs)
				}
				for _, p := range payloads {
					if len(p) == 0 {
						t.Fatal("empty payload accepted")
					}
					reframe = appendFrame(reframe, p)
				}
				if stop != nil {
					var fe *frameError
					if !errors.Is(stop, errFrameTruncated) && !errors.As(stop, &fe) {
						t.Fatalf("unexpected stop error %v", stop)
					}
					off = next
					break
				}
				if next == off || next == int64(len(data)) {
					off = next
					break
				}
				off = next
			}
			if !bytes.Equal(reframe, data[:off]) {
				t.Fatalf("maxRecs %d: accepted %d bytes that do not re-frame to themselves", maxRecs, off)
			}
		}
	})
}

// TestFrameReaderLargeRecords reads records larger than a read chunk and
// batches that span many chunks or exceed maxBatchBytes.
func TestFrameReaderLargeRecords(t *testing.T) {
	sizes := []int{10, readChunk + 17, 3, 2 * readChunk, 1}
	for range 40 {
		sizes = append(sizes, readChunk/3)
	}
	var (
		data []byte
		want [][]byte
	)
	for i, n := range sizes {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, n)
		want = append(want, p)
		data = appendFrame(data, p)
	}
	var (
		r   frameReader
		off int64
		got [][]byte
	)
	for off < int64(len(data)) {
		payloads, next, stop := r.batch(bytes.NewReader(data), off, int64(len(data)), 1000)
		if stop != nil {
			t.Fatalf("batch at %d: %v", off, stop)
		}
		size := 0
		for _, p := range payloads {
			got = append(got, bytes.Clone(p))
			size += len(p)
		}
		if len(payloads) > 1 && size-len(payloads[len(payloads)-1]) >= maxBatchBytes {
			t.Fatalf("a batch holds %d bytes before its last record, over maxBatchBytes", size)
		}
		off = next
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d differs (%d bytes, want %d)", i, len(got[i]), len(want[i]))
		}
	}
}

// TestClaimUnlinkedFile: a process that opened a journal file before
// another one recovered and deleted it must not recover it again once it
// gets the lock.
func TestClaimUnlinkedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.journal")
	if err := os.WriteFile(path, []byte(journalMagic), 0o600); err != nil {
		t.Fatal(err)
	}
	late, err := os.Open(path) // opened before the recovery below
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	rec, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := claim(rec); !ok || err != nil {
		t.Fatalf("claim of a dead journal = %v, %v; want true", ok, err)
	}
	if ok, err := claim(late); ok || err != nil {
		t.Fatalf("claim while another holds the lock = %v, %v; want false", ok, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	rec.Close() // releases the lock, as the recovering process does
	if ok, err := claim(late); ok || err != nil {
		t.Fatalf("claim of a deleted journal = %v, %v; want false", ok, err)
	}
}
