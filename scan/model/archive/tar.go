package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// countingReader tracks the position of the tar stream, to place entries,
// and seeks over data nobody reads; it marks errors of the underlying
// reader as readErrors.
type countingReader struct {
	r *io.SectionReader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

func (c *countingReader) Seek(off int64, whence int) (int64, error) {
	n, err := c.r.Seek(off, whence)
	if err == nil {
		c.n = n
	}
	return n, err
}

// WalkTar walks the tar archive in r (size bytes), such as a legacy
// PyTorch checkpoint (members sys_info, pickle, storages, tensors), calling
// fn for each regular file and link, in order. An entry's Open must be
// called, and its reader used, before fn returns: tar is read as a stream.
// Links, special files, path traversal, duplicate names and exceeded
// limits are returned as findings; a damaged header ends the walk with a
// finding at its offset. The error is non-nil only when the context ends,
// r fails to read, or fn returns an error (returned as is).
func WalkTar(ctx context.Context, r io.ReaderAt, size int64, lim Limits, fn func(Entry) error) ([]finding.Finding, error) {
	w := newWalk(ctx, lim)
	if w.depthExceeded() {
		return w.result(), nil
	}
	if size < 0 {
		return nil, fmt.Errorf("archive: negative size %d", size)
	}
	cr := &countingReader{r: io.NewSectionReader(r, 0, size)}
	tr := tar.NewReader(cr)
	seen := map[string]int64{}
	var declared int64
	before := int64(0) // where the next header should start
	for count := 0; ; count++ {
		if err := ctx.Err(); err != nil {
			return w.result(), err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *readError
			if errors.As(err, &pe) {
				return w.result(), err
			}
			w.add(newFinding(RuleMalformed, before, "", fmt.Sprintf("tar header after offset %d: %v", before, err)))
			break
		}
		if count >= w.lim.MaxEntries {
			w.add(newFinding(RuleLimit, before, "", fmt.Sprintf("more than %d entries: the rest are not inspected", w.lim.MaxEntries)))
			break
		}
		dataOff := cr.n
		off := max(dataOff-512, 0)
		if h.Size > 0 && h.Size < 1<<62 && h.Typeflag != tar.TypeGNUSparse {
			before = dataOff + (h.Size+511)&^511
		} else {
			before = dataOff
		}
		name := h.Name
		if prev, dup := seen[name]; dup {
			w.add(newFinding(RuleDuplicate, off, name, fmt.Sprintf("entry %q at offset %d repeats the name of the entry at offset %d: extraction keeps the last one", name, off, prev)))
		} else {
			seen[name] = off
		}
		if bad := traversal(name); bad != "" {
			w.add(newFinding(RulePathTraversal, off, name, fmt.Sprintf("entry name %q %s", name, bad)))
		}
		ent := Entry{
			Name:           name,
			Offset:         off,
			DataOffset:     dataOff,
			CompressedSize: h.Size,
			Size:           h.Size,
			Depth:          w.lim.Depth,
			nested:         w.nestedLimits,
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse:
		case tar.TypeSymlink, tar.TypeLink:
			ent.Link = true
			w.add(newFinding(RuleSymlink, off, name, fmt.Sprintf("entry %q is a link to %q: extracting it can redirect reads or writes outside the directory", name, modelfinding.Clip(h.Linkname, 256))))
			if bad := traversal(h.Linkname); bad != "" {
				w.add(newFinding(RulePathTraversal, off, name, fmt.Sprintf("link target %q %s", modelfinding.Clip(h.Linkname, 256), bad)))
			}
		case tar.TypeDir:
			continue
		default:
			w.add(newFinding(RuleSpecialFile, off, name, fmt.Sprintf("entry %q has type %q (device, FIFO or unknown)", name, h.Typeflag)))
			continue
		}
		if h.Size > w.lim.MaxEntrySize {
			w.add(newFinding(RuleLimit, off, name, fmt.Sprintf("entry %q declares %d bytes, over the per-entry limit of %d: its reader stops there", name, h.Size, w.lim.MaxEntrySize)))
		}
		declared += max(h.Size, 0)
		if declared > w.lim.MaxTotalSize && declared-h.Size <= w.lim.MaxTotalSize {
			w.add(newFinding(RuleLimit, off, name, fmt.Sprintf("entries declare more than the total limit of %d bytes: readers stop there", w.lim.MaxTotalSize)))
		}
		turn := true
		ent.open = func() (io.ReadCloser, error) {
			if !turn {
				return nil, fmt.Errorf("archive: tar entry %q opened after its turn: %w", name, ErrClosed)
			}
			turn = false
			return &boundedReader{
				w:        w,
				src:      tr,
				name:     name,
				off:      off,
				declared: h.Size,
				capN:     w.lim.MaxEntrySize,
			}, nil
		}
		err = fn(ent)
		turn = false
		if err != nil {
			return w.result(), err
		}
	}
	return w.result(), nil
}

// readError marks an I/O error of the underlying reader, as opposed to a
// format error of the archive.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }
