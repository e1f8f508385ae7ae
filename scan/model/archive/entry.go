package archive

import (
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Entry is one member of an archive, as a walk yields it. Open and Nested
// may be called only while the walk's callback for this entry runs.
type Entry struct {
	// Name is the member's path inside the archive: for ZIP the central
	// directory's name (what loaders look up), or the local header's for an
	// entry the central directory does not list.
	Name string
	// LocalName is the name in the ZIP local file header; it differs from
	// Name in a name-mismatch evasion. Empty for tar.
	LocalName string
	// Offset is the byte offset of the entry's header: the ZIP local file
	// header, or the last tar header block before the data.
	Offset int64
	// DataOffset is the byte offset of the entry's (compressed) data.
	DataOffset int64
	// CompressedSize is the number of stored data bytes (ZIP); for tar it
	// equals Size.
	CompressedSize int64
	// Size is the declared uncompressed size, or -1 when no header
	// declares it (a local-only ZIP entry with a data descriptor).
	Size int64
	// Method is the ZIP compression method (0 store, 8 deflate); 0 for tar.
	Method uint16
	// Flags is the ZIP general-purpose bit flag; 0 for tar.
	Flags uint16
	// CRC32 is the declared CRC-32 of the uncompressed data (ZIP).
	CRC32 uint32
	// Encrypted is true when the data really is encrypted; Open then
	// fails with ErrEncrypted.
	Encrypted bool
	// InCentral is false for a ZIP entry found only by its local header.
	InCentral bool
	// Link is true for a symbolic or hard link; its target is not followed.
	Link bool
	// Depth is the nesting depth of the archive holding this entry.
	Depth int

	open   func() (io.ReadCloser, error)
	nested func() Limits
}

// Open returns a reader of the entry's uncompressed data. The reader
// yields at most the entry's declared size and at most the walk's limits;
// a limit that stops it before the end makes it return ErrLimit, and the
// walk reports the reason. A CRC mismatch is reported when the reader
// reaches the end; the data is still returned.
func (e Entry) Open() (io.ReadCloser, error) {
	if e.open == nil {
		return nil, fmt.Errorf("archive: entry %q: %w", e.Name, ErrClosed)
	}
	return e.open()
}

// Nested returns the limits for walking an archive found inside this
// entry: one level deeper, and with only the byte budget this walk has
// left.
func (e Entry) Nested() Limits {
	if e.nested == nil {
		return Limits{Depth: e.Depth + 1}
	}
	return e.nested()
}

// walk is the state one walk shares between its entries' readers.
type walk struct {
	ctx      context.Context
	lim      Limits
	used     int64                // bytes yielded by all readers so far
	findings modelfinding.Counter // capped per rule
	reported map[string]bool      // rule+offset already reported by a reader
}

func newWalk(ctx context.Context, lim Limits) *walk {
	return &walk{ctx: ctx, lim: lim.withDefaults(), reported: map[string]bool{}}
}

// MaxPerRule is the number of findings of one rule a walk lists; the
// rest are counted in one summary finding, so that an archive of a million
// damaged entries does not produce a million findings.
const MaxPerRule = modelfinding.MaxPerRule

func (w *walk) add(f finding.Finding) { w.findings.Add(f) }

// result returns the findings, with a summary for each rule that had more
// than MaxPerRule.
func (w *walk) result() []finding.Finding { return w.findings.Findings() }

// addOnce adds f unless a finding of the same rule at the same offset was
// added before (readers may be opened more than once).
func (w *walk) addOnce(f finding.Finding) {
	k := fmt.Sprintf("%s@%d", f.RuleID, f.Location.Offset)
	if w.reported[k] {
		return
	}
	w.reported[k] = true
	w.add(f)
}

func (w *walk) nestedLimits() Limits {
	l := w.lim
	l.Depth++
	left := l.MaxTotalSize - w.used
	if left < 1 {
		left = 1
	}
	l.MaxTotalSize = left
	return l
}

// depthExceeded reports, as a finding, an archive nested past MaxDepth.
func (w *walk) depthExceeded() bool {
	if w.lim.Depth <= w.lim.MaxDepth {
		return false
	}
	w.add(newFinding(RuleDepth, 0, "", fmt.Sprintf("archive nested %d levels deep (limit %d): not walked", w.lim.Depth, w.lim.MaxDepth)))
	return true
}

// boundedReader yields an entry's data within the walk's limits, checking
// the CRC (ZIP) and the declared size at the end.
type boundedReader struct {
	w      *walk
	src    io.Reader
	closer io.Closer
	name   string
	off    int64 // entry header offset, for findings

	declared int64 // declared size, -1 if unknown
	capN     int64 // bytes this reader may yield (entry limit)
	ratioMax int64 // bytes allowed by the ratio limit, 0 for none
	n        int64 // bytes yielded

	checkCRC bool
	wantCRC  uint32
	crc      uint32

	err error // sticky
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if err := b.w.ctx.Err(); err != nil {
		b.err = err
		return 0, err
	}
	if b.declared >= 0 && b.n >= b.declared {
		return 0, b.finish()
	}
	if b.n >= b.capN {
		b.err = b.limit(RuleLimit, fmt.Sprintf("entry %q stopped at %d bytes: the per-entry limit", b.name, b.capN))
		return 0, b.err
	}
	if b.w.used >= b.w.lim.MaxTotalSize {
		b.err = b.limit(RuleLimit, fmt.Sprintf("entry %q stopped at %d bytes: the walk's total of %d bytes is spent", b.name, b.n, b.w.lim.MaxTotalSize))
		return 0, b.err
	}
	if b.ratioMax > 0 && b.n >= b.ratioMax && b.n >= RatioFloor {
		b.err = b.limit(RuleRatio, fmt.Sprintf("entry %q inflates past %d× its compressed size: stopped at %d bytes", b.name, b.w.lim.MaxRatio, b.n))
		return 0, b.err
	}
	max := int64(len(p))
	for _, lim := range []int64{b.capN - b.n, b.w.lim.MaxTotalSize - b.w.used} {
		if lim < max {
			max = lim
		}
	}
	if b.declared >= 0 && b.declared-b.n < max {
		max = b.declared - b.n
	}
	if b.ratioMax > 0 && b.n < b.ratioMax {
		// Allow a read to cross RatioFloor; the check above stops the next.
		if r := max64(b.ratioMax, RatioFloor) - b.n; r > 0 && r < max {
			max = r
		}
	}
	n, err := b.src.Read(p[:max])
	b.n += int64(n)
	b.w.used += int64(n)
	if b.checkCRC {
		b.crc = crc32.Update(b.crc, crc32.IEEETable, p[:n])
	}
	if err == io.EOF {
		if n > 0 {
			return n, nil // report the end on the next call
		}
		return 0, b.finish()
	}
	if err != nil {
		b.err = b.corrupt(err)
		return n, b.err
	}
	return n, nil
}

// finish runs the end-of-entry checks and returns io.EOF.
func (b *boundedReader) finish() error {
	b.err = io.EOF
	switch {
	case b.declared >= 0 && b.n < b.declared:
		b.w.addOnce(newFinding(RuleSizeMismatch, b.off, b.name,
			fmt.Sprintf("entry %q holds %d bytes but declares %d", b.name, b.n, b.declared)))
	case b.declared >= 0:
		// Data beyond the declared size is ignored by loaders, but a
		// difference between headers and data is worth knowing.
		var one [1]byte
		if m, _ := io.ReadFull(b.src, one[:]); m > 0 {
			b.w.addOnce(newFinding(RuleSizeMismatch, b.off, b.name,
				fmt.Sprintf("entry %q holds more data than the %d bytes it declares", b.name, b.declared)))
		}
	}
	if b.checkCRC && b.declared >= 0 && b.n == b.declared && b.crc != b.wantCRC {
		b.w.addOnce(newFinding(RuleCRC, b.off, b.name,
			fmt.Sprintf("entry %q has CRC-32 %08x but declares %08x; Python's zipfile refuses it, PyTorch does not check", b.name, b.crc, b.wantCRC)))
	}
	return io.EOF
}

func (b *boundedReader) limit(r *finding.Rule, msg string) error {
	b.w.addOnce(newFinding(r, b.off, b.name, msg))
	return fmt.Errorf("entry %q at offset %d: %w", b.name, b.off, ErrLimit)
}

func (b *boundedReader) corrupt(err error) error {
	var unsupported *unsupportedError
	switch {
	case errors.Is(err, errDictionary):
		b.w.addOnce(newFinding(RuleLimit, b.off, b.name,
			fmt.Sprintf("entry %q stopped at %d bytes: %v", b.name, b.n, err)))
		return fmt.Errorf("entry %q at offset %d: %w: %w", b.name, b.off, ErrLimit, err)
	case errors.As(err, &unsupported):
		b.w.addOnce(newFinding(RuleFilterEvasion, b.off, b.name,
			fmt.Sprintf("entry %q stopped at %d bytes: %v", b.name, b.n, err)))
		return fmt.Errorf("entry %q at offset %d: %w: %w", b.name, b.off, ErrLimit, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || isFlateError(err) || errors.Is(err, errCorrupt):
		b.w.addOnce(newFinding(RuleMalformed, b.off, b.name,
			fmt.Sprintf("entry %q: compressed data is corrupt after %d bytes: %v", b.name, b.n, err)))
	}
	return fmt.Errorf("archive: reading entry %q at offset %d: %w", b.name, b.off, err)
}

func (b *boundedReader) Close() error {
	if b.err == nil {
		b.err = ErrClosed
	}
	if b.closer != nil {
		return b.closer.Close()
	}
	return nil
}

func isFlateError(err error) bool {
	var ce flate.CorruptInputError
	var ie flate.InternalError
	return errors.As(err, &ce) || errors.As(err, &ie)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
