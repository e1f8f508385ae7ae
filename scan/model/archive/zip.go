package archive

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/flate"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// ZIP record signatures and sizes.
const (
	sigLocal      = "PK\x03\x04"
	sigCentral    = "PK\x01\x02"
	sigEnd        = "PK\x05\x06"
	sigEnd64      = "PK\x06\x06"
	sigEnd64Loc   = "PK\x06\x07"
	sigDescriptor = "PK\x07\x08"

	localLen   = 30
	centralLen = 46
	endLen     = 22
	end64Len   = 56
	end64LocLn = 20
	maxComment = 1<<16 - 1
)

// General-purpose flag bits.
const (
	flagEncrypted       = 1 << 0
	flagDescriptor      = 1 << 3
	flagPatched         = 1 << 5
	flagStrongEncrypted = 1 << 6
	flagCentralMasked   = 1 << 13
	flagLZMAEOS         = 1 << 1 // method 14: the data ends with an end marker
)

// Compression methods.
const (
	methodStore   = 0
	methodDeflate = 8
	methodBzip2   = 12
	methodLZMA    = 14
	methodZstd    = 93
	methodXZ      = 95
	methodAES     = 99
)

// zipEntry is what the central directory and the local header say about
// one entry.
type zipEntry struct {
	name, localName    string
	inCentral, hasLoc  bool
	flags, method      uint16
	creator            uint8
	extAttr            uint32
	crc                uint32
	csize, usize       int64 // usize -1 when unknown
	sizeUnknown        bool  // csize only bounds the data (descriptor, no central entry)
	localOff, dataOff  int64
	locFlags           uint16
	locMethod          uint16
	locCSize, locUSize int64
	encrypted          bool
}

func (e *zipEntry) dataEnd() int64 { return e.dataOff + e.csize }

// zipWalker holds one ZIP walk.
type zipWalker struct {
	*walk
	r       io.ReaderAt
	size    int64
	entries []*zipEntry
	covered [][2]int64 // byte ranges the structure accounts for

	searchBuf []byte
}

// WalkZip walks the ZIP archive in r (size bytes), calling fn for each
// entry: first the central directory's entries in its order, then entries
// found only by their local headers, in file order. Structural problems,
// evasion tricks and exceeded limits are returned as findings (with the
// byte offset and entry name in their location); the error is non-nil
// only when the context ends, r fails to read, fn returns an error (which
// is returned as is), or r holds no ZIP structure at all (ErrNotZip).
//
// Entries are yielded even when damaged, so that the caller can inspect
// what a tolerant loader would read. Open on an entry reads the data
// (store and deflate); encrypted entries and other methods are reported
// and not opened.
func WalkZip(ctx context.Context, r io.ReaderAt, size int64, lim Limits, fn func(Entry) error) ([]finding.Finding, error) {
	w := &zipWalker{walk: newWalk(ctx, lim), r: r, size: size}
	if w.depthExceeded() {
		return w.result(), nil
	}
	if size < 0 {
		return nil, fmt.Errorf("archive: negative size %d", size)
	}
	found, err := w.readCentral()
	if err != nil {
		return w.result(), err
	}
	for _, e := range w.entries {
		if err := w.readLocal(e); err != nil {
			return w.result(), err
		}
	}
	if err := w.searchGaps(); err != nil {
		return w.result(), err
	}
	if !found && len(w.entries) == 0 {
		return nil, ErrNotZip
	}
	w.check()
	for _, e := range w.entries {
		if err := ctx.Err(); err != nil {
			return w.result(), err
		}
		if err := fn(w.entry(e)); err != nil {
			return w.result(), err
		}
	}
	return w.result(), nil
}

