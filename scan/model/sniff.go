package model

import (
	"bytes"
	"compress/flate"
	"io"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rampartsec/rampart/scan/model/archive"
	"github.com/rampartsec/rampart/scan/model/gguf"
	"github.com/rampartsec/rampart/scan/model/safetensors"
)

// Format is a model file format, as told by a file's content.
type Format int

// The formats the scanner recognises. Containers it recognises but cannot
// open (7z, RAR) are Archive with their archive.Format, and are reported as
// not inspected.
const (
	Unknown     Format = iota
	Pickle             // a pickle stream (protocol 2 or later by its PROTO opcode, 0 and 1 by probing)
	Archive            // a container of archive.Format: ZIP (PyTorch, .keras, .npz), tar (legacy PyTorch), compressed streams
	Zlib               // zlib-compressed content (joblib's default compressor)
	NPY                // a NumPy .npy array
	GGUF               // a GGUF model (llama.cpp)
	HDF5               // an HDF5 file: Keras .h5 models
	Safetensors        // a safetensors file
	ONNX               // an ONNX model (protobuf ModelProto)
	SavedModel         // a TensorFlow SavedModel (protobuf saved_model.pb)
	JSON               // a JSON document: Keras configs, tokenizer configs with chat templates
)

var formatNames = [...]string{
	Unknown: "unknown", Pickle: "pickle", Archive: "archive", Zlib: "zlib", NPY: "npy",
	GGUF: "gguf", HDF5: "hdf5", Safetensors: "safetensors", ONNX: "onnx",
	SavedModel: "savedmodel", JSON: "json",
}

// String returns the format's short name, e.g. "safetensors".
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return "unknown"
	}
	return formatNames[f]
}

// sniffLen is how many leading bytes Sniff wants: enough for every magic
// number and for the protobuf probe.
const sniffLen = 4096

// Sniff tells a file's format from its first bytes (head, up to sniffLen
// of them) and its size, which is -1 when unknown. It never looks at a file
// name. For Archive it also returns the container's format. Pickles of
// protocols 0 and 1 have no magic number: they come back Unknown, and the
// scanner probes such content as a pickle. HDF5 files whose superblock
// sits after a user block are found by the scanner, not here.
func Sniff(head []byte, size int64) (Format, archive.Format) {
	if a := archive.Sniff(head); a != archive.Unknown {
		return Archive, a
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return NPY, 0
	case gguf.Sniff(head):
		return GGUF, 0
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")):
		return HDF5, 0
	case len(head) >= 2 && head[0] == 0x80 && head[1] <= 5:
		return Pickle, 0
	case isZlib(head):
		return Zlib, 0
	case safetensors.Sniff(head, size):
		return Safetensors, 0
	case archive.IsLZMA(head):
		return Archive, archive.LZMA
	}
	if j := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(j) > 0 && (j[0] == '{' || j[0] == '[') && isJSONStart(j) {
		return JSON, 0
	}
	return sniffProto(head, size), 0
}

// isZlib reports a zlib header (deflate with a window of at most 32 KiB,
// no preset dictionary and a valid header check, RFC 1950) followed by
// deflate data that inflates: one text in 31 passes the header check alone
// (a protocol 0 pickle opening with "(S" does).
func isZlib(h []byte) bool {
	if len(h) < 3 || h[0]&0x0f != 8 || h[0]>>4 > 7 || (uint16(h[0])<<8|uint16(h[1]))%31 != 0 || h[1]&0x20 != 0 {
		return false
	}
	z := flate.NewReader(bytes.NewReader(h[2:]))
	var out [64]byte
	n, err := io.ReadFull(z, out[:])
	return n > 0 && (err == nil || err == io.ErrUnexpectedEOF || err == io.EOF)
}

// isJSONStart: after the opening bracket comes white space, a string, a
// closing bracket or (for an array) a value.
func isJSONStart(j []byte) bool {
	rest := bytes.TrimLeft(j[1:], " \t\r\n")
	if len(rest) == 0 {
		return len(j) < sniffLen
	}
	switch c := rest[0]; {
	case c == '"' || c == '}' || c == ']':
		return true
	case j[0] == '[':
		return c == '{' || c == '[' || c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n'
	}
	return false
}

// sniffProto tells an ONNX ModelProto from a TensorFlow SavedModel by the
// top-level protobuf fields in head. ONNX: ir_version (1, varint), then
// strings (2–6) and a graph (7) or opset imports (8). SavedModel: the
// schema version (1, varint) and meta graphs (2, a message whose own fields
// parse).
func sniffProto(head []byte, size int64) Format {
	b := head
	var sawGraph, sawMeta, sawVersion bool
	fields := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		b = b[n:]
		var m int
		switch typ {
		case protowire.VarintType:
			_, m = protowire.ConsumeVarint(b)
			if num == 1 {
				sawVersion = true
			}
		case protowire.BytesType:
			var v []byte
			v, m = protowire.ConsumeBytes(b)
			if m < 0 && int64(len(head)) < size {
				// The field runs past what was read: judge by its number.
				l, k := protowire.ConsumeVarint(b)
				if k > 0 && size >= 0 && l <= uint64(size) {
					m = len(b)
					v = nil
				}
			}
			switch num {
			case 7, 8:
				sawGraph = true
			case 2:
				if v == nil || isMessage(v) {
					sawMeta = true
				}
			}
		case protowire.Fixed32Type:
			_, m = protowire.ConsumeFixed32(b)
		case protowire.Fixed64Type:
			_, m = protowire.ConsumeFixed64(b)
		default:
			return Unknown
		}
		if m < 0 {
			break
		}
		b = b[m:]
		fields++
		if num > 30 {
			return Unknown
		}
	}
	switch {
	case !sawVersion || fields < 2:
		return Unknown
	case sawGraph:
		return ONNX
	case sawMeta:
		return SavedModel
	}
	return Unknown
}

// isMessage reports whether v parses as a protobuf message with at least
// one field and nothing left over (a string such as "pytorch" does not).
func isMessage(v []byte) bool {
	n := 0
	for len(v) > 0 {
		num, typ, k := protowire.ConsumeTag(v)
		if k < 0 || num > 1000 {
			return false
		}
		m := protowire.ConsumeFieldValue(num, typ, v[k:])
		if m < 0 {
			return false
		}
		v = v[k+m:]
		n++
	}
	return n > 0
}
