package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rampartsec/rampart/finding"
)

// ErrNotArchive is returned by Walk for input that is no container format
// this package recognises.
var ErrNotArchive = errors.New("archive: not an archive")

// Walk recognises the container format of r by its content, whatever the
// file is called, and walks it with WalkZip, WalkTar or WalkCompressed
// (zlib is recognised by the 78 01/5e/9c/da headers encoders write). A
// ZIP with data in front of it (a polyglot such as a pickle followed by a
// ZIP) is recognised by its end of central directory record, and an LZMA
// "alone" stream, which has no magic number, by a header that decodes.
// Formats that are recognised but not walked (7z, RAR) give a NotInspected
// finding; anything else gives ErrNotArchive.
func Walk(ctx context.Context, r io.ReaderAt, size int64, lim Limits, fn func(Entry) error) (Format, []finding.Finding, error) {
	head := make([]byte, min(int64(SniffLen), max(size, 0)))
	if n, err := r.ReadAt(head, 0); n < len(head) && err != nil && !errors.Is(err, io.EOF) {
		return Unknown, nil, fmt.Errorf("archive: reading the file head: %w", err)
	}
	f := Sniff(head)
	if f == Unknown && isZlib(head) {
		f = Zlib
	}
	if f == Unknown && IsLZMA(head) {
		f = LZMA
	}
	if f == Unknown {
		ok, err := hasEndRecord(r, size)
		if err != nil {
			return Unknown, nil, err
		}
		if !ok {
			return Unknown, nil, ErrNotArchive
		}
		f = Zip
	}
	var fs []finding.Finding
	var err error
	switch f {
	case Zip:
		fs, err = WalkZip(ctx, r, size, lim, fn)
	case Tar:
		fs, err = WalkTar(ctx, r, size, lim, fn)
	default:
		fs, err = WalkCompressed(ctx, r, size, f, lim, fn)
	}
	return f, fs, err
}

// hasEndRecord reports whether the last 64 KiB of r hold a ZIP end of
// central directory record.
func hasEndRecord(r io.ReaderAt, size int64) (bool, error) {
	n := min(size, endLen+maxComment)
	if n < endLen {
		return false, nil
	}
	tail := make([]byte, n)
	if m, err := r.ReadAt(tail, size-n); int64(m) < n && err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("archive: reading the file tail: %w", err)
	}
	return bytes.Contains(tail, []byte(sigEnd)), nil
}