// readAt reads n bytes at off; ok is false when the file is too short.
func (w *zipWalker) readAt(off int64, n int) (b []byte, ok bool, err error) {
	if off < 0 || n < 0 || off > w.size || int64(n) > w.size-off {
		return nil, false, nil
	}
	b = make([]byte, n)
	m, err := w.r.ReadAt(b, off)
	if m == n {
		return b, true, nil
	}
	if err == io.EOF || err == nil {
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("archive: reading %d bytes at offset %d: %w", n, off, err)
}

// readCentral finds the end of central directory record and parses the
// central directory. found reports whether an end record exists.
func (w *zipWalker) readCentral() (found bool, err error) {
	tailLen := int64(endLen + maxComment)
	if tailLen > w.size {
		tailLen = w.size
	}
	tail, ok, err := w.readAt(w.size-tailLen, int(tailLen))
	if err != nil || !ok {
		return false, err
	}
	tailOff := w.size - tailLen
	// The last end record whose comment length reaches the end of the file
	// is the one readers use; fall back to the last one at all.
	endPos := int64(-1)
	for i := bytes.LastIndex(tail, []byte(sigEnd)); i >= 0; i = bytes.LastIndex(tail[:i], []byte(sigEnd)) {
		if len(tail)-i < endLen {
			continue
		}
		if endPos < 0 {
			endPos = tailOff + int64(i)
		}
		if cl := int(binary.LittleEndian.Uint16(tail[i+20:])); i+endLen+cl == len(tail) {
			endPos = tailOff + int64(i)
			break
		}
	}
	if endPos < 0 {
		w.add(newFinding(RuleMalformed, 0, "", "no end of central directory record: entries found by their local headers only"))
		return false, nil
	}
	end := tail[endPos-tailOff:]
	disk := binary.LittleEndian.Uint16(end[4:])
	cdDisk := binary.LittleEndian.Uint16(end[6:])
	count := int64(binary.LittleEndian.Uint16(end[10:]))
	cdSize := int64(binary.LittleEndian.Uint32(end[12:]))
	cdOff := int64(binary.LittleEndian.Uint32(end[16:]))
	comment := int64(binary.LittleEndian.Uint16(end[20:]))
	endEnd := endPos + endLen + comment
	if endEnd > w.size {
		w.add(newFinding(RuleMalformed, endPos, "", fmt.Sprintf("end record's comment (%d bytes) runs past the end of the file", comment)))
		endEnd = w.size
	} else if endEnd < w.size {
		w.add(newFinding(RuleTrailingData, endEnd, "", fmt.Sprintf("%d bytes after the end of central directory record", w.size-endEnd)))
	}
	w.cover(endPos, endEnd)
	if disk != 0 || cdDisk != 0 {
		w.add(newFinding(RuleMalformed, endPos, "", "multi-disk archive: only this part is inspected"))
	}

	// ZIP64: the locator sits just before the end record.
	if loc, ok, err := w.readAt(endPos-end64LocLn, end64LocLn); err != nil {
		return true, err
	} else if ok && string(loc[:4]) == sigEnd64Loc {
		w.cover(endPos-end64LocLn, endPos)
		off := clampU64(binary.LittleEndian.Uint64(loc[8:]))
		rec, ok, err := w.readAt(off, end64Len)
		if err != nil {
			return true, err
		}
		if !ok || string(rec[:4]) != sigEnd64 {
			w.add(newFinding(RuleMalformed, endPos-end64LocLn, "", fmt.Sprintf("ZIP64 locator points at offset %d, which holds no ZIP64 end record", off)))
		} else {
			w.cover(off, off+end64Len)
			count = clampU64(binary.LittleEndian.Uint64(rec[32:]))
			cdSize = clampU64(binary.LittleEndian.Uint64(rec[40:]))
			cdOff = clampU64(binary.LittleEndian.Uint64(rec[48:]))
		}
	}

	// A central directory that is not where the end record says, but
	// just before it, means data was prepended (self-extracting archives,
	// polyglots); readers adjust every offset by the difference.
	var base int64
	if cdOff > w.size || cdSize > w.size || !w.sigAt(cdOff, sigCentral) {
		if guess := endPos - cdSize; guess >= 0 && w.sigAt(guess, sigCentral) {
			base = guess - cdOff
		} else if count > 0 {
			w.add(newFinding(RuleMalformed, endPos, "", fmt.Sprintf("central directory at offset %d (%d bytes) not found", cdOff, cdSize)))
			return true, nil
		}
	}
	start := cdOff + base
	if start+cdSize > w.size {
		cdSize = w.size - start
	}
	w.cover(start, start+cdSize)
	return true, w.parseCentral(start, cdSize, count, base)
}

func clampU64(v uint64) int64 {
	if v > 1<<62 {
		return 1 << 62
	}
	return int64(v)
}

func (w *zipWalker) sigAt(off int64, sig string) bool {
	b, ok, _ := w.readAt(off, 4)
	return ok && string(b) == sig
}

func (w *zipWalker) cover(from, to int64) {
	if to > from {
		w.covered = append(w.covered, [2]int64{from, to})
	}
}

// parseCentral reads the central directory records in [start,start+n).
func (w *zipWalker) parseCentral(start, n, declared, base int64) error {
	buf := newByteReader(bufio.NewReaderSize(io.NewSectionReader(w.r, start, n), 64<<10))
	pos := start
	var parsed int64
	for pos+centralLen <= start+n {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		h, err := buf.next(centralLen)
		if err != nil {
			return err
		}
		if h == nil || string(h[:4]) != sigCentral {
			if h != nil && string(h[:4]) == sigEnd64 {
				break
			}
			w.add(newFinding(RuleMalformed, pos, "", fmt.Sprintf("central directory record %d at offset %d has no signature", parsed, pos)))
			break
		}
		e := &zipEntry{inCentral: true}
		e.creator = h[5]
		e.flags = binary.LittleEndian.Uint16(h[8:])
		e.method = binary.LittleEndian.Uint16(h[10:])
		e.crc = binary.LittleEndian.Uint32(h[16:])
		csize := uint64(binary.LittleEndian.Uint32(h[20:]))
		usize := uint64(binary.LittleEndian.Uint32(h[24:]))
		nameLen := int(binary.LittleEndian.Uint16(h[28:]))
		extraLen := int(binary.LittleEndian.Uint16(h[30:]))
		commentLen := int(binary.LittleEndian.Uint16(h[32:]))
		e.extAttr = binary.LittleEndian.Uint32(h[38:])
		loff := uint64(binary.LittleEndian.Uint32(h[42:]))
		rest, err := buf.next(nameLen + extraLen + commentLen)
		if err != nil {
			return err
		}
		if rest == nil {
			w.add(newFinding(RuleMalformed, pos, "", fmt.Sprintf("central directory record %d at offset %d is truncated", parsed, pos)))
			break
		}
		e.name = string(rest[:nameLen])
		csize, usize, loff = zip64Extra(rest[nameLen:nameLen+extraLen], csize, usize, loff)
		e.csize, e.usize, e.localOff = clampU64(csize), clampU64(usize), clampU64(loff)+base
		recOff := pos
		pos += int64(centralLen + nameLen + extraLen + commentLen)
		parsed++
		if e.localOff < 0 || e.localOff >= w.size {
			w.add(newFinding(RuleMalformed, recOff, e.name, fmt.Sprintf("entry %q: central directory record at offset %d points at offset %d, outside the file", e.name, recOff, e.localOff)))
			continue
		}
		if len(w.entries) >= w.lim.MaxEntries {
			w.add(newFinding(RuleLimit, pos, "", fmt.Sprintf("more than %d entries: the rest are not inspected", w.lim.MaxEntries)))
			return nil
		}
		w.entries = append(w.entries, e)
	}
	if parsed != declared {
		w.add(newFinding(RuleMalformed, start, "", fmt.Sprintf("end record declares %d entries, central directory holds %d", declared, parsed)))
	}
	return nil
}

// zip64Extra applies a ZIP64 extended information extra field (id 1):
// each saturated 32-bit field is replaced, in order, by a 64-bit one.
func zip64Extra(extra []byte, csize, usize, loff uint64) (uint64, uint64, uint64) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if n > len(extra)-4 {
			break
		}
		field := extra[4 : 4+n]
		extra = extra[4+n:]
		if id != 1 {
			continue
		}
		take := func(v *uint64) {
			if *v == 0xffffffff && len(field) >= 8 {
				*v = binary.LittleEndian.Uint64(field)
				field = field[8:]
			}
		}
		take(&usize)
		take(&csize)
		take(&loff)
		break
	}
	return csize, usize, loff
}

