package pickletest

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
)

// GlobalMemo writes a global the first time it is used and memoizes it,
// and fetches it from the memo afterwards, as the pickler does.
func (w *Writer) GlobalMemo(module, name string) *Writer {
	if w.globals == nil {
		w.globals = map[string]int{}
	}
	k := module + "\x00" + name
	if i, ok := w.globals[k]; ok {
		return w.GetAt(i)
	}
	w.GlobalAuto(module, name)
	w.globals[k] = w.PutAuto()
	return w
}

// Tensor describes one tensor of a PyTorch checkpoint.
type Tensor struct {
	// Name is the state-dict key, e.g. "layer1.weight".
	Name string
	// Storage is the storage class in module torch (default
	// "FloatStorage").
	Storage string
	// Shape is the tensor's size; the stride is contiguous.
	Shape []int64
}

func (t Tensor) storage() string {
	if t.Storage == "" {
		return "FloatStorage"
	}
	return t.Storage
}

func (t Tensor) numel() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// ElementSize returns the bytes per element of the tensor's storage type.
func (t Tensor) ElementSize() int64 {
	switch t.storage() {
	case "DoubleStorage", "LongStorage", "ComplexFloatStorage":
		return 8
	case "HalfStorage", "BFloat16Storage", "ShortStorage":
		return 2
	case "ByteStorage", "CharStorage", "BoolStorage":
		return 1
	case "ComplexDoubleStorage":
		return 16
	}
	return 4
}

// intTuple writes a tuple of ints.
func (w *Writer) intTuple(v []int64) *Writer {
	items := make([]func(*Writer), len(v))
	for i, n := range v {
		items[i] = I(n)
	}
	return w.TupleOf(items...).Memo()
}

// stateDict writes an OrderedDict of tensors rebuilt by
// torch._utils._rebuild_tensor_v2 from BINPERSID storage references, with
// the _metadata attribute torch's state_dict carries, as torch.save
// pickles a state dict. legacy adds the view-metadata None that the
// legacy format's persistent ids carry.
func (w *Writer) stateDict(tensors []Tensor, legacy bool) *Writer {
	w.GlobalMemo("collections", "OrderedDict").EmptyTuple().Reduce().Memo()
	if len(tensors) > 0 {
		w.Mark()
	}
	for i, t := range tensors {
		w.Str(t.Name).Memo()
		w.GlobalMemo("torch._utils", "_rebuild_tensor_v2").Mark()
		// Persistent id ('storage', torch.<Storage>, key, 'cpu', numel).
		w.Mark().Str("storage").Memo().GlobalMemo("torch", t.storage()).Str(strconv.Itoa(i)).Memo().Str("cpu").Memo().Int(t.numel())
		if legacy {
			w.None()
		}
		w.Tuple().Memo().BinPersIDOp()
		stride := make([]int64, len(t.Shape))
		s := int64(1)
		for j := len(t.Shape) - 1; j >= 0; j-- {
			stride[j] = s
			s *= t.Shape[j]
		}
		w.Int(0).intTuple(t.Shape).intTuple(stride).Bool(false)
		w.GlobalMemo("collections", "OrderedDict").EmptyTuple().Reduce().Memo()
		w.Tuple().Memo().Reduce().Memo()
		// Batches of 1000 items, as the pickler writes them.
		if (i+1)%1000 == 0 && i+1 < len(tensors) {
			w.SetItems().Mark()
		}
	}
	if len(tensors) > 0 {
		w.SetItems()
	}
	// state: {'_metadata': OrderedDict([('', {'version': 1})])}
	w.EmptyDict().Memo().Str("_metadata").Memo()
	w.GlobalMemo("collections", "OrderedDict").EmptyTuple().Reduce().Memo()
	w.Str("").Memo().EmptyDict().Memo().Str("version").Memo().Int(1).SetItem().SetItem()
	return w.SetItem().Build()
}

// TorchDataPkl returns data.pkl as torch.save writes it inside its zip
// format (protocol 2): a state dict whose tensors reference storages by
// BINPERSID ('storage', torch.FloatStorage, "0", "cpu", numel).
func TorchDataPkl(tensors []Tensor) []byte {
	w := New(2)
	w.stateDict(tensors, false)
	w.Stop()
	return w.Bytes()
}

// TorchLegacy returns a file in PyTorch's legacy (pre-1.6) format: the
// magic-number, protocol-version and sys_info pickles, the state-dict
// pickle, the sorted storage keys pickle, then each storage as an int64
// element count followed by its raw bytes; data(i) gives storage i's
// bytes (nil for zeros).
func TorchLegacy(tensors []Tensor, data func(i int) []byte) []byte {
	w := New(2)
	magic, _ := new(big.Int).SetString("1950a86a20f9469cfc6c", 16)
	w.BigInt(magic).Stop()
	w.Next(2).Int(1001).Stop()
	w.Next(2).EmptyDict().Memo().Mark()
	w.Str("protocol_version").Memo().Int(1001)
	w.Str("little_endian").Memo().Bool(true)
	w.Str("type_sizes").Memo().EmptyDict().Memo().Mark().
		Str("short").Memo().Int(2).Str("int").Memo().Int(4).Str("long").Memo().Int(4).SetItems()
	w.SetItems().Stop()
	w.Next(2).stateDict(tensors, true).Stop()
	w.Next(2).EmptyList().Memo()
	if len(tensors) > 0 {
		w.Mark()
		for i := range tensors {
			w.Str(strconv.Itoa(i)).Memo()
		}
		w.Appends()
	}
	w.Stop()
	for i, t := range tensors {
		n := t.numel()
		w.Raw(le(uint64(n), 8)...)
		var b []byte
		if data != nil {
			b = data(i)
		}
		size := n * t.ElementSize()
		if int64(len(b)) > size {
			b = b[:size]
		}
		w.Raw(b...)
		w.Raw(make([]byte, size-int64(len(b)))...)
	}
	return w.Bytes()
}

