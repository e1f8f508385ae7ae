package keras

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
)

// Limits of the HDF5 reader. Every length an HDF5 file declares is checked
// against them and against the file size before anything is allocated.
const (
	// maxH5Read is the largest single metadata read (an object header
	// chunk, a global heap collection, an attribute value).
	maxH5Read = 64 << 20
	// maxH5Budget bounds the metadata bytes read from one file.
	maxH5Budget = 256 << 20
	// maxH5Chunks bounds the object header chunks (continuations) followed.
	maxH5Chunks = 256
	// maxH5Messages bounds the object header messages looked at.
	maxH5Messages = 16384
	// maxH5Elements bounds the elements of one attribute.
	maxH5Elements = 1 << 16
	// maxRawScan bounds the bytes the fallback search for configs reads.
	maxRawScan = 512 << 20
)

var h5Signature = []byte("\x89HDF\r\n\x1a\n")

// IsH5 reports whether the file starts with the HDF5 signature at one of
// the offsets a superblock may sit at (0, 512, 1024, 2048…).
func IsH5(r io.ReaderAt, size int64) bool {
	_, err := findSuperblock(r, size)
	return err == nil
}

// kerasAttributes are root attributes Keras writes to every .h5 file it
// saves: whole models (model_config) and weights alone (layer_names).
var kerasAttributes = []string{"model_config", "keras_version", "layer_names", "training_config"}

// IsKerasH5 reports whether the HDF5 file r (size bytes) holds a Keras
// model or Keras weights, told by the root group's attributes, as opposed
// to an HDF5 file of data. A structure this reader cannot follow (dense
// attribute storage, a broken header) counts as Keras: callers deciding
// whether a file is a model list it rather than miss it. An error of r
// counts the same way.
func IsKerasH5(r io.ReaderAt, size int64) bool {
	h := &h5{r: r, size: size}
	attrs, err := h.rootAttributes()
	if err != nil || h.dense {
		return true
	}
	for _, name := range kerasAttributes {
		if len(attrs[name]) > 0 {
			return true
		}
	}
	return false
}

// configAttributes are the root attributes Keras reads when it loads an
// .h5 model; both may name callables.
var configAttributes = []string{"model_config", "training_config"}

// ScanH5 reads the root group attributes of the HDF5 file r (size bytes)
// and scans model_config and training_config with ScanConfig. A broken or
// hostile structure gives a RuleH5Malformed finding, and the file is then
// searched for config JSON directly, so that a structure this reader cannot
// follow (dense attribute storage, shared datatypes) hides nothing. The
// error is non-nil only when r fails to read.
func ScanH5(r io.ReaderAt, size int64) ([]finding.Finding, error) {
	h := &h5{r: r, size: size}
	attrs, err := h.rootAttributes()
	var ioErr *h5IOError
	if errors.As(err, &ioErr) {
		return nil, ioErr
	}
	var out []finding.Finding
	fallback := false
	if err != nil {
		out = append(out, h5Finding(err))
		fallback = true
	}
	for _, name := range configAttributes {
		// A name may repeat; which one a library reads is its business, so
		// every copy is scanned.
		for _, a := range attrs[name] {
			if a.err != nil {
				var ioErr *h5IOError
				if errors.As(a.err, &ioErr) {
					return nil, ioErr
				}
				out = append(out, h5Finding(fmt.Errorf("attribute %s: %w", name, a.err)))
				fallback = true
				continue
			}
			for _, s := range a.values {
				out = append(out, scanConfig(s.data, s.off)...)
			}
		}
	}
	if h.dense {
		fallback = true
	}
	if fallback {
		raw, err := rawConfigScan(r, size)
		if err != nil {
			return nil, err
		}
		out = appendNew(out, raw)
	}
	return out, nil
}

// appendNew appends the findings of add that out does not already hold
// (same rule and offset).
func appendNew(out, add []finding.Finding) []finding.Finding {
	type key struct {
		rule string
		off  int64
	}
	seen := map[key]bool{}
	for _, f := range out {
		seen[key{f.RuleID, f.Location.Offset}] = true
	}
	for _, f := range add {
		if k := (key{f.RuleID, f.Location.Offset}); !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}

func h5Finding(err error) finding.Finding {
	var fe *h5FormatError
	off := int64(0)
	if errors.As(err, &fe) {
		off = fe.off
	}
	return newFinding(RuleH5Malformed, off, 0.9, modelfinding.Clip(err.Error(), 160),
		"the HDF5 structure is broken or hostile; the file was searched for model configs directly")
}

// h5FormatError is a structural problem at a byte offset.
type h5FormatError struct {
	off int64
	msg string
}

func (e *h5FormatError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

// h5IOError wraps a failure of the underlying reader.
type h5IOError struct{ err error }

func (e *h5IOError) Error() string { return "reading HDF5: " + e.err.Error() }
func (e *h5IOError) Unwrap() error { return e.err }

func formatErr(off int64, format string, args ...any) error {
	return &h5FormatError{off: off, msg: fmt.Sprintf(format, args...)}
}

// h5 reads HDF5 metadata from r within bounds.
type h5 struct {
	r       io.ReaderAt
	size    int64
	offSize int // size of file addresses, 2, 4 or 8
	lenSize int // size of lengths, 2, 4 or 8
	base    int64
	budget  int64
	dense   bool             // the root group keeps attributes in dense storage
	heaps   map[int64][]byte // global heap collections read so far
}

// read returns n bytes at off, checking the range against the file and the
// limits first.
func (h *h5) read(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > h.size || n > h.size-off {
		return nil, formatErr(off, "%s of %d bytes runs past the end of the %d-byte file", what, n, h.size)
	}
	if n > maxH5Read {
		return nil, formatErr(off, "%s declares %d bytes, more than the %d-byte limit", what, n, maxH5Read)
	}
	h.budget += n
	if h.budget > maxH5Budget {
		return nil, formatErr(off, "metadata reads exceed the %d-byte limit", maxH5Budget)
	}
	b := make([]byte, n)
	if _, err := h.r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && len(b) == int(n)) {
		return nil, &h5IOError{fmt.Errorf("%s at byte %d: %w", what, off, err)}
	}
	return b, nil
}

// uintN decodes a little-endian unsigned integer of n bytes (n ≤ 8).
func uintN(b []byte, n int) uint64 {
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func undefined(v uint64, n int) bool {
	return n == 8 && v == ^uint64(0) || n < 8 && v == 1<<(8*n)-1
}

// addr converts a file address to an absolute offset.
func (h *h5) addr(v uint64, at int64) (int64, error) {
	if undefined(v, h.offSize) {
		return 0, formatErr(at, "undefined address")
	}
	if v > uint64(h.size) || h.base+int64(v) > h.size {
		return 0, formatErr(at, "address %d is past the end of the file", v)
	}
	return h.base + int64(v), nil
}

func findSuperblock(r io.ReaderAt, size int64) (int64, error) {
	sig := make([]byte, len(h5Signature))
	for off := int64(0); off+int64(len(sig)) <= size; {
		if _, err := r.ReadAt(sig, off); err != nil && !errors.Is(err, io.EOF) {
			return 0, &h5IOError{fmt.Errorf("signature at byte %d: %w", off, err)}
		}
		if bytes.Equal(sig, h5Signature) {
			return off, nil
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return 0, formatErr(0, "no HDF5 signature")
}

// rootAttributes parses the superblock and the root group's object header
// and returns its attributes by name (a name may occur more than once).
func (h *h5) rootAttributes() (map[string][]*h5Attr, error) {
	sb, err := findSuperblock(h.r, h.size)
	if err != nil {
		return nil, err
	}
	hdr, err := h.read(sb, min(h.size-sb, 128), "superblock")
	if err != nil {
		return nil, err
	}
	if len(hdr) < 16 {
		return nil, formatErr(sb, "truncated superblock")
	}
	version := hdr[8]
	var rootAt int
	switch version {
	case 0, 1:
		h.offSize, h.lenSize = int(hdr[13]), int(hdr[14])
		rootAt = 24
		if version == 1 {
			rootAt = 28
		}
		// base, free-space, end-of-file and driver addresses precede the
		// root symbol table entry (link name offset, object header address).
		rootAt += 4*h.offSize + h.offSize
	case 2, 3:
		h.offSize, h.lenSize = int(hdr[9]), int(hdr[10])
		rootAt = 12 + 3*h.offSize
	default:
		return nil, formatErr(sb+8, "unsupported superblock version %d", version)
	}
	if !validSize(h.offSize) || !validSize(h.lenSize) {
		return nil, formatErr(sb+9, "invalid sizes of offsets (%d) or lengths (%d)", h.offSize, h.lenSize)
	}
	baseAt := 24
	if version == 1 {
		baseAt = 28
	}
	if version >= 2 {
		baseAt = 12
	}
	if rootAt+h.offSize > len(hdr) {
		return nil, formatErr(sb, "truncated superblock")
	}
	base := uintN(hdr[baseAt:], h.offSize)
	if base > uint64(h.size) {
		return nil, formatErr(sb+int64(baseAt), "base address %d past the end of the file", base)
	}
	h.base = int64(base)
	root, err := h.addr(uintN(hdr[rootAt:], h.offSize), sb+int64(rootAt))
	if err != nil {
		return nil, err
	}
	msgs, err := h.objectHeader(root)
	attrs := map[string][]*h5Attr{}
	for _, m := range msgs {
		switch m.typ {
		case 0x000C:
			a := h.attribute(m)
			if a.name != "" {
				attrs[a.name] = append(attrs[a.name], a)
			}
		case 0x0015:
			h.attributeInfo(m)
		}
	}
	return attrs, err
}

func validSize(n int) bool { return n == 2 || n == 4 || n == 8 }

// h5Msg is one object header message.
type h5Msg struct {
	typ   int
	flags byte
	data  []byte
	off   int64 // file offset of data
}

// objectHeader reads the messages of the object header at off (version 1
// or 2), following continuation blocks. It returns the messages read so far
// together with any error.
func (h *h5) objectHeader(off int64) ([]h5Msg, error) {
	pre, err := h.read(off, min(h.size-off, 48), "object header")
	if err != nil {
		return nil, err
	}
	type chunk struct {
		off, n int64
		v2     bool
	}
	var queue []chunk
	var hdrFlags byte
	switch {
	case len(pre) >= 16 && pre[0] == 1:
		n := int64(binary.LittleEndian.Uint32(pre[8:]))
		queue = append(queue, chunk{off + 16, n, false})
	case len(pre) >= 6 && string(pre[:4]) == "OHDR":
		if pre[4] != 2 {
			return nil, formatErr(off+4, "unsupported object header version %d", pre[4])
		}
		hdrFlags = pre[5]
		p := 6
		if hdrFlags&0x20 != 0 {
			p += 16
		}
		if hdrFlags&0x10 != 0 {
			p += 4
		}
		w := 1 << (hdrFlags & 3)
		if p+w > len(pre) {
			return nil, formatErr(off, "truncated object header")
		}
		n := int64(uintN(pre[p:], w))
		queue = append(queue, chunk{off + int64(p+w), n, true})
	default:
		return nil, formatErr(off, "no object header")
	}
	var msgs []h5Msg
	seen := map[int64]bool{}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if seen[c.off] {
			return msgs, formatErr(c.off, "object header continuation loops back")
		}
		seen[c.off] = true
		if len(seen) > maxH5Chunks {
			return msgs, formatErr(c.off, "more than %d object header chunks", maxH5Chunks)
		}
		b, err := h.read(c.off, c.n, "object header chunk")
		if err != nil {
			return msgs, err
		}
		p := 0
		for {
			var typ, size int
			var flags byte
			if c.v2 {
				hs := 4
				if hdrFlags&0x04 != 0 {
					hs = 6
				}
				if p+hs > len(b) {
					break
				}
				typ, size, flags = int(b[p]), int(binary.LittleEndian.Uint16(b[p+1:])), b[p+3]
				p += hs
			} else {
				if p+8 > len(b) {
					break
				}
				typ, size, flags = int(binary.LittleEndian.Uint16(b[p:])), int(binary.LittleEndian.Uint16(b[p+2:])), b[p+4]
				p += 8
			}
			if p+size > len(b) {
				return msgs, formatErr(c.off+int64(p), "object header message of %d bytes runs past its chunk", size)
			}
			m := h5Msg{typ: typ, flags: flags, data: b[p : p+size], off: c.off + int64(p)}
			p += size
			if len(msgs) >= maxH5Messages {
				return msgs, formatErr(m.off, "more than %d object header messages", maxH5Messages)
			}
			msgs = append(msgs, m)
			if typ == 0x0010 { // continuation
				if size < h.offSize+h.lenSize {
					return msgs, formatErr(m.off, "truncated continuation message")
				}
				at, err := h.addr(uintN(m.data, h.offSize), m.off)
				if err != nil {
					return msgs, err
				}
				n := int64(uintN(m.data[h.offSize:], h.lenSize))
				if n < 0 {
					return msgs, formatErr(m.off, "continuation length overflows")
				}
				if c.v2 {
					// "OCHK" signature, messages, checksum.
					if n < 8 {
						return msgs, formatErr(m.off, "continuation block of %d bytes is too short", n)
					}
					sig, err := h.read(at, 4, "continuation block")
					if err != nil {
						return msgs, err
					}
					if string(sig) != "OCHK" {
						return msgs, formatErr(at, "continuation block without OCHK signature")
					}
					queue = append(queue, chunk{at + 4, n - 8, true})
				} else {
					queue = append(queue, chunk{at, n, false})
				}
			}
		}
	}
	return msgs, nil
}

// attributeInfo notes dense attribute storage, which this reader does not
// follow (ScanH5 falls back to searching the file).
func (h *h5) attributeInfo(m h5Msg) {
	d := m.data
	if len(d) < 2 {
		return
	}
	p := 2
	if d[1]&1 != 0 {
		p += 2
	}
	if p+h.offSize <= len(d) && !undefined(uintN(d[p:], h.offSize), h.offSize) {
		h.dense = true
	}
}

// h5Attr is a decoded root attribute.
type h5Attr struct {
	name   string
	values []h5String
	err    error
}

// h5String is one string value and its offset in the file (0 if unknown).
type h5String struct {
	data []byte
	off  int64
}

// attribute decodes an attribute message whose value is a string or an
// array of strings, fixed or variable length.
func (h *h5) attribute(m h5Msg) *h5Attr {
	a := &h5Attr{}
	d := m.data
	if len(d) < 8 {
		a.err = formatErr(m.off, "truncated attribute message")
		return a
	}
	version, flags := d[0], d[1]
	nameSize := int(binary.LittleEndian.Uint16(d[2:]))
	dtSize := int(binary.LittleEndian.Uint16(d[4:]))
	dsSize := int(binary.LittleEndian.Uint16(d[6:]))
	p := 8
	pad := func(n int) int { return n }
	switch version {
	case 1:
		flags = 0
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		p = 9
	default:
		a.err = formatErr(m.off, "unsupported attribute message version %d", version)
		return a
	}
	if p+pad(nameSize) > len(d) {
		a.err = formatErr(m.off, "attribute name runs past its message")
		return a
	}
	a.name = string(bytes.TrimRight(d[p:p+nameSize], "\x00"))
	p += pad(nameSize)
	if p+pad(dtSize) > len(d) || p+dtSize > len(d) {
		a.err = formatErr(m.off+int64(p), "attribute datatype runs past its message")
		return a
	}
	dt := d[p : p+dtSize]
	p += pad(dtSize)
	if p+dsSize > len(d) {
		a.err = formatErr(m.off+int64(p), "attribute dataspace runs past its message")
		return a
	}
	ds := d[p : p+dsSize]
	p += pad(dsSize)
	if p > len(d) {
		p = len(d)
	}
	data, dataOff := d[p:], m.off+int64(p)
	if flags&0x03 != 0 {
		a.err = formatErr(m.off, "attribute uses a shared datatype or dataspace")
		return a
	}
	n, err := h.elements(ds, m.off)
	if err != nil {
		a.err = err
		return a
	}
	if len(dt) < 8 {
		a.err = formatErr(m.off, "truncated datatype")
		return a
	}
	class := dt[0] & 0x0F
	elemSize := int64(binary.LittleEndian.Uint32(dt[4:]))
	switch {
	case class == 3: // fixed-length string
		if elemSize == 0 || n*elemSize > int64(len(data)) {
			a.err = formatErr(dataOff, "string attribute of %d×%d bytes runs past its message", n, elemSize)
			return a
		}
		for i := int64(0); i < n; i++ {
			s := data[i*elemSize : (i+1)*elemSize]
			if j := bytes.IndexByte(s, 0); j >= 0 {
				s = s[:j]
			}
			a.values = append(a.values, h5String{s, dataOff + i*elemSize})
		}
	case class == 9 && dt[1]&0x0F == 1 || class == 9 && dt[1]&0x0F == 0 && len(dt) >= 12:
		// Variable-length string (or sequence): length, then a global heap
		// ID (collection address, object index).
		es := int64(4 + h.offSize + 4)
		if n*es > int64(len(data)) {
			a.err = formatErr(dataOff, "variable-length attribute of %d elements runs past its message", n)
			return a
		}
		for i := int64(0); i < n; i++ {
			e := data[i*es:]
			coll := uintN(e[4:], h.offSize)
			idx := binary.LittleEndian.Uint32(e[4+h.offSize:])
			if coll == 0 && idx == 0 {
				continue // empty (NULL) element
			}
			s, off, err := h.globalHeapObject(coll, idx, dataOff+i*es)
			if err != nil {
				a.err = err
				return a
			}
			a.values = append(a.values, h5String{s, off})
		}
	default:
		a.err = formatErr(m.off, "attribute of datatype class %d is not a string", class)
	}
	return a
}

// elements returns the number of elements a dataspace message describes.
func (h *h5) elements(ds []byte, at int64) (int64, error) {
	if len(ds) < 4 {
		return 0, formatErr(at, "truncated dataspace")
	}
	rank := int(ds[1])
	p := 8
	switch ds[0] {
	case 1:
	case 2:
		p = 4
		switch ds[3] {
		case 0:
			return 1, nil
		case 2:
			return 0, nil
		}
	default:
		return 0, formatErr(at, "unsupported dataspace version %d", ds[0])
	}
	if rank == 0 {
		return 1, nil
	}
	if p+rank*h.lenSize > len(ds) {
		return 0, formatErr(at, "truncated dataspace dimensions")
	}
	n := int64(1)
	for i := 0; i < rank; i++ {
		d := uintN(ds[p+i*h.lenSize:], h.lenSize)
		if d > maxH5Elements || n*int64(d) > maxH5Elements {
			return 0, formatErr(at, "attribute declares more than %d elements", maxH5Elements)
		}
		n *= int64(d)
	}
	return n, nil
}

// globalHeapObject returns object idx of the global heap collection at
// address coll.
func (h *h5) globalHeapObject(coll uint64, idx uint32, at int64) ([]byte, int64, error) {
	off, err := h.addr(coll, at)
	if err != nil {
		return nil, 0, err
	}
	b, ok := h.heaps[off]
	if !ok {
		hdr, err := h.read(off, int64(8+h.lenSize), "global heap header")
		if err != nil {
			return nil, 0, err
		}
		if string(hdr[:4]) != "GCOL" {
			return nil, 0, formatErr(off, "global heap collection without GCOL signature")
		}
		n := uintN(hdr[8:], h.lenSize)
		if n > uint64(h.size) {
			return nil, 0, formatErr(off, "global heap collection of %d bytes is larger than the file", n)
		}
		b, err = h.read(off, int64(n), "global heap collection")
		if err != nil {
			return nil, 0, err
		}
		if h.heaps == nil {
			h.heaps = map[int64][]byte{}
		}
		h.heaps[off] = b
	}
	p := 8 + h.lenSize
	for p+8+h.lenSize <= len(b) {
		i := binary.LittleEndian.Uint16(b[p:])
		size := uintN(b[p+8:], h.lenSize)
		start := p + 8 + h.lenSize
		if i == 0 {
			break
		}
		if size > uint64(len(b)-start) {
			return nil, 0, formatErr(off+int64(p), "global heap object of %d bytes runs past its collection", size)
		}
		if uint32(i) == idx {
			return b[start : start+int(size)], off + int64(start), nil
		}
		p = start + (int(size)+7)&^7
	}
	return nil, 0, formatErr(off, "global heap object %d not found", idx)
}

// rawConfigScan searches the first maxRawScan bytes of the file for JSON
// objects that look like Keras configs and scans each.
func rawConfigScan(r io.ReaderAt, size int64) ([]finding.Finding, error) {
	const window = 8 << 20
	markers := [][]byte{[]byte(`{"class_name"`), []byte(`{"module"`), []byte(`{"keras_version"`)}
	var out []finding.Finding
	limit := min(size, maxRawScan)
	buf := make([]byte, min(window+64, size))
	scans := 0
	budget := int64(2 * MaxConfigSize) // bytes all candidate objects may read together
	for start := int64(0); start < limit && scans < 64; start += window {
		n := min(int64(len(buf)), size-start)
		b := buf[:n]
		if _, err := r.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading HDF5 at byte %d: %w", start, err)
		}
		for i := 0; i < len(b) && i < window && scans < 64; i++ {
			if b[i] != '{' {
				continue
			}
			hit := false
			for _, m := range markers {
				if bytes.HasPrefix(b[i:], m) {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
			scans++
			at := start + int64(i)
			obj, err := readJSONObject(r, at, size, &budget)
			if err != nil {
				return nil, err
			}
			if obj == nil {
				continue
			}
			for _, f := range scanConfig(obj, at) {
				if f.RuleID != RuleMalformed.ID {
					out = append(out, f)
				}
			}
			if end := at + int64(len(obj)) - start; end > int64(i) {
				i = int(min(end, int64(len(b)))) - 1
			}
		}
	}
	return out, nil
}

// readJSONObject reads the balanced JSON object starting at off (at most
// MaxConfigSize bytes, and at most *budget, which it decreases), or nil if
// it does not close.
func readJSONObject(r io.ReaderAt, off, size int64, budget *int64) ([]byte, error) {
	const step = 1 << 20
	buf := make([]byte, min(step, max(size-off, 0)))
	depth, inStr, esc := 0, false, false
	for pos := off; pos < size && pos-off < MaxConfigSize && *budget > 0; pos += step {
		b := buf[:min(step, size-pos, MaxConfigSize-(pos-off), *budget)]
		*budget -= int64(len(b))
		if _, err := r.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading HDF5 at byte %d: %w", pos, err)
		}
		for i := 0; i < len(b); i++ {
			c := b[i]
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
				default:
					// Skip to the next quote or backslash.
					j := bytes.IndexAny(b[i:], `"\`)
					if j < 0 {
						i = len(b)
					} else {
						i += j - 1
					}
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					// Closed: read the whole object once.
					obj := make([]byte, pos-off+int64(i)+1)
					if _, err := r.ReadAt(obj, off); err != nil && !errors.Is(err, io.EOF) {
						return nil, fmt.Errorf("reading HDF5 at byte %d: %w", off, err)
					}
					return obj, nil
				}
			case 0:
				return nil, nil
			}
		}
	}
	return nil, nil
}