// readLocal reads the local header of a central directory entry.
func (w *zipWalker) readLocal(e *zipEntry) error {
	h, ok, err := w.readAt(e.localOff, localLen)
	if err != nil {
		return err
	}
	if !ok || string(h[:4]) != sigLocal {
		w.add(newFinding(RuleMalformed, e.localOff, e.name, fmt.Sprintf("entry %q: no local file header at offset %d", e.name, e.localOff)))
		e.dataOff = -1
		return nil
	}
	e.hasLoc = true
	if err := w.parseLocal(e, h); err != nil {
		return err
	}
	if e.dataOff < 0 {
		return nil
	}
	if e.localName != e.name {
		w.add(newFinding(RuleNameMismatch, e.localOff, e.name,
			fmt.Sprintf("central directory names the entry %q, its local header %q: scanners reading one name miss what loaders read by the other", e.name, e.localName)))
	}
	if e.locMethod != e.method {
		w.add(newFinding(RuleSizeMismatch, e.localOff, e.name,
			fmt.Sprintf("entry %q: local header method %d, central directory method %d", e.name, e.locMethod, e.method)))
	}
	if e.locFlags&flagDescriptor == 0 && (e.locCSize != e.csize || e.locUSize != e.usize) {
		w.add(newFinding(RuleSizeMismatch, e.localOff, e.name,
			fmt.Sprintf("entry %q: local header sizes %d/%d, central directory %d/%d", e.name, e.locCSize, e.locUSize, e.csize, e.usize)))
	}
	w.coverEntry(e)
	return nil
}