// dtype writes numpy.dtype(typestr, False, True) and its BUILD state
// (3, byteorder, None, None, None, elsize, alignment, flags), as NumPy
// pickles a dtype.
func (w *Writer) dtype(typestr, byteorder string, elsize, align, flags int64) *Writer {
	w.GlobalMemo("numpy", "dtype").TupleOf(S(typestr), B(false), B(true)).Reduce().Memo()
	w.Mark().Int(3).Str(byteorder).Memo().None().None().None().Int(elsize).Int(align).Int(flags).Tuple().Memo()
	return w.Build()
}

// NumpyObjectArray returns the pickle NumPy writes for a 1-D object
// array of strings (numpy.save with allow_pickle, or pickle.dump of the
// array): numpy.core.multiarray._reconstruct, then BUILD with (1, shape,
// dtype('O8'), False, [items]).
func NumpyObjectArray(items []string, proto int) []byte {
	w := New(proto)
	w.objectArray(items)
	return w.Stop().Bytes()
}

func (w *Writer) objectArray(items []string) *Writer {
	w.GlobalMemo("numpy.core.multiarray", "_reconstruct")
	w.TupleOf(G("numpy", "ndarray"), func(w *Writer) { w.Int(0).Tuple1() }, func(w *Writer) { w.BytesVal([]byte("b")) }).Reduce().Memo()
	w.Mark().Int(1).Int(int64(len(items))).Tuple1().Memo()
	w.dtype("O8", "|", -1, -1, 63)
	w.Bool(false).EmptyList().Memo()
	if len(items) > 0 {
		w.Mark()
		for _, s := range items {
			w.Str(s)
		}
		w.Appends()
	}
	return w.Tuple().Memo().Build()
}

// JoblibArray is one array of a joblib file: float64 values, or (with
// Objects set) an object array of strings.
type JoblibArray struct {
	Name    string
	Float64 []float64
	Objects []string
}

// Joblib returns a file as joblib.dump writes a dict of NumPy arrays
// (protocol 4): each array is a joblib.numpy_pickle.NumpyArrayWrapper
// whose BUILD is followed by the array data — one padding-length byte,
// padding to 16 bytes and the raw values, or for an object array a whole
// protocol 2 pickle of the array. after, if not nil, writes more
// opcodes after the last item, before the final SETITEMS and STOP.
func Joblib(arrays []JoblibArray, after func(*Writer)) []byte {
	w := New(4)
	w.EmptyDict().Memo().Mark()
	for _, a := range arrays {
		w.Str(a.Name).Memo()
		w.GlobalMemo("joblib.numpy_pickle", "NumpyArrayWrapper").EmptyTuple().NewObj().Memo()
		w.EmptyDict().Memo().Mark()
		w.Str("subclass").Memo().GlobalMemo("numpy", "ndarray")
		n := len(a.Float64)
		if a.Objects != nil {
			n = len(a.Objects)
		}
		w.Str("shape").Memo().Int(int64(n)).Tuple1().Memo()
		w.Str("order").Memo().Str("C").Memo()
		w.Str("dtype").Memo()
		if a.Objects != nil {
			w.dtype("O8", "|", -1, -1, 63)
		} else {
			w.dtype("f8", "<", -1, -1, 0)
		}
		w.Str("allow_mmap").Memo().Bool(a.Objects == nil)
		w.Str("numpy_array_alignment_bytes").Memo().Int(16)
		w.SetItems().Build()
		if a.Objects != nil {
			sub := New(2)
			sub.objectArray(a.Objects).Stop()
			w.Raw(sub.Bytes()...)
			continue
		}
		pad := 16 - (w.Len()+1)%16
		w.Raw(byte(pad))
		w.Raw(make([]byte, pad)...)
		for _, f := range a.Float64 {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
			w.Raw(b[:]...)
		}
	}
	if after != nil {
		after(w)
	}
	return w.SetItems().Stop().Bytes()
}

// IntDict returns a protocol 4 pickle of a dict with n int keys and int
// values (many small opcodes, in SETITEMS batches of 1000).
func IntDict(n int) []byte {
	w := New(4)
	w.EmptyDict().Memo()
	for i := 0; i < n; i++ {
		if i%1000 == 0 {
			if i > 0 {
				w.SetItems()
			}
			w.Mark()
		}
		w.Int(int64(i)).Int(int64(i) * 7)
	}
	if n > 0 {
		w.SetItems()
	}
	return w.Stop().Bytes()
}
