package archive

import (
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/rampartsec/rampart/finding"
)

// WalkCompressed treats a compressed stream — gzip, zlib (joblib's
// default compressor), bzip2, xz, LZMA "alone", zstd or LZ4 (joblib's
// other compressors; tar.xz and tar.zst archives) — as an archive of one
// entry and calls fn with it; the entry's reader yields the decompressed
// bytes within the limits (entry size, total size, and MaxRatio against
// the file size), so a compression bomb stops at the limit, and the xz,
// LZMA and zstd decoders keep at most MaxDictionary bytes of history
// whatever the stream declares. The caller sniffs what the stream holds (a
// pickle, a tar). Other formats (7z, RAR) are reported with NotInspected
// and fn is not called. Damaged compressed data, data that needs more
// history than MaxDictionary and xz filters other than LZMA2 are reported
// when the reader meets them.
func WalkCompressed(ctx context.Context, r io.ReaderAt, size int64, f Format, lim Limits, fn func(Entry) error) ([]finding.Finding, error) {
	w := newWalk(ctx, lim)
	if w.depthExceeded() {
		return w.result(), nil
	}
	if size < 0 {
		return nil, fmt.Errorf("archive: negative size %d", size)
	}
	if f == Zip || f == Tar || !f.Inspected() {
		w.add(NotInspected(f))
		return w.result(), nil
	}
	name := ""
	var ratioMax int64
	if size > 0 && size < (1<<62)/w.lim.MaxRatio {
		ratioMax = size * w.lim.MaxRatio
	}
	hist := historyLimit(w.lim, ratioMax)
	open := func() (io.ReadCloser, error) {
		dec, closer, err := newDecoder(f, io.NewSectionReader(r, 0, size), hist, w.lim.MaxDictionary)
		if err != nil {
			w.addOnce(newFinding(RuleMalformed, 0, name, err.Error()))
			return nil, fmt.Errorf("archive: %w", err)
		}
		br := &boundedReader{w: w, src: dec, closer: closer, name: name, declared: -1, capN: w.lim.MaxEntrySize}
		br.ratioMax = ratioMax
		return br, nil
	}
	e := Entry{Name: name, CompressedSize: size, Size: -1, Depth: w.lim.Depth, open: open, nested: w.nestedLimits}
	if err := fn(e); err != nil {
		return w.result(), err
	}
	return w.result(), nil
}

// zstdReader classifies the zstd decoder's errors: a frame whose window is
// larger than the limit is errDictionary, anything else corrupt data.
type zstdReader struct {
	zr        *zstd.Decoder
	maxWindow int64
}

func (z *zstdReader) Read(p []byte) (int, error) {
	n, err := z.zr.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		err = fmt.Errorf("%w: zstd frame needs a window above the %d bytes the scanner allows: %v", errDictionary, z.maxWindow, err)
	default:
		err = fmt.Errorf("%w: zstd: %v", errCorrupt, err)
	}
	return n, err
}

// lz4Reader reports the LZ4 decoder's errors as corrupt data.
type lz4Reader struct{ zr *lz4.Reader }

func (l *lz4Reader) Read(p []byte) (int, error) {
	n, err := l.zr.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: lz4: %v", errCorrupt, err)
	}
	return n, err
}

// closerFunc is a Close method without an error.
type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// historyLimit is the largest LZMA dictionary worth allocating for an
// entry: no match reaches further back than the most output the limits let
// through (the entry limit, and the ratio limit ratioMax when it is set).
func historyLimit(lim Limits, ratioMax int64) int64 {
	hist := min(lim.MaxDictionary, lim.MaxEntrySize)
	if ratioMax > 0 {
		hist = min(hist, max(ratioMax, RatioFloor))
	}
	return hist
}

// newDecoder returns the decompressing reader of src in format f, with an
// LZMA dictionary of at most hist bytes and a zstd window of at most
// maxWindow, and the closer to release it (nil when none). Its error is a
// damaged header.
func newDecoder(f Format, src io.Reader, hist, maxWindow int64) (io.Reader, io.Closer, error) {
	switch f {
	case Gzip:
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip header: %w", err)
		}
		return zr, zr, nil
	case Zlib:
		zr, err := zlib.NewReader(src)
		if err != nil {
			return nil, nil, fmt.Errorf("zlib header: %w", err)
		}
		return zr, zr, nil
	case Bzip2:
		return bzip2.NewReader(src), nil, nil
	case XZ:
		return newXZReader(src, hist), nil, nil
	case LZMA:
		lr, err := newLZMAReader(src, hist)
		if err != nil {
			return nil, nil, err
		}
		return lr, nil, nil
	case Zstd:
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(uint64(maxWindow)))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return &zstdReader{zr: zr, maxWindow: maxWindow}, closerFunc(zr.Close), nil
	case LZ4:
		return &lz4Reader{zr: lz4.NewReader(src)}, nil, nil
	}
	return nil, nil, fmt.Errorf("%s streams are not decoded", f)
}