// parseLocal parses the local header h (30 bytes) at e.localOff, setting
// the local name, flags, sizes and data offset (-1 if the header runs past
// the end of the file).
func (w *zipWalker) parseLocal(e *zipEntry, h []byte) error {
	e.locFlags = binary.LittleEndian.Uint16(h[6:])
	e.locMethod = binary.LittleEndian.Uint16(h[8:])
	lcrc := binary.LittleEndian.Uint32(h[14:])
	csize := uint64(binary.LittleEndian.Uint32(h[18:]))
	usize := uint64(binary.LittleEndian.Uint32(h[22:]))
	nameLen := int(binary.LittleEndian.Uint16(h[26:]))
	extraLen := int(binary.LittleEndian.Uint16(h[28:]))
	rest, ok, err := w.readAt(e.localOff+localLen, nameLen+extraLen)
	if err != nil {
		return err
	}
	if !ok {
		w.add(newFinding(RuleMalformed, e.localOff, e.name, fmt.Sprintf("local header at offset %d runs past the end of the file", e.localOff)))
		e.dataOff = -1
		return nil
	}
	e.localName = string(rest[:nameLen])
	csize, usize, _ = zip64Extra(rest[nameLen:], csize, usize, 0)
	e.locCSize, e.locUSize = clampU64(csize), clampU64(usize)
	e.dataOff = e.localOff + localLen + int64(nameLen+extraLen)
	if !e.inCentral {
		e.name = e.localName
		e.flags, e.method, e.crc = e.locFlags, e.locMethod, lcrc
		e.csize, e.usize = e.locCSize, e.locUSize
		if e.locFlags&flagDescriptor != 0 && e.csize == 0 {
			e.sizeUnknown = true
			e.usize = -1
		}
	}
	return nil
}

// coverEntry marks the entry's header, data and data descriptor as
// accounted for, clamping its data to the file.
func (w *zipWalker) coverEntry(e *zipEntry) {
	if e.dataOff > w.size {
		e.dataOff = w.size
	}
	if e.csize > w.size-e.dataOff {
		if !e.sizeUnknown {
			w.add(newFinding(RuleMalformed, e.localOff, e.name,
				fmt.Sprintf("entry %q: %d bytes of data declared at offset %d run past the end of the file", e.name, e.csize, e.dataOff)))
		}
		e.csize = w.size - e.dataOff
	}
	end := e.dataEnd()
	if (e.flags|e.locFlags)&flagDescriptor != 0 && !e.sizeUnknown {
		// Optional signature, CRC, then 32- or 64-bit sizes.
		n := int64(12)
		if w.sigAt(end, sigDescriptor) {
			n = 16
		}
		if e.csize >= 0xffffffff || e.usize >= 0xffffffff {
			n += 8
		}
		end = min(end+n, w.size)
	}
	w.cover(e.localOff, end)
}

