// Package encrypt encrypts model weights at rest in a streaming, chunked
// AES-256-GCM format, so that files of any size are encrypted and
// decrypted in constant memory.
//
// Each file gets a random 256-bit data key, which a key-encryption key
// (KEK) wraps into the header; the KEK comes from a file or an environment
// variable (see ParseKEK) or, later, from a key service behind the
// KeyWrapper interface. The plaintext is cut into chunks of ChunkSize
// bytes, each sealed with AES-256-GCM under the data key; the nonce is a
// per-file random prefix followed by the chunk counter, and the additional
// data binds the SHA-256 of the header, the chunk index and whether the
// chunk is the last one. Truncation, reordering, duplication, splicing of
// chunks from other files and any change to a byte are therefore detected.
//
// Layout (integers big-endian):
//
//	offset  size  field
//	0       7     magic "RAMPENC"
//	7       1     version (1)
//	8       1     algorithm (1: AES-256-GCM, chunked)
//	9       4     chunk size in bytes (1 KiB .. 16 MiB; default 1 MiB)
//	13      4     nonce prefix (random)
//	17      1     length k of the KEK id
//	18      k     KEK id (names the KEK; never secret)
//	18+k    2     length w of the wrapped data key (at most 1024)
//	20+k    w     wrapped data key; for a local KEK: a 12-byte nonce and
//	              AES-256-GCM(KEK, data key) with bytes 0..18+k as
//	              additional data
//	20+k+w        chunks: ciphertext and 16-byte tag; every chunk but the
//	              last holds exactly chunk size plaintext bytes, the last
//	              holds fewer (zero for an empty file or a file that is a
//	              multiple of the chunk size)
//
// Chunk i is sealed with nonce = prefix || uint64(i) and additional data
// SHA-256(header) || uint64(i) || final (one byte, 1 for the last chunk).
package encrypt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Format constants.
const (
	Magic            = "RAMPENC"
	Version          = 1
	AlgAES256GCM     = 1
	DefaultChunkSize = 1 << 20
	MinChunkSize     = 1 << 10
	MaxChunkSize     = 16 << 20
	// MaxWrappedKey bounds the wrapped data key a header may declare.
	MaxWrappedKey = 1024
	// Overhead is the size a chunk adds to its plaintext (the GCM tag).
	Overhead = 16

	fixedHeader = 18
	keySize     = 32
	prefixSize  = 4
)

// Errors that decryption returns, wrapped with the chunk and offset.
var (
	// ErrFormat: not an encrypted model file, or an unsupported version.
	ErrFormat = errors.New("not a rampart encrypted file")
	// ErrAuth: a chunk or the wrapped key failed authentication: the file
	// was changed, chunks were reordered or spliced, or the key is wrong.
	ErrAuth = errors.New("authentication failed")
	// ErrTruncated: the file ends before its final chunk.
	ErrTruncated = errors.New("truncated")
)

