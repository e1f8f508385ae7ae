package classify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// The model file, little-endian:
//
//	offset  size  field
//	0       4     magic "RPCL"
//	4       2     format version: 2, or 1 for files written before the
//	              feature hashing changed (both are read and scored with
//	              their own hashing; Train writes 2)
//	6       1     Bits
//	7       1     CharMin
//	8       1     CharMax
//	9       1     WordMax
//	10      1     length L of the normaliser name
//	11      L     normaliser name
//	11+L    4×5   float32: weight scale, bias, Platt A, Platt B, threshold
//	31+L    2^Bits int8 weights
//	…       4     CRC-32 (IEEE) of everything before it
//
// Nothing may follow the checksum.

const (
	magic = "RPCL"
	// Version is the model file format version Train's models are
	// written with. Version 1 files (the feature hashing before
	// 2026-11-27) are still read and scored as they were trained.
	Version = 2

	maxFileBytes = 11 + 255 + 20 + 1<<24 + 4
)

// ErrFormat is wrapped by every error Load returns for a malformed file.
var ErrFormat = errors.New("classify: malformed model file")

// WriteTo writes the model in the binary format. It implements
// io.WriterTo.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b := m.appendBinary(nil)
	n, err := w.Write(b)
	if err != nil {
		return int64(n), fmt.Errorf("classify: write model: %w", err)
	}
	return int64(n), nil
}

// MarshalBinary returns the model in the binary format.
func (m *Model) MarshalBinary() ([]byte, error) { return m.appendBinary(nil), nil }

func (m *Model) appendBinary(b []byte) []byte {
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint16(b, m.version)
	b = append(b, byte(m.feat.Bits), byte(m.feat.CharMin), byte(m.feat.CharMax), byte(m.feat.WordMax))
	b = append(b, byte(len(m.feat.Normalizer)))
	b = append(b, m.feat.Normalizer...)
	for _, f := range []float32{m.scale, m.bias, m.plattA, m.plattB, m.threshold} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	for _, w := range m.weights {
		b = append(b, byte(w))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// Load reads a model written by WriteTo. It rejects truncated, corrupted or
// over-long input, unknown versions, out-of-range feature settings,
// non-finite parameters and unregistered normalisers with an error wrapping
// ErrFormat.
func Load(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("classify: read model: %w", err)
	}
	return Parse(data)
}

// Parse decodes a model from data (see Load). The model does not retain
// data.
func Parse(data []byte) (*Model, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
	}
	if len(data) > maxFileBytes {
		return nil, bad("longer than %d bytes", maxFileBytes)
	}
	if len(data) < 11 {
		return nil, bad("truncated header (%d bytes)", len(data))
	}
	if !bytes.Equal(data[:4], []byte(magic)) {
		return nil, bad("bad magic %q", data[:4])
	}
	version := binary.LittleEndian.Uint16(data[4:])
	if version != 1 && version != 2 {
		return nil, bad("unsupported version %d (this build reads 1 and 2)", version)
	}
	f := Features{Bits: int(data[6]), CharMin: int(data[7]), CharMax: int(data[8]), WordMax: int(data[9])}
	nameLen := int(data[10])
	p := 11
	if len(data) < p+nameLen+20 {
		return nil, bad("truncated header")
	}
	f.Normalizer = string(data[p : p+nameLen])
	p += nameLen
	if err := f.validate(); err != nil {
		return nil, bad("%v", err)
	}
	var fl [5]float32
	for i := range fl {
		fl[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[p:]))
		p += 4
		if math.IsNaN(float64(fl[i])) || math.IsInf(float64(fl[i]), 0) {
			return nil, bad("parameter %d is not finite", i)
		}
	}
	if fl[0] < 0 {
		return nil, bad("negative weight scale")
	}
	if fl[4] < 0 || fl[4] > 1 {
		return nil, bad("threshold %v outside [0, 1]", fl[4])
	}
	nw := 1 << f.Bits
	if want := p + nw + 4; len(data) != want {
		if len(data) < want {
			return nil, bad("truncated: %d bytes, want %d", len(data), want)
		}
		return nil, bad("%d trailing bytes", len(data)-want)
	}
	body := data[:p+nw]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(data[p+nw:]); got != want {
		return nil, bad("checksum mismatch (%08x, file says %08x)", got, want)
	}
	name := f.Normalizer
	if name == "" {
		name = "basic"
	}
	norm, ok := lookupNormalizer(name)
	if !ok {
		return nil, bad("normaliser %q is not registered", name)
	}
	m := &Model{
		feat: f, norm: norm, weights: make([]int8, nw), mask: uint64(nw - 1), version: version,
		scale: fl[0], bias: fl[1], plattA: fl[2], plattB: fl[3], threshold: fl[4],
	}
	for i, b := range data[p : p+nw] {
		m.weights[i] = int8(b)
	}
	m.prepare()
	return m, nil
}