// searchGaps looks for local headers in the bytes no entry, central
// directory or end record accounts for, in one forward pass over each
// gap, and reports prefixed and unaccounted data.
func (w *zipWalker) searchGaps() error {
	for _, g := range w.gaps() {
		for pos := g[0]; pos < g[1]; {
			e, err := w.findLocal(pos, g[1])
			if err != nil {
				return err
			}
			if e == nil {
				w.reportGap(pos, g[1])
				break
			}
			if e.localOff > pos {
				w.reportGap(pos, e.localOff)
			}
			if len(w.entries) >= w.lim.MaxEntries {
				w.add(newFinding(RuleLimit, e.localOff, e.name, fmt.Sprintf("more than %d entries: the rest are not inspected", w.lim.MaxEntries)))
				return nil
			}
			w.entries = append(w.entries, e)
			w.add(newFinding(RuleHidden, e.localOff, e.name,
				fmt.Sprintf("local file header of %q at offset %d is not in the central directory: scanners that trust the directory do not see it", e.name, e.localOff)))
			if e.sizeUnknown {
				if err := w.findDescriptor(e, g[1]); err != nil {
					return err
				}
			}
			if e.sizeUnknown {
				// The data runs to the next header found, or the gap end.
				next, err := w.findLocal(e.dataOff, g[1])
				if err != nil {
					return err
				}
				if next != nil {
					e.csize = next.localOff - e.dataOff
				} else {
					e.csize = g[1] - e.dataOff
				}
			}
			w.coverEntry(e)
			pos = max(e.dataEnd(), e.localOff+1)
		}
	}
	return nil
}

// gaps returns the uncovered byte ranges of the file, merging the covered
// ones.
func (w *zipWalker) gaps() [][2]int64 {
	slices.SortFunc(w.covered, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var out [][2]int64
	pos := int64(0)
	for _, c := range w.covered {
		if c[0] > pos {
			out = append(out, [2]int64{pos, c[0]})
		}
		pos = max(pos, c[1])
	}
	if pos < w.size {
		out = append(out, [2]int64{pos, w.size})
	}
	return out
}

// reportGap reports the bytes [from,to) that belong to no entry. Short
// gaps after an entry are not reported: data descriptors vary in length.
func (w *zipWalker) reportGap(from, to int64) {
	switch {
	case from == 0:
		w.add(newFinding(RulePrefix, 0, "", fmt.Sprintf("%d bytes before the first entry: a polyglot may hide another format (e.g. a pickle) in front of the archive", to)))
	case to-from > 24:
		w.add(newFinding(RuleMalformed, from, "", fmt.Sprintf("%d bytes at offset %d belong to no entry", to-from, from)))
	}
}

// findLocal returns the first plausible local file header in [from,to),
// or nil.
func (w *zipWalker) findLocal(from, to int64) (*zipEntry, error) {
	var found *zipEntry
	err := w.search(from, to, sigLocal, func(off int64) (bool, error) {
		e, err := w.localAt(off)
		found = e
		return e != nil, err
	})
	return found, err
}

// findDescriptor completes an entry whose sizes follow its data: it looks
// for a data descriptor with a signature whose compressed size matches its
// distance from the data, as tolerant readers do for streamed entries.
func (w *zipWalker) findDescriptor(e *zipEntry, to int64) error {
	return w.search(e.dataOff, to, sigDescriptor, func(off int64) (bool, error) {
		d, ok, err := w.readAt(off, 16)
		if err != nil || !ok {
			return false, err
		}
		if int64(binary.LittleEndian.Uint32(d[8:])) != off-e.dataOff {
			return false, nil
		}
		e.crc = binary.LittleEndian.Uint32(d[4:])
		e.csize = off - e.dataOff
		e.usize = int64(binary.LittleEndian.Uint32(d[12:]))
		e.sizeUnknown = false
		return true, nil
	})
}

// search calls accept with the offset of each occurrence of sig in
// [from,to) until accept returns true.
func (w *zipWalker) search(from, to int64, sig string, accept func(int64) (bool, error)) error {
	const chunk = 64 << 10
	if len(w.searchBuf) < chunk+len(sig)-1 {
		w.searchBuf = make([]byte, chunk+len(sig)-1)
	}
	buf := w.searchBuf[:chunk+len(sig)-1]
	for pos := from; pos < to; pos += chunk {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(buf)), w.size-pos)
		m, err := w.r.ReadAt(buf[:n], pos)
		if err != nil && err != io.EOF {
			return fmt.Errorf("archive: reading at offset %d: %w", pos, err)
		}
		b := buf[:m]
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte(sig))
			if j < 0 {
				break
			}
			off := pos + int64(i+j)
			i += j + 1
			if off >= to {
				return nil
			}
			ok, err := accept(off)
			if err != nil || ok {
				return err
			}
		}
	}
	return nil
}

