package archive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// xzMagic opens an xz stream; xzFooterMagic closes one.
const (
	xzMagic       = "\xfd7zXZ\x00"
	xzFooterMagic = "YZ"
	lzma2FilterID = 0x21
)

var crc64Table = crc64.MakeTable(crc64.ECMA)

// xzReader decompresses an xz file (the .xz format 1.2: one or more
// streams, each of blocks, an index and a footer, separated by stream
// padding) whose blocks use the LZMA2 filter alone, as Python's lzma and
// joblib write them. It parses the container itself and runs
// github.com/ulikunitz/xz's LZMA2 decoder on each block with a dictionary
// of at most maxDict bytes, whatever size the block header declares: the
// library would allocate the declared size (up to 4 GiB) before decoding a
// byte. Data that really refers further back than maxDict stops with
// errDictionary. Block headers, block sizes, checks (CRC-32, CRC-64,
// SHA-256), the index and the footer are verified; a mismatch stops the
// reader with an error wrapping errCorrupt. Memory beyond the dictionary
// is constant: blocks are tallied as they pass, not kept, and the index is
// compared with the tally.
type xzReader struct {
	r       *countReader
	maxDict int64
	err     error // sticky

	inStream    bool
	streamStart int64
	flags       [2]byte // stream flags
	checkSize   int

	block      io.Reader // the current block's decoder; nil between blocks
	blockStart int64     // offset of the block header
	dataStart  int64     // offset of the compressed data
	headerSize int64
	compSize   int64 // declared compressed size, -1 if absent
	uncompSize int64 // declared uncompressed size, -1 if absent
	produced   int64 // bytes the block has produced
	check      hash.Hash

	tally xzTally // the blocks of the current stream
}

// xzTally summarises a stream's blocks, or its index's records, so that
// the two can be compared without keeping either.
type xzTally struct {
	n, unpadded, uncompressed uint64
	h                         hash.Hash
}

func (t *xzTally) add(unpadded, uncompressed uint64) {
	if t.h == nil {
		t.h = sha256.New()
	}
	t.n++
	t.unpadded += unpadded
	t.uncompressed += uncompressed
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], unpadded)
	binary.LittleEndian.PutUint64(b[8:], uncompressed)
	t.h.Write(b[:])
}

func (t *xzTally) equal(u *xzTally) bool {
	if t.n != u.n || t.unpadded != u.unpadded || t.uncompressed != u.uncompressed {
		return false
	}
	if t.n == 0 {
		return true
	}
	return bytes.Equal(t.h.Sum(nil), u.h.Sum(nil))
}

// newXZReader returns a reader of the decompressed content of the xz file
// in r.
func newXZReader(r io.Reader, maxDict int64) *xzReader {
	return &xzReader{r: &countReader{br: bufio.NewReaderSize(r, 64<<10)}, maxDict: maxDict}
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: xz: %s", errCorrupt, fmt.Sprintf(format, args...))
}

// Read implements io.Reader.
func (x *xzReader) Read(p []byte) (int, error) {
	if x.err != nil {
		return 0, x.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if x.block == nil {
			if err := x.next(); err != nil {
				x.err = err
				return 0, err
			}
			continue
		}
		n, err := x.block.Read(p)
		x.produced += int64(n)
		if x.check != nil {
			x.check.Write(p[:n])
		}
		if x.uncompSize >= 0 && x.produced > x.uncompSize {
			x.err = corruptf("block at offset %d produces more than the %d bytes its header declares", x.blockStart, x.uncompSize)
			return 0, x.err
		}
		switch {
		case err == io.EOF:
			if err := x.endBlock(); err != nil {
				x.err = err
				if n == 0 {
					return 0, err
				}
				return n, nil
			}
			if n == 0 {
				continue
			}
		case err != nil:
			x.err = lzmaError(err, x.blockStart, x.maxDict)
		}
		return n, nil
	}
}

