package archive

import (
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"io"

	"github.com/rampartsec/rampart/finding"
)

// WalkCompressed treats a compressed stream — gzip, zlib (joblib's
// default compressor) or bzip2 — as an archive of one entry and calls fn
// with it; the entry's reader yields the decompressed bytes within the
// limits (entry size, total size, and MaxRatio against the file size), so
// a compression bomb stops at the limit. The caller sniffs what the
// stream holds (a pickle, a tar). Formats other than these three are
// reported with NotInspected and fn is not called. Damaged compressed
// data is reported when the reader meets it.
func WalkCompressed(ctx context.Context, r io.ReaderAt, size int64, f Format, lim Limits, fn func(Entry) error) ([]finding.Finding, error) {
	w := newWalk(ctx, lim)
	if w.depthExceeded() {
		return w.result(), nil
	}
	if size < 0 {
		return nil, fmt.Errorf("archive: negative size %d", size)
	}
	if f != Gzip && f != Zlib && f != Bzip2 {
		w.add(NotInspected(f))
		return w.result(), nil
	}
	name := ""
	open := func() (io.ReadCloser, error) {
		src := io.NewSectionReader(r, 0, size)
		var dec io.Reader
		var closer io.Closer
		switch f {
		case Gzip:
			zr, err := gzip.NewReader(src)
			if err != nil {
				w.addOnce(newFinding(RuleMalformed, 0, name, fmt.Sprintf("gzip header: %v", err)))
				return nil, fmt.Errorf("archive: gzip header: %w", err)
			}
			dec, closer = zr, zr
		case Zlib:
			zr, err := zlib.NewReader(src)
			if err != nil {
				w.addOnce(newFinding(RuleMalformed, 0, name, fmt.Sprintf("zlib header: %v", err)))
				return nil, fmt.Errorf("archive: zlib header: %w", err)
			}
			dec, closer = zr, zr
		case Bzip2:
			dec = bzip2.NewReader(src)
		}
		br := &boundedReader{w: w, src: dec, closer: closer, name: name, declared: -1, capN: w.lim.MaxEntrySize}
		if size > 0 && size < (1<<62)/w.lim.MaxRatio {
			br.ratioMax = size * w.lim.MaxRatio
		}
		return br, nil
	}
	e := Entry{Name: name, CompressedSize: size, Size: -1, Depth: w.lim.Depth, open: open, nested: w.nestedLimits}
	if err := fn(e); err != nil {
		return w.result(), err
	}
	return w.result(), nil
}