// localAt parses a local header found by searching, or returns nil when
// the bytes at off are not a plausible one.
func (w *zipWalker) localAt(off int64) (*zipEntry, error) {
	h, ok, err := w.readAt(off, localLen)
	if err != nil || !ok {
		return nil, err
	}
	if v := binary.LittleEndian.Uint16(h[4:]); v > 255 || binary.LittleEndian.Uint16(h[26:]) == 0 {
		return nil, nil // implausible version, or no name
	}
	e := &zipEntry{localOff: off, hasLoc: true}
	if err := w.parseLocal(e, h); err != nil {
		return nil, err
	}
	if e.dataOff < 0 {
		return nil, nil
	}
	return e, nil
}

// check reports what is wrong with the entries as a whole and each one.
func (w *zipWalker) check() {
	seen := map[string]int64{}
	var declared int64
	for _, e := range w.entries {
		if prev, dup := seen[e.name]; dup {
			w.add(newFinding(RuleDuplicate, e.localOff, e.name,
				fmt.Sprintf("entry %q at offset %d repeats the name of the entry at offset %d: loaders and scanners may pick different ones", e.name, e.localOff, prev)))
		} else {
			seen[e.name] = e.localOff
		}
		if bad := traversal(e.name); bad != "" {
			w.add(newFinding(RulePathTraversal, e.localOff, e.name, fmt.Sprintf("entry name %q %s", e.name, bad)))
		}
		if e.localName != "" && e.localName != e.name {
			if bad := traversal(e.localName); bad != "" {
				w.add(newFinding(RulePathTraversal, e.localOff, e.localName, fmt.Sprintf("local header name %q %s", e.localName, bad)))
			}
		}
		if e.inCentral && e.creator == 3 && (e.extAttr>>16)&0o170000 == 0o120000 {
			w.add(newFinding(RuleSymlink, e.localOff, e.name, fmt.Sprintf("entry %q is a symbolic link: extracting it can redirect later writes outside the directory", e.name)))
		}
		if e.flags&flagCentralMasked != 0 {
			w.add(newFinding(RuleCentralEncrypted, e.localOff, e.name, "central directory encryption flag set: names and sizes may be masked"))
		}
		if e.dataOff >= 0 {
			w.checkFlags(e)
			if !e.encrypted && !decodable(e.method) {
				w.add(newFinding(RuleMethod, e.localOff, e.name, fmt.Sprintf("entry %q uses compression method %d (%s): its contents were not inspected", e.name, e.method, methodName(e.method))))
			}
			w.checkSize(e)
			if e.usize > 0 {
				declared += e.usize
			}
		}
	}
	if declared > w.lim.MaxTotalSize {
		w.add(newFinding(RuleLimit, 0, "", fmt.Sprintf("entries declare %d bytes in total, over the limit of %d: readers stop there", declared, w.lim.MaxTotalSize)))
	}
	w.checkOverlap()
}

