package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ulikunitz/xz/lzma"
)

// errCorrupt marks a decoder's report of damaged compressed data or a
// damaged container structure (xz, LZMA): the entry reader reports it as
// malformed.
var errCorrupt = errors.New("corrupt data")

// errDictionary marks compressed data that refers further back than the
// dictionary the decoder allowed itself (Limits.MaxDictionary): the data
// was not wholly inspected.
var errDictionary = errors.New("dictionary limit")

// unexpected turns io.EOF into io.ErrUnexpectedEOF: input that ends in the
// middle of a structure.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// lzmaError classifies an error of ulikunitz/xz's LZMA or LZMA2 decoder: a
// match further back than the dictionary is errDictionary, anything else
// is corrupt data.
func lzmaError(err error, off, maxDict int64) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errCorrupt) {
		return fmt.Errorf("%w: at offset %d: %w", errCorrupt, off, err)
	}
	// The library exports no error values; this is its message for a
	// match distance beyond the dictionary (lzma/decoderdict.go).
	if strings.Contains(err.Error(), "distance out of range") {
		return fmt.Errorf("%w: compressed data at offset %d refers further back than the %d-byte dictionary the scanner allows: %v", errDictionary, off, maxDict, err)
	}
	return fmt.Errorf("%w: at offset %d: %v", errCorrupt, off, err)
}

// lzmaHeaderLen is the length of an LZMA ("alone", .lzma) header:
// properties, dictionary size, uncompressed size.
const lzmaHeaderLen = 13

// IsLZMA reports whether head starts like an LZMA "alone" stream as
// Python's lzma writes for joblib's "lzma" compressor and liblzma's format
// detection accepts: valid properties, a dictionary size of the form
// encoders write (lzmaDictSize), an uncompressed size that is unknown or
// below 256 GiB, the range coder's zero first byte, and a start that
// decodes. The format has no magic number, hence the probe: the header is
// rewritten to a 4 KiB dictionary (the first bytes of a stream cannot
// refer further back) and a size of at most 64 bytes, and those bytes must
// decode from head.
func IsLZMA(head []byte) bool {
	if len(head) < lzmaHeaderLen+5 || head[0] >= 9*5*5 || head[lzmaHeaderLen] != 0 {
		return false
	}
	size := binary.LittleEndian.Uint64(head[5:13])
	if size == 0 || size != ^uint64(0) && size >= 1<<38 || !lzmaDictSize(binary.LittleEndian.Uint32(head[1:5])) {
		return false
	}
	probe := bytes.Clone(head)
	binary.LittleEndian.PutUint32(probe[1:5], lzma.MinDictCap)
	binary.LittleEndian.PutUint64(probe[5:13], min(size, 64))
	r, err := lzma.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(bytes.NewReader(probe))
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, r)
	// The library exports no error values. Having decoded the size the
	// probe declares, it reports data after it (the rest of the stream) as
	// a wrong size (lzma/reader.go); any other error means the start does
	// not decode.
	return err == nil || strings.Contains(err.Error(), "wrong uncompressed data size")
}

// lzmaDictSize reports a dictionary size liblzma's format detection
// accepts in an LZMA "alone" header (what Python's lzma, and so joblib,
// open without being told the format): 2ⁿ or 2ⁿ + 2ⁿ⁻¹, as encoders round
// it, or 2³² − 1; at least 4 KiB here.
func lzmaDictSize(d uint32) bool {
	if d == 0xffffffff {
		return true
	}
	if d < 1<<12 {
		return false
	}
	low := d & -d // the lowest set bit
	return d == low || d == 3*low
}

// newLZMAReader returns a reader of an LZMA "alone" stream whose
// dictionary is at most maxDict bytes, whatever the header declares (the
// library refuses a larger declared size; a stream that really refers
// further back stops with errDictionary).
func newLZMAReader(r io.Reader, maxDict int64) (io.Reader, error) {
	var h [lzmaHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, corruptf("lzma header: %v", unexpected(err))
	}
	if d := int64(binary.LittleEndian.Uint32(h[1:5])); d > maxDict {
		binary.LittleEndian.PutUint32(h[1:5], uint32(maxDict))
	}
	dec, err := lzma.ReaderConfig{DictCap: int(maxDict)}.NewReader(io.MultiReader(bytes.NewReader(h[:]), r))
	if err != nil {
		return nil, fmt.Errorf("%w: lzma header: %v", errCorrupt, err)
	}
	return &lzmaReader{dec: dec, maxDict: maxDict}, nil
}

// lzmaReader classifies the LZMA decoder's errors.
type lzmaReader struct {
	dec     io.Reader
	maxDict int64
}

func (l *lzmaReader) Read(p []byte) (int, error) {
	n, err := l.dec.Read(p)
	if err != nil && err != io.EOF {
		err = lzmaError(err, 0, l.maxDict)
	}
	return n, err
}

// newZipLZMAReader reads a ZIP entry of method 14 (APPNOTE 5.8.8): a
// 2-byte LZMA SDK version, a 2-byte properties size (5), the properties
// (the lc/lp/pb byte and the dictionary size), then LZMA data, ending with
// an end marker when size is -1. It is decoded as an LZMA "alone" stream
// with that header, its dictionary bounded as newLZMAReader bounds it.
func newZipLZMAReader(r io.Reader, size, hist int64) (io.Reader, error) {
	var h [9]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: zip lzma header: %v", errCorrupt, unexpected(err))
	}
	if binary.LittleEndian.Uint16(h[2:4]) != 5 {
		return nil, fmt.Errorf("%w: zip lzma header: properties of %d bytes, want 5", errCorrupt, binary.LittleEndian.Uint16(h[2:4]))
	}
	var alone [lzmaHeaderLen]byte
	copy(alone[:5], h[4:9])
	binary.LittleEndian.PutUint64(alone[5:], uint64(size))
	return newLZMAReader(io.MultiReader(bytes.NewReader(alone[:]), r), hist)
}

// byteReader reads consecutive records from a section, returning nil (no
// error) when the section ends before the record does.
type byteReader struct {
	r   io.Reader
	buf []byte
}

func newByteReader(r io.Reader) *byteReader { return &byteReader{r: r} }

func (b *byteReader) next(n int) ([]byte, error) {
	if cap(b.buf) < n {
		b.buf = make([]byte, n)
	}
	p := b.buf[:n]
	if _, err := io.ReadFull(b.r, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil
		}
		return nil, fmt.Errorf("archive: reading central directory: %w", err)
	}
	return p, nil
}