// next reads what follows the previous block: a stream header, a block
// header (and starts the block's decoder), or an index, a stream footer
// and stream padding. It returns io.EOF at the end of the file.
func (x *xzReader) next() error {
	if !x.inStream {
		return x.streamHeader()
	}
	b, err := x.r.ReadByte()
	if err != nil {
		return corruptf("stream at offset %d ends without an index: %v", x.streamStart, unexpected(err))
	}
	if b == 0 {
		return x.index()
	}
	return x.blockHeader(b)
}

// streamHeader reads stream padding and the next stream header; io.EOF
// when the file ends at a stream boundary (at least one stream read).
func (x *xzReader) streamHeader() error {
	first := x.r.n == 0
	for !first {
		// Stream padding: groups of four zero bytes, then a stream or
		// the end of the file.
		head, err := x.r.br.Peek(1)
		if len(head) == 0 {
			if err == io.EOF {
				return io.EOF
			}
			return err
		}
		if head[0] != 0 {
			break
		}
		var pad [4]byte
		if _, err := io.ReadFull(x.r, pad[:]); err != nil {
			return corruptf("stream padding at offset %d is not a multiple of four bytes", x.r.n)
		}
		if pad != [4]byte{} {
			return corruptf("stream padding at offset %d is not zero", x.r.n-4)
		}
	}
	x.streamStart = x.r.n
	var h [12]byte
	if _, err := io.ReadFull(x.r, h[:]); err != nil {
		if first {
			return corruptf("stream header: %v", unexpected(err))
		}
		return corruptf("data after the stream ending at offset %d is not an xz stream", x.streamStart)
	}
	if string(h[:6]) != xzMagic {
		return corruptf("no stream header at offset %d", x.streamStart)
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return corruptf("stream header at offset %d: CRC-32 mismatch", x.streamStart)
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return corruptf("stream header at offset %d: unsupported flags %#02x%02x", x.streamStart, h[6], h[7])
	}
	x.flags = [2]byte{h[6], h[7]}
	x.checkSize = xzCheckSize(h[7] & 0x0f)
	x.tally = xzTally{}
	x.inStream = true
	return nil
}

// xzCheckSize is the size of the check of type id (xz format 2.1.1.2).
func xzCheckSize(id byte) int {
	if id == 0 {
		return 0
	}
	return 4 << ((id - 1) / 3)
}

func (x *xzReader) newCheck() hash.Hash {
	switch x.flags[1] & 0x0f {
	case 0x01:
		return crc32.NewIEEE()
	case 0x04:
		return crc64.New(crc64Table)
	case 0x0a:
		return sha256.New()
	}
	return nil // none, or a check this reader does not compute
}