// KeyWrapper wraps and unwraps data keys with a key-encryption key. aad is
// the header up to the wrapped key; an implementation must bind it.
type KeyWrapper interface {
	// ID names the KEK in the header, so that decryption can tell which
	// key it needs. It must not be secret.
	ID() string
	WrapKey(ctx context.Context, dataKey, aad []byte) ([]byte, error)
	UnwrapKey(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// Options configure a Writer.
type Options struct {
	// ChunkSize is the plaintext size of every chunk but the last
	// (default 1 MiB).
	ChunkSize int
}

// header is a parsed or built header.
type header struct {
	raw       []byte // the encoded header
	chunkSize int
	prefix    [prefixSize]byte
	kekID     string
	wrapAAD   []byte // raw[:18+k]
	wrapped   []byte
}

// stream is the state shared by Writer and Reader.
type stream struct {
	aead      cipher.AEAD
	nonce     [12]byte
	aad       [sha256.Size + 9]byte
	chunkSize int
	index     uint64
	hdrLen    int64
}

func newStream(dataKey []byte, h *header) (*stream, error) {
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	s := &stream{aead: aead, chunkSize: h.chunkSize, hdrLen: int64(len(h.raw))}
	copy(s.nonce[:prefixSize], h.prefix[:])
	digest := sha256.Sum256(h.raw)
	copy(s.aad[:sha256.Size], digest[:])
	return s, nil
}

// next sets the nonce and additional data of the current chunk.
func (s *stream) next(final bool) {
	binary.BigEndian.PutUint64(s.nonce[prefixSize:], s.index)
	binary.BigEndian.PutUint64(s.aad[sha256.Size:], s.index)
	s.aad[sha256.Size+8] = 0
	if final {
		s.aad[sha256.Size+8] = 1
	}
}

// offset is the byte offset of the current chunk in the file.
func (s *stream) offset() int64 {
	return s.hdrLen + int64(s.index)*int64(s.chunkSize+Overhead)
}

// Writer encrypts what is written to it. Close writes the final chunk;
// without it the output is truncated and will not decrypt.
type Writer struct {
	w      io.Writer
	s      *stream
	buf    []byte // chunkSize + Overhead
	n      int    // plaintext bytes in buf
	err    error
	closed bool
}

// NewWriter writes a header to w with a new random data key wrapped by kw
// and returns a Writer for the plaintext.
func NewWriter(ctx context.Context, w io.Writer, kw KeyWrapper, opts Options) (*Writer, error) {
	cs := opts.ChunkSize
	if cs == 0 {
		cs = DefaultChunkSize
	}
	if cs < MinChunkSize || cs > MaxChunkSize {
		return nil, fmt.Errorf("chunk size %d outside %d..%d", cs, MinChunkSize, MaxChunkSize)
	}
	id := kw.ID()
	if len(id) > 255 {
		return nil, fmt.Errorf("KEK id is %d bytes, more than 255", len(id))
	}
	dataKey := make([]byte, keySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	defer clear(dataKey)
	h := &header{chunkSize: cs, kekID: id}
	if _, err := rand.Read(h.prefix[:]); err != nil {
		return nil, fmt.Errorf("nonce prefix: %w", err)
	}
	raw := make([]byte, 0, fixedHeader+len(id)+2+128)
	raw = append(raw, Magic...)
	raw = append(raw, Version, AlgAES256GCM)
	raw = binary.BigEndian.AppendUint32(raw, uint32(cs))
	raw = append(raw, h.prefix[:]...)
	raw = append(raw, byte(len(id)))
	raw = append(raw, id...)
	wrapped, err := kw.WrapKey(ctx, dataKey, raw)
	if err != nil {
		return nil, fmt.Errorf("wrap data key with KEK %q: %w", id, err)
	}
	if len(wrapped) > MaxWrappedKey {
		return nil, fmt.Errorf("wrapped data key is %d bytes, more than %d", len(wrapped), MaxWrappedKey)
	}
	raw = binary.BigEndian.AppendUint16(raw, uint16(len(wrapped)))
	raw = append(raw, wrapped...)
	h.raw = raw
	s, err := newStream(dataKey, h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	return &Writer{w: w, s: s, buf: make([]byte, cs+Overhead)}, nil
}

// Write implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errors.New("encrypt: write after Close")
	}
	written := 0
	for len(p) > 0 {
		k := copy(w.buf[w.n:w.s.chunkSize], p)
		w.n += k
		p = p[k:]
		written += k
		if w.n == w.s.chunkSize {
			if err := w.seal(false); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// ReadFrom implements io.ReaderFrom: it reads straight into the chunk
// buffer, saving a copy.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errors.New("encrypt: write after Close")
	}
	var total int64
	for {
		k, err := io.ReadFull(r, w.buf[w.n:w.s.chunkSize])
		w.n += k
		total += int64(k)
		if w.n == w.s.chunkSize {
			if err := w.seal(false); err != nil {
				return total, err
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// seal encrypts the buffered chunk in place and writes it.
func (w *Writer) seal(final bool) error {
	w.s.next(final)
	out := w.s.aead.Seal(w.buf[:0], w.s.nonce[:], w.buf[:w.n], w.s.aad[:])
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("write chunk %d: %w", w.s.index, err)
		return w.err
	}
	w.s.index++
	w.n = 0
	return nil
}

// Close writes the final chunk. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.seal(true)
	clear(w.buf)
	return err
}

// Reader decrypts an encrypted stream. Every chunk is authenticated before
// its plaintext is returned, but a stream may still turn out truncated or
// changed in a later chunk: only io.EOF from Read means the whole file was
// authentic. Write plaintext to a temporary place until then, as
// DecryptFile does.
type Reader struct {
	r     io.Reader
	s     *stream
	buf   []byte
	plain []byte
	done  bool
	err   error
	kekID string
}

// NewReader reads and checks the header from r and unwraps the data key
// with kw. Nothing the header declares is allocated before the wrapped key
// (which authenticates the header) has been unwrapped.
func NewReader(ctx context.Context, r io.Reader, kw KeyWrapper) (*Reader, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	dataKey, err := kw.UnwrapKey(ctx, h.wrapped, h.wrapAAD)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key (file KEK %q, given KEK %q): %w", h.kekID, kw.ID(), err)
	}
	if len(dataKey) != keySize {
		return nil, fmt.Errorf("unwrap data key: %w: %d-byte key", ErrAuth, len(dataKey))
	}
	defer clear(dataKey)
	s, err := newStream(dataKey, h)
	if err != nil {
		return nil, err
	}
	return &Reader{r: r, s: s, buf: make([]byte, h.chunkSize+Overhead), kekID: h.kekID}, nil
}

// KEKID returns the KEK id recorded in the header.
func (r *Reader) KEKID() string { return r.kekID }

// readHeader parses the header, bounding every length.
func readHeader(r io.Reader) (*header, error) {
	raw := make([]byte, fixedHeader, fixedHeader+255+2+MaxWrappedKey)
	if n, err := io.ReadFull(r, raw); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %d-byte file is shorter than a header", ErrFormat, n)
		}
		return nil, fmt.Errorf("read header: %w", err)
	}
	if string(raw[:7]) != Magic {
		return nil, fmt.Errorf("%w: bad magic %q at byte 0", ErrFormat, raw[:7])
	}
	if raw[7] != Version {
		return nil, fmt.Errorf("%w: unsupported format version %d at byte 7 (this build reads version %d)", ErrFormat, raw[7], Version)
	}
	if raw[8] != AlgAES256GCM {
		return nil, fmt.Errorf("%w: unknown algorithm %d at byte 8", ErrFormat, raw[8])
	}
	h := &header{chunkSize: int(binary.BigEndian.Uint32(raw[9:13]))}
	if h.chunkSize < MinChunkSize || h.chunkSize > MaxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d at byte 9 outside %d..%d", ErrFormat, h.chunkSize, MinChunkSize, MaxChunkSize)
	}
	copy(h.prefix[:], raw[13:17])
	k := int(raw[17])
	raw = raw[:fixedHeader+k+2]
	if _, err := io.ReadFull(r, raw[fixedHeader:]); err != nil {
		return nil, fmt.Errorf("%w: header ends inside the KEK id at byte %d: %v", ErrFormat, fixedHeader, err)
	}
	h.kekID = string(raw[fixedHeader : fixedHeader+k])
	w := int(binary.BigEndian.Uint16(raw[fixedHeader+k:]))
	if w == 0 || w > MaxWrappedKey {
		return nil, fmt.Errorf("%w: wrapped key length %d at byte %d outside 1..%d", ErrFormat, w, fixedHeader+k, MaxWrappedKey)
	}
	start := len(raw)
	raw = raw[:start+w]
	if _, err := io.ReadFull(r, raw[start:]); err != nil {
		return nil, fmt.Errorf("%w: header ends inside the wrapped key at byte %d: %v", ErrFormat, start, err)
	}
	h.raw = raw
	h.wrapAAD = raw[:fixedHeader+k]
	h.wrapped = raw[start:]
	return h, nil
}

// Read implements io.Reader. It returns io.EOF only after the final chunk
// authenticated; an error wrapping ErrAuth or ErrTruncated otherwise.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.open()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// WriteTo implements io.WriterTo, writing each chunk's plaintext as soon
// as it is authenticated.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.plain) > 0 {
			n, err := w.Write(r.plain)
			total += int64(n)
			r.plain = r.plain[n:]
			if err != nil {
				return total, err
			}
		}
		if r.err != nil {
			return total, r.err
		}
		if r.done {
			return total, nil
		}
		r.err = r.open()
	}
}

// open reads and authenticates the next chunk.
func (r *Reader) open() error {
	s := r.s
	off := s.offset()
	n, err := io.ReadFull(r.r, r.buf)
	final := false
	switch {
	case err == nil:
	case err == io.EOF:
		return fmt.Errorf("%w: the file ends at byte %d, before its final chunk %d", ErrTruncated, off, s.index)
	case err == io.ErrUnexpectedEOF:
		if n < Overhead {
			return fmt.Errorf("%w: chunk %d at byte %d is %d bytes, shorter than its tag", ErrTruncated, s.index, off, n)
		}
		final = true
	default:
		return fmt.Errorf("read chunk %d at byte %d: %w", s.index, off, err)
	}
	s.next(final)
	plain, err := s.aead.Open(r.buf[:0], s.nonce[:], r.buf[:n], s.aad[:])
	if err != nil {
		what := "changed, reordered, spliced or truncated"
		if s.index == 0 {
			what = "changed, truncated or from another file"
		}
		return fmt.Errorf("%w: chunk %d at byte %d: %s", ErrAuth, s.index, off, what)
	}
	r.plain = plain
	s.index++
	r.done = final
	return nil
}