// checkFlags decides whether an entry flagged as encrypted really is, and
// reports flag bits that only make strict readers give up.
func (w *zipWalker) checkFlags(e *zipEntry) {
	flags := e.flags | e.locFlags
	if e.method == methodAES {
		e.encrypted = true
	} else if flags&(flagEncrypted|flagStrongEncrypted) != 0 {
		e.encrypted = !w.plainDespiteFlag(e)
	}
	switch {
	case e.encrypted:
		w.add(newFinding(RuleEncrypted, e.localOff, e.name, fmt.Sprintf("entry %q is encrypted: its contents cannot be inspected", e.name)))
	case flags&(flagEncrypted|flagStrongEncrypted|flagPatched) != 0:
		w.add(newFinding(RuleFlagEvasion, e.localOff, e.name,
			fmt.Sprintf("entry %q sets flag bits %#04x (encrypted/patched) on plain data: Python's zipfile refuses it, PyTorch's loader reads it", e.name, flags&(flagEncrypted|flagStrongEncrypted|flagPatched))))
	}
}

// plainDespiteFlag reports whether the data of an entry flagged as
// encrypted is in fact plain: stored data the size of the declared
// content (traditional encryption adds a 12-byte header), or deflated data
// that inflates to the declared size and CRC.
func (w *zipWalker) plainDespiteFlag(e *zipEntry) bool {
	switch e.method {
	case methodStore:
		return e.csize == e.usize
	case methodDeflate:
		if e.usize < 0 || e.usize > w.lim.MaxEntrySize || e.usize > w.lim.MaxTotalSize-w.used {
			return false
		}
		fr := flate.NewReader(io.NewSectionReader(w.r, e.dataOff, e.csize))
		defer fr.Close()
		h := crc32.NewIEEE()
		n, err := io.Copy(h, io.LimitReader(fr, e.usize+1))
		w.used += n
		return err == nil && n == e.usize && h.Sum32() == e.crc
	}
	return false
}

func (w *zipWalker) checkSize(e *zipEntry) {
	if e.usize > w.lim.MaxEntrySize {
		w.add(newFinding(RuleLimit, e.localOff, e.name, fmt.Sprintf("entry %q declares %d bytes, over the per-entry limit of %d: its reader stops there", e.name, e.usize, w.lim.MaxEntrySize)))
	}
	if e.method != methodStore && e.usize > RatioFloor {
		if e.csize == 0 || e.usize/max(e.csize, 1) > w.lim.MaxRatio {
			w.add(newFinding(RuleRatio, e.localOff, e.name, fmt.Sprintf("entry %q declares %d bytes from %d compressed (ratio over %d)", e.name, e.usize, e.csize, w.lim.MaxRatio)))
		}
	}
	if e.method == methodStore && !e.encrypted && e.usize >= 0 && !e.sizeUnknown && e.csize != e.usize {
		w.add(newFinding(RuleSizeMismatch, e.localOff, e.name, fmt.Sprintf("stored entry %q has %d data bytes but declares %d", e.name, e.csize, e.usize)))
	}
}

// checkOverlap reports entries whose headers and data share bytes: the
// overlapping-file zip bomb, or one entry's data hidden inside another's.
func (w *zipWalker) checkOverlap() {
	var es []*zipEntry
	for _, e := range w.entries {
		if e.dataOff >= 0 {
			es = append(es, e)
		}
	}
	slices.SortStableFunc(es, func(a, b *zipEntry) int { return cmp.Compare(a.localOff, b.localOff) })
	reported := 0
	for i := 1; i < len(es) && reported < 16; i++ {
		a, b := es[i-1], es[i]
		if b.localOff < a.dataEnd() {
			reported++
			w.add(newFinding(RuleOverlap, b.localOff, b.name,
				fmt.Sprintf("entry %q at offset %d lies inside entry %q (offset %d, data to %d)", b.name, b.localOff, a.name, a.localOff, a.dataEnd())))
		}
	}
}