// blockHeader parses the block header whose size byte is b and starts the
// block's LZMA2 decoder.
func (x *xzReader) blockHeader(b byte) error {
	x.blockStart = x.r.n - 1
	size := (int(b) + 1) * 4
	h := make([]byte, size)
	h[0] = b
	if _, err := io.ReadFull(x.r, h[1:]); err != nil {
		return corruptf("block header at offset %d: %v", x.blockStart, unexpected(err))
	}
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return corruptf("block header at offset %d: CRC-32 mismatch", x.blockStart)
	}
	flags := h[1]
	if flags&0x3c != 0 {
		return corruptf("block header at offset %d: reserved flags set", x.blockStart)
	}
	rest := h[2 : size-4]
	x.compSize, x.uncompSize = -1, -1
	var err error
	if flags&0x40 != 0 {
		var v uint64
		if v, rest, err = vli(rest); err != nil || v == 0 || v > 1<<62 {
			return corruptf("block header at offset %d: bad compressed size", x.blockStart)
		}
		x.compSize = int64(v)
	}
	if flags&0x80 != 0 {
		var v uint64
		if v, rest, err = vli(rest); err != nil || v > 1<<62 {
			return corruptf("block header at offset %d: bad uncompressed size", x.blockStart)
		}
		x.uncompSize = int64(v)
	}
	filters := int(flags&3) + 1
	ids := make([]uint64, 0, filters)
	var props []byte
	for range filters {
		var id, n uint64
		if id, rest, err = vli(rest); err != nil {
			return corruptf("block header at offset %d: bad filter id", x.blockStart)
		}
		if n, rest, err = vli(rest); err != nil || n > uint64(len(rest)) {
			return corruptf("block header at offset %d: bad filter properties", x.blockStart)
		}
		ids = append(ids, id)
		props, rest = rest[:n], rest[n:]
	}
	for _, c := range rest {
		if c != 0 {
			return corruptf("block header at offset %d: padding is not zero", x.blockStart)
		}
	}
	if len(ids) != 1 || ids[0] != lzma2FilterID {
		return &unsupportedError{what: fmt.Sprintf("xz block at offset %d uses the filter chain %s; only LZMA2 alone (what Python's lzma and joblib write by default) is decoded", x.blockStart, filterNames(ids))}
	}
	if len(props) != 1 || props[0] > 40 {
		return corruptf("block header at offset %d: bad LZMA2 properties", x.blockStart)
	}
	dict, _ := lzma.DecodeDictCap(props[0])
	dict = min(max(dict, lzma.MinDictCap), x.maxDict)
	if x.uncompSize >= 0 {
		// A block never needs a dictionary larger than its content.
		dict = max(min(dict, x.uncompSize), lzma.MinDictCap)
	}
	x.headerSize = int64(size)
	x.dataStart = x.r.n
	dec, err := lzma.Reader2Config{DictCap: int(dict)}.NewReader2(x.r)
	if err != nil {
		return lzmaError(err, x.blockStart, x.maxDict)
	}
	x.block, x.produced, x.check = dec, 0, x.newCheck()
	return nil
}

// endBlock checks the end of a block: its sizes, padding and check.
func (x *xzReader) endBlock() error {
	x.block = nil
	comp := x.r.n - x.dataStart
	if x.compSize >= 0 && comp != x.compSize {
		return corruptf("block at offset %d holds %d compressed bytes but declares %d", x.blockStart, comp, x.compSize)
	}
	if x.uncompSize >= 0 && x.produced != x.uncompSize {
		return corruptf("block at offset %d produces %d bytes but declares %d", x.blockStart, x.produced, x.uncompSize)
	}
	var pad [3]byte
	p := pad[:(4-comp%4)%4]
	if _, err := io.ReadFull(x.r, p); err != nil {
		return corruptf("block at offset %d: padding: %v", x.blockStart, unexpected(err))
	}
	if !bytes.Equal(p, make([]byte, len(p))) {
		return corruptf("block at offset %d: padding is not zero", x.blockStart)
	}
	got := make([]byte, x.checkSize)
	if _, err := io.ReadFull(x.r, got); err != nil {
		return corruptf("block at offset %d: check: %v", x.blockStart, unexpected(err))
	}
	if x.check != nil && !checkEqual(got, x.check.Sum(nil)) {
		return corruptf("block at offset %d: check mismatch: the content is not what was compressed", x.blockStart)
	}
	x.tally.add(uint64(x.headerSize+comp)+uint64(x.checkSize), uint64(x.produced))
	return nil
}

// checkEqual compares a stored check with a computed one: CRC-32 and
// CRC-64 are stored little-endian, Go's hashes sum big-endian.
func checkEqual(stored, sum []byte) bool {
	if len(stored) != len(sum) {
		return false
	}
	if len(sum) == 4 || len(sum) == 8 {
		r := make([]byte, len(sum))
		for i := range sum {
			r[i] = sum[len(sum)-1-i]
		}
		sum = r
	}
	return bytes.Equal(stored, sum)
}

