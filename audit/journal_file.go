package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
)

// The journal file format. A file starts with journalMagic (whose last
// byte is the format version) and continues with frames:
//
//	length  uint32, little-endian: the payload's length, 1 to MaxJournalRecord
//	crc     uint32, little-endian: CRC-32C (Castagnoli) of the payload
//	payload the record as Encode writes it
//
// Each frame is written with one write(2). A frame cut short (the process
// died inside the write) or failing its CRC ends the file: nothing from it
// on was acknowledged, and recovery truncates it.
const (
	journalMagic = "RAMPARTJOURNAL\x00\x01"
	headerSize   = int64(len(journalMagic))
	frameHeader  = 8
	journalExt   = ".journal"
	tmpExt       = ".tmp"
	recoverLock  = "recover.lock"
)

// MaxJournalRecord is the largest encoded record a Journal accepts (64 MiB).
const MaxJournalRecord = 64 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameEncoder turns a Record into a frame without allocating beyond what
// encoding/json needs; encoders are pooled.
type frameEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	rec Record
}

var encoders = sync.Pool{New: func() any {
	e := new(frameEncoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// maxPooledFrame bounds the buffers kept in the pool, so that one huge
// record does not pin its memory.
const maxPooledFrame = 256 << 10

// encodeFrame returns rec's frame: the header and Encode's bytes. The
// slice is valid until e is reused.
func (e *frameEncoder) encodeFrame(rec *Record) ([]byte, error) {
	e.buf.Reset()
	var hdr [frameHeader]byte
	e.buf.Write(hdr[:])
	// The same canonical form as Encode: UTC time, HTML characters as
	// they are, no trailing newline.
	e.rec = *rec
	e.rec.Time = e.rec.Time.UTC()
	err := e.enc.Encode(&e.rec)
	e.rec = Record{}
	if err != nil {
		return nil, fmt.Errorf("encode audit record %q: %w", rec.ID, err)
	}
	b := e.buf.Bytes()
	b = b[:len(b)-1] // the newline json.Encoder appends
	p := b[frameHeader:]
	if len(p) > MaxJournalRecord {
		return nil, fmt.Errorf("audit record %q is %d bytes encoded, more than the journal's limit of %d", rec.ID, len(p), MaxJournalRecord)
	}
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[4:8], crc32.Checksum(p, castagnoli))
	return b, nil
}

func (e *frameEncoder) release() {
	if e.buf.Cap() > maxPooledFrame {
		return
	}
	encoders.Put(e)
}

// appendFrame appends payload's frame to b (for tests and tools; Append
// uses a pooled encoder).
func appendFrame(b, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// errFrameTruncated: the last frame runs past the end of the data read.
var errFrameTruncated = errors.New("record cut short")

// frameError describes an invalid frame.
type frameError struct {
	off    int64
	reason string
}

func (e *frameError) Error() string {
	return fmt.Sprintf("invalid record at offset %d: %s", e.off, e.reason)
}

// checkFrameHeader validates the 8-byte header at b (at file offset off)
// and returns the payload length.
func checkFrameHeader(b []byte, off int64) (int, error) {
	n := binary.LittleEndian.Uint32(b)
	switch {
	case n == 0:
		return 0, &frameError{off, "zero length"}
	case n > MaxJournalRecord:
		return 0, &frameError{off, fmt.Sprintf("length %d exceeds the limit of %d", n, MaxJournalRecord)}
	}
	return int(n), nil
}

// frameReader reads batches of frames from a journal file, reusing its
// buffers from batch to batch.
type frameReader struct {
	buf      []byte
	spans    [][2]int // payload start and end in buf
	payloads [][]byte
}

// readChunk is how much a frameReader reads at a time; maxBatchBytes
// bounds a batch's payload bytes (a single larger record is still read).
const (
	readChunk     = 256 << 10
	maxBatchBytes = 8 << 20
)

// batch reads up to maxRecs frames from f starting at off (a frame
// boundary), not past end. It returns their payloads (valid until the next
// call), the offset after the last one, and, when it stopped before end
// for another reason than maxRecs or maxBatchBytes, why: errFrameTruncated
// or a *frameError for the frame at next.
func (r *frameReader) batch(f io.ReaderAt, off, end int64, maxRecs int) (payloads [][]byte, next int64, stop error) {
	r.buf, r.spans, r.payloads = r.buf[:0], r.spans[:0], r.payloads[:0]
	pos := 0 // of the next frame in buf
	for len(r.spans) < maxRecs && pos < maxBatchBytes {
		at := off + int64(pos)
		if at == end {
			break
		}
		if err := r.fill(f, off, end, pos+frameHeader); err != nil {
			stop = err
			break
		}
		n, err := checkFrameHeader(r.buf[pos:], at)
		if err != nil {
			stop = err
			break
		}
		if err := r.fill(f, off, end, pos+frameHeader+n); err != nil {
			stop = err
			break
		}
		p := r.buf[pos+frameHeader : pos+frameHeader+n]
		if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(r.buf[pos+4:]) {
			stop = &frameError{at, "checksum mismatch"}
			break
		}
		r.spans = append(r.spans, [2]int{pos + frameHeader, pos + frameHeader + n})
		pos += frameHeader + n
	}
	for _, s := range r.spans {
		r.payloads = append(r.payloads, r.buf[s[0]:s[1]])
	}
	return r.payloads, off + int64(pos), stop
}

// fill makes buf hold at least want bytes of the file from off, reading in
// chunks, or returns errFrameTruncated if the file ends (at end) first.
func (r *frameReader) fill(f io.ReaderAt, off, end int64, want int) error {
	have := len(r.buf)
	if want <= have {
		return nil
	}
	if off+int64(want) > end {
		return errFrameTruncated
	}
	n := int(min(int64(max(want-have, readChunk)), end-off-int64(have)))
	r.buf = growLen(r.buf, have+n)
	got, err := f.ReadAt(r.buf[have:], off+int64(have))
	if got < n {
		r.buf = r.buf[:have+got]
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read journal at offset %d: %w", off+int64(have), err)
	}
	return nil
}

// growLen returns b resized to n bytes, keeping its content.
func growLen(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

// readHeader checks the journal header of f (size bytes long). It reports
// empty when the file is shorter than a header but holds a prefix of one:
// its creator died before it wrote any record.
func readHeader(f io.ReaderAt, size int64) (empty bool, err error) {
	var b [headerSize]byte
	n, err := f.ReadAt(b[:min(size, headerSize)], 0)
	if int64(n) < min(size, headerSize) {
		return false, fmt.Errorf("read journal header: %w", err)
	}
	if string(b[:n]) != journalMagic[:n] {
		if n >= len(journalMagic)-1 && string(b[:n-1]) == journalMagic[:n-1] {
			return false, fmt.Errorf("journal format version %d is not supported by this build (it reads version %d)", b[n-1], journalMagic[len(journalMagic)-1])
		}
		return false, errors.New("not a rampart audit journal (bad header)")
	}
	return size < headerSize, nil
}