// traversal returns why name escapes the extraction directory, or "".
func traversal(name string) string {
	switch {
	case strings.ContainsRune(name, 0):
		return "contains a NUL byte"
	case strings.HasPrefix(name, "/"), strings.HasPrefix(name, `\`):
		return "is an absolute path"
	case len(name) >= 2 && name[1] == ':' && (name[0]|0x20 >= 'a' && name[0]|0x20 <= 'z'):
		return "starts with a drive letter"
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "climbs out of the directory with .."
		}
	}
	return ""
}

func methodName(m uint16) string {
	switch m {
	case 1:
		return "shrink"
	case 6:
		return "implode"
	case 9:
		return "deflate64"
	case 12:
		return "bzip2"
	case 14:
		return "lzma"
	case 93:
		return "zstd"
	case 95:
		return "xz"
	case 98:
		return "ppmd"
	case methodAES:
		return "AES"
	}
	return "unknown"
}

// entry turns a parsed entry into what the callback sees.
func (w *zipWalker) entry(e *zipEntry) Entry {
	ent := Entry{
		Name:           e.name,
		LocalName:      e.localName,
		Offset:         e.localOff,
		DataOffset:     e.dataOff,
		CompressedSize: e.csize,
		Size:           e.usize,
		Method:         e.method,
		Flags:          e.flags | e.locFlags,
		CRC32:          e.crc,
		Encrypted:      e.encrypted,
		InCentral:      e.inCentral,
		Link:           e.inCentral && e.creator == 3 && (e.extAttr>>16)&0o170000 == 0o120000,
		Depth:          w.lim.Depth,
		nested:         w.nestedLimits,
	}
	ent.open = func() (io.ReadCloser, error) { return w.open(e) }
	return ent
}

// open returns the bounded reader of an entry's data.
func (w *zipWalker) open(e *zipEntry) (io.ReadCloser, error) {
	switch {
	case e.dataOff < 0:
		return nil, fmt.Errorf("archive: entry %q at offset %d has no readable local header", e.name, e.localOff)
	case e.encrypted:
		return nil, fmt.Errorf("archive: entry %q at offset %d: %w", e.name, e.localOff, ErrEncrypted)
	case !decodable(e.method):
		return nil, fmt.Errorf("archive: entry %q at offset %d: method %d: %w", e.name, e.localOff, e.method, ErrMethod)
	}
	br := &boundedReader{
		w:        w.walk,
		name:     e.name,
		off:      e.localOff,
		declared: e.usize,
		capN:     w.lim.MaxEntrySize,
		checkCRC: !e.sizeUnknown,
		wantCRC:  e.crc,
	}
	sec := io.NewSectionReader(w.r, e.dataOff, e.csize)
	if e.method == methodStore {
		br.src = sec
		return br, nil
	}
	if e.csize > 0 && e.csize < (1<<62)/w.lim.MaxRatio {
		br.ratioMax = e.csize * w.lim.MaxRatio
	} else if e.csize == 0 {
		br.ratioMax = 1
	}
	hist := historyLimit(w.lim, br.ratioMax)
	var err error
	switch e.method {
	case methodDeflate:
		fr := flate.NewReader(sec)
		br.src, br.closer = fr, fr
	case methodBzip2:
		br.src, br.closer, err = newDecoder(Bzip2, sec, hist, w.lim.MaxDictionary)
	case methodZstd:
		br.src, br.closer, err = newDecoder(Zstd, sec, hist, w.lim.MaxDictionary)
	case methodXZ:
		br.src, br.closer, err = newDecoder(XZ, sec, hist, w.lim.MaxDictionary)
	case methodLZMA:
		size := e.usize
		if (e.flags|e.locFlags)&flagLZMAEOS != 0 || e.sizeUnknown {
			size = -1
		}
		br.src, err = newZipLZMAReader(sec, size, hist)
	}
	if err != nil {
		w.addOnce(newFinding(RuleMalformed, e.localOff, e.name, fmt.Sprintf("entry %q: %v", e.name, err)))
		return nil, fmt.Errorf("archive: entry %q at offset %d: %w", e.name, e.localOff, err)
	}
	return br, nil
}

// decodable reports whether open decompresses entries of method m: store,
// deflate, and the methods Python's zipfile (bzip2, LZMA; zstd from Python
// 3.14) and other writers (xz) use, which a loader built on zipfile
// (NumPy's .npz, Keras's .keras) reads.
func decodable(m uint16) bool {
	switch m {
	case methodStore, methodDeflate, methodBzip2, methodLZMA, methodZstd, methodXZ:
		return true
	}
	return false
}