// index reads a stream's index (its indicator byte already read) and
// footer and compares them with the blocks read.
func (x *xzReader) index() error {
	start := x.r.n - 1
	crc := crc32.NewIEEE()
	crc.Write([]byte{0})
	x.r.tap = crc
	defer func() { x.r.tap = nil }()
	n, err := readVLI(x.r)
	if err != nil {
		return corruptf("index at offset %d: %v", start, err)
	}
	if n != x.tally.n {
		return corruptf("index at offset %d lists %d blocks, the stream holds %d", start, n, x.tally.n)
	}
	var idx xzTally
	for range n {
		u, err := readVLI(x.r)
		if err != nil {
			return corruptf("index at offset %d: %v", start, err)
		}
		c, err := readVLI(x.r)
		if err != nil {
			return corruptf("index at offset %d: %v", start, err)
		}
		idx.add(u, c)
	}
	if !idx.equal(&x.tally) {
		return corruptf("index at offset %d does not match the stream's blocks", start)
	}
	var pad [3]byte
	p := pad[:(4-(x.r.n-start)%4)%4]
	if _, err := io.ReadFull(x.r, p); err != nil || !bytes.Equal(p, make([]byte, len(p))) {
		return corruptf("index at offset %d: bad padding", start)
	}
	x.r.tap = nil
	var stored [4]byte
	if _, err := io.ReadFull(x.r, stored[:]); err != nil {
		return corruptf("index at offset %d: %v", start, unexpected(err))
	}
	if binary.LittleEndian.Uint32(stored[:]) != crc.Sum32() {
		return corruptf("index at offset %d: CRC-32 mismatch", start)
	}
	indexSize := x.r.n - start
	var f [12]byte
	if _, err := io.ReadFull(x.r, f[:]); err != nil {
		return corruptf("stream footer at offset %d: %v", x.r.n, unexpected(err))
	}
	switch {
	case string(f[10:]) != xzFooterMagic:
		return corruptf("no stream footer at offset %d", x.r.n-12)
	case crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[:4]):
		return corruptf("stream footer at offset %d: CRC-32 mismatch", x.r.n-12)
	case [2]byte{f[8], f[9]} != x.flags:
		return corruptf("stream footer at offset %d: flags differ from the header's", x.r.n-12)
	case (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4 != indexSize:
		return corruptf("stream footer at offset %d: backward size does not match the index", x.r.n-12)
	}
	x.inStream = false
	return nil
}

// vli decodes a variable-length integer (xz format 1.2) from b and
// returns the rest of b.
func vli(b []byte) (uint64, []byte, error) {
	r := bytes.NewReader(b)
	v, err := readVLI(r)
	return v, b[len(b)-r.Len():], err
}

// readVLI reads a variable-length integer from r.
func readVLI(r io.ByteReader) (uint64, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		c, err := r.ReadByte()
		if err != nil {
			return 0, unexpected(err)
		}
		if i > 0 && c == 0 {
			return 0, errors.New("non-minimal integer")
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("integer longer than nine bytes")
}

func filterNames(ids []uint64) string {
	names := map[uint64]string{0x03: "delta", 0x04: "x86", 0x05: "powerpc", 0x06: "ia64", 0x07: "arm", 0x08: "armthumb", 0x09: "sparc", 0x0a: "arm64", 0x0b: "riscv", lzma2FilterID: "lzma2"}
	var b []byte
	for i, id := range ids {
		if i > 0 {
			b = append(b, '+')
		}
		if n, ok := names[id]; ok {
			b = append(b, n...)
		} else {
			b = fmt.Appendf(b, "%#x", id)
		}
	}
	return string(b)
}

// unsupportedError is content this package recognises but does not
// decode: an xz filter chain other than LZMA2 alone. Python's lzma, and so
// joblib, write LZMA2 alone unless told otherwise, and BCJ filters are
// made for machine code, so a model file compressed with another chain is
// reported as an evasion (high), its content not inspected.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string { return e.what }

// countReader counts the bytes read through it and, while tap is set,
// writes them to tap. The LZMA2 decoder reads a chunk's bytes through
// io.LimitReader, so it never reads past the end of a block's data.
type countReader struct {
	br  *bufio.Reader
	n   int64
	tap hash.Hash
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += int64(n)
	if c.tap != nil {
		c.tap.Write(p[:n])
	}
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
		if c.tap != nil {
			c.tap.Write([]byte{b})
		}
	}
	return b, err
}
