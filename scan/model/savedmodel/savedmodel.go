// Package savedmodel finds operations that run Python, touch the file
// system or reach the network in TensorFlow SavedModel files (saved_model.pb)
// and bare GraphDefs (frozen .pb graphs), without loading them. It walks the
// protocol buffer wire format directly: SavedModel → MetaGraphDef →
// GraphDef → NodeDef, and every FunctionDef of the function library, where
// TF2 models keep almost all of their ops. Keras metadata JSON embedded in
// the object graph, and keras_metadata.pb files, go through keras.ScanConfig.
package savedmodel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/pbwire"
	"github.com/rampartsec/rampart/scan/model/keras"
)

// Detector is the name findings of this package carry in Finding.Detector.
const Detector = "model.savedmodel"

// MaxSize is the largest file Scan reads; protocol buffers cannot exceed
// 2 GiB and real saved_model.pb files stay far below this.
const MaxSize = 1 << 30

// Bounds on the walk.
const (
	maxNesting   = 8   // nested AttrValue.func / list levels, object graph depth
	maxExamples  = 5   // node names kept per grouped finding
	maxJSONScans = 256 // Keras JSON strings scanned per file
)

var family = finding.Family{
	Name:        Detector,
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load or serve this SavedModel outside a sandbox; rebuild it from trusted code without Python callbacks or file and network ops.",
	References: finding.References{
		OWASP: []string{"LLM03:2025", "LLM04:2025"},
		ATLAS: []string{"AML.T0010.003", "AML.T0011.000"},
		CWE:   []string{"CWE-94", "CWE-73"},
	},
}

// The rules of the package.
var (
	// RulePyFunc fires on PyFunc, PyFuncStateless and EagerPyFunc: the graph
	// calls back into Python code registered by the loading process.
	RulePyFunc = family.Rule("py-func", "Graph calls back into Python (PyFunc)", finding.Critical)
	// RuleFileAccess fires on ops that read, write or list files (ReadFile,
	// WriteFile, MatchingFiles, ImmutableConst, readers, file datasets,
	// summary writers) or that send output to a file:// URL.
	RuleFileAccess = family.Rule("file-access", "Op reads or writes files", finding.High)
	// RuleNetwork fires on ops that reach the network (Rpc, data service).
	RuleNetwork = family.Rule("network", "Op reaches the network", finding.High)
	// RuleCustomOp fires on ops that are not TensorFlow built-ins: loading
	// the graph needs a custom op library (native code).
	RuleCustomOp = family.Rule("custom-op", "Op is not a TensorFlow built-in (needs a custom op library)", finding.Medium)
	// RuleCheckpointIO notes the checkpoint and lookup-table file ops every
	// normal SavedModel has (SaveV2, RestoreV2, MergeV2Checkpoints…).
	RuleCheckpointIO = family.Rule("checkpoint-io", "Checkpoint or vocabulary file op (normal in SavedModels)", finding.Info)
	// RuleMalformed fires when the file is not a well-formed protocol buffer
	// or is larger than MaxSize.
	RuleMalformed = family.Rule("malformed", "SavedModel could not be fully parsed", finding.Medium)
)

// Rules lists every rule the package can emit (the Keras findings of
// embedded metadata use keras.Rules).
func Rules() []finding.Rule {
	return []finding.Rule{*RulePyFunc, *RuleFileAccess, *RuleNetwork, *RuleCustomOp, *RuleCheckpointIO, *RuleMalformed}
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	pyFuncOps = set("PyFunc", "PyFuncStateless", "EagerPyFunc")
	fileOps   = set("ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst",
		"WholeFileReader", "WholeFileReaderV2", "TextLineReader", "TextLineReaderV2",
		"FixedLengthRecordReader", "FixedLengthRecordReaderV2", "TFRecordReader", "TFRecordReaderV2",
		"LMDBReader", "TextLineDataset", "TFRecordDataset", "TFRecordDatasetV2",
		"FixedLengthRecordDataset", "FixedLengthRecordDatasetV2", "LMDBDataset", "ExperimentalLMDBDataset",
		"CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset", "SqlDataset", "ExperimentalSqlDataset",
		"SaveDataset", "SaveDatasetV2", "LoadDataset", "SnapshotDataset", "SnapshotDatasetV2",
		"ExperimentalSnapshotDataset", "DatasetToTFRecord", "ExperimentalDatasetToTFRecord",
		"CreateSummaryFileWriter", "CreateSummaryDbWriter", "SummaryWriter", "DebugIdentityV3")
	networkOps = set("Rpc", "TryRpc", "DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3",
		"DataServiceDatasetV4", "RegisterDataset", "RegisterDatasetV2", "DistributedSave")
	checkpointOps = set("SaveV2", "RestoreV2", "MergeV2Checkpoints", "Save", "SaveSlices", "Restore",
		"RestoreSlice", "InitializeTableFromTextFile", "InitializeTableFromTextFileV2",
		"LoadAndRemapMatrix", "GenerateVocabRemapping")
)

// Scan reads a saved_model.pb (or a bare GraphDef) of size bytes from r
// and returns what it finds. The error is non-nil only when r fails.
func Scan(r io.ReaderAt, size int64) ([]finding.Finding, error) {
	s := &scanner{groups: map[groupKey]*group{}}
	data, err := readAll(r, size, s)
	if err != nil {
		return nil, err
	}
	if isGraphDef(data) {
		s.graphDef(data, 0)
	} else {
		s.check(pbwire.Each(data, 0, func(f pbwire.Field) error {
			if f.Num == 2 && f.Type == protowire.BytesType {
				s.metaGraph(f.Bytes, f.Off)
			}
			return nil
		}))
	}
	return s.results(), nil
}

// ScanKerasMetadata reads a keras_metadata.pb (Keras's SavedMetadata) and
// scans the Keras JSON of every node with keras.ScanConfig.
func ScanKerasMetadata(r io.ReaderAt, size int64) ([]finding.Finding, error) {
	s := &scanner{groups: map[groupKey]*group{}}
	data, err := readAll(r, size, s)
	if err != nil {
		return nil, err
	}
	s.check(s.findJSON(data, 0, 0))
	return s.results(), nil
}

func readAll(r io.ReaderAt, size int64, s *scanner) ([]byte, error) {
	if size < 0 {
		return nil, fmt.Errorf("savedmodel: negative size %d", size)
	}
	n := size
	if n > MaxSize {
		n = MaxSize
		s.add(RuleMalformed, MaxSize, "", fmt.Sprintf("%d bytes", size),
			fmt.Sprintf("file is larger than the %d-byte limit; only the first %d bytes were parsed", MaxSize, MaxSize))
	}
	data := make([]byte, n)
	if _, err := r.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF)) {
		return nil, fmt.Errorf("savedmodel: reading %d bytes: %w", n, err)
	}
	return data, nil
}

// isGraphDef tells a bare GraphDef (node = 1, a message) from a SavedModel
// (saved_model_schema_version = 1, a varint; meta_graphs = 2).
func isGraphDef(data []byte) bool {
	gd := false
	_ = pbwire.Each(data, 0, func(f pbwire.Field) error {
		if f.Num == 1 {
			gd = f.Type == protowire.BytesType
			return errStop
		}
		return nil
	})
	return gd
}

var errStop = errors.New("stop")

type groupKey struct {
	rule *finding.Rule
	op   string
}

// group gathers the occurrences of one op under one rule.
type group struct {
	off      int64
	count    int
	examples []string
	excerpt  string
	msg      string
}

type scanner struct {
	groups   map[groupKey]*group
	order    []groupKey
	extra    []finding.Finding
	jsonSeen int
}

// add records one occurrence of op (or of a problem, when op is "").
func (s *scanner) add(r *finding.Rule, off int64, op, excerpt, msg string) {
	k := groupKey{r, op}
	if op == "" {
		k.op = fmt.Sprintf("@%d", off)
	}
	g := s.groups[k]
	if g == nil {
		g = &group{off: off, excerpt: excerpt, msg: msg}
		s.groups[k] = g
		s.order = append(s.order, k)
	}
	g.count++
	if len(g.examples) < maxExamples && excerpt != "" && !slices.Contains(g.examples, excerpt) {
		g.examples = append(g.examples, excerpt)
	}
}

func (s *scanner) check(err error) {
	if err == nil || errors.Is(err, errStop) {
		return
	}
	var pe *pbwire.Error
	off := int64(0)
	if errors.As(err, &pe) {
		off = pe.Off
	}
	s.add(RuleMalformed, off, "", truncate(err.Error(), 120),
		"the protocol buffer is malformed here; what follows was not inspected")
}

func (s *scanner) results() []finding.Finding {
	out := make([]finding.Finding, 0, len(s.order)+len(s.extra))
	for _, k := range s.order {
		g := s.groups[k]
		f := finding.New(k.rule, finding.Location{Offset: g.off}, confidence(k.rule), truncate(strings.Join(g.examples, "; "), 200))
		f.Message = g.msg
		if g.count > 1 {
			f.Message += fmt.Sprintf(" (%d occurrences)", g.count)
		}
		f.Detector = Detector
		out = append(out, f)
	}
	return append(out, s.extra...)
}

func confidence(r *finding.Rule) float64 {
	if r == RuleCustomOp {
		return 0.6
	}
	return 0.95
}

func (s *scanner) metaGraph(b []byte, base int64) {
	s.check(pbwire.Each(b, base, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 2: // graph_def
			s.graphDef(f.Bytes, f.Off)
		case 7: // object_graph_def: Keras metadata JSON in SavedUserObject
			s.check(s.findJSON(f.Bytes, f.Off, 0))
		}
		return nil
	}))
}

// graphDef walks a GraphDef: node = 1, library = 2.
func (s *scanner) graphDef(b []byte, base int64) {
	funcs := map[string]bool{}
	// First pass: the names of the library's functions, which nodes may
	// call as ops.
	_ = pbwire.Each(b, base, func(f pbwire.Field) error {
		if f.Num == 2 && f.Type == protowire.BytesType {
			_ = pbwire.Each(f.Bytes, f.Off, func(fn pbwire.Field) error {
				if fn.Num == 1 && fn.Type == protowire.BytesType {
					funcs[functionName(fn.Bytes)] = true
				}
				return nil
			})
		}
		return nil
	})
	s.check(pbwire.Each(b, base, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 1:
			s.node(f.Bytes, f.Off, "graph", funcs)
		case 2:
			s.check(pbwire.Each(f.Bytes, f.Off, func(fn pbwire.Field) error {
				if fn.Num == 1 && fn.Type == protowire.BytesType {
					s.function(fn.Bytes, fn.Off, funcs)
				}
				return nil
			}))
		}
		return nil
	}))
}

// functionName returns FunctionDef.signature.name.
func functionName(fd []byte) string {
	name := ""
	_ = pbwire.Each(fd, 0, func(f pbwire.Field) error {
		if f.Num == 1 && f.Type == protowire.BytesType {
			name = pbwire.String(f.Bytes, 1)
		}
		return nil
	})
	return name
}

// function walks a FunctionDef: signature = 1, node_def = 3.
func (s *scanner) function(b []byte, base int64, funcs map[string]bool) {
	name := functionName(b)
	s.check(pbwire.Each(b, base, func(f pbwire.Field) error {
		if f.Num == 3 && f.Type == protowire.BytesType {
			s.node(f.Bytes, f.Off, "function "+truncate(name, 80), funcs)
		}
		return nil
	}))
}

// node checks a NodeDef: name = 1, op = 2, attr = 5.
func (s *scanner) node(b []byte, base int64, where string, funcs map[string]bool) {
	var name, op string
	var attrs []pbwire.Field
	s.check(pbwire.Each(b, base, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 1:
			name = string(f.Bytes)
		case 2:
			op = string(f.Bytes)
		case 5:
			attrs = append(attrs, f)
		}
		return nil
	}))
	excerpt := truncate(op, 80) + " " + truncate(name, 80)
	in := " in " + where
	switch {
	case pyFuncOps[op]:
		s.add(RulePyFunc, base, op, excerpt, fmt.Sprintf("op %s%s runs a Python function of the loading process", op, in))
	case fileOps[op]:
		s.add(RuleFileAccess, base, op, excerpt, fmt.Sprintf("op %s%s reads or writes files when the graph runs", op, in))
	case networkOps[op]:
		s.add(RuleNetwork, base, op, excerpt, fmt.Sprintf("op %s%s reaches the network when the graph runs", op, in))
	case checkpointOps[op]:
		s.add(RuleCheckpointIO, base, op, excerpt, fmt.Sprintf("op %s%s reads or writes checkpoint or vocabulary files, as every SavedModel does", op, in))
	case op != "" && !funcs[op] && !builtinLike(op):
		s.add(RuleCustomOp, base, op, excerpt, fmt.Sprintf("op %q%s is not named like a TensorFlow built-in; loading needs a custom op library", op, in))
	}
	// Any attribute that sends output to a file (PrintV2 output_stream,
	// Debug* debug_urls) writes files.
	for _, a := range attrs {
		key := pbwire.String(a.Bytes, 1)
		_ = pbwire.Each(a.Bytes, a.Off, func(f pbwire.Field) error {
			if f.Num == 2 && f.Type == protowire.BytesType {
				if u, off, ok := fileURL(f.Bytes, f.Off, 0); ok {
					s.add(RuleFileAccess, off, op+"@"+key, excerpt+" "+truncate(key, 40)+"="+truncate(u, 80),
						fmt.Sprintf("op %s%s sends output to %s (attribute %s)", op, in, truncate(u, 80), key))
				}
			}
			return nil
		})
	}
}

// fileURL looks for a file:// string in an AttrValue (s = 2, list = 1 with
// s = 2, func = 10 with attr = 2).
func fileURL(av []byte, base int64, depth int) (string, int64, bool) {
	if depth > maxNesting {
		return "", 0, false
	}
	var url string
	var at int64
	_ = pbwire.Each(av, base, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 2:
			if bytes.HasPrefix(bytes.TrimSpace(f.Bytes), []byte("file://")) {
				url, at = string(f.Bytes), f.Off
				return errStop
			}
		case 1: // ListValue: s = 2
			return pbwire.Each(f.Bytes, f.Off, func(l pbwire.Field) error {
				if l.Num == 2 && l.Type == protowire.BytesType && bytes.HasPrefix(bytes.TrimSpace(l.Bytes), []byte("file://")) {
					url, at = string(l.Bytes), l.Off
					return errStop
				}
				return nil
			})
		case 10: // NameAttrList: attr = 2 (map entry, value = 2)
			return pbwire.Each(f.Bytes, f.Off, func(e pbwire.Field) error {
				if e.Num == 2 && e.Type == protowire.BytesType {
					return pbwire.Each(e.Bytes, e.Off, func(v pbwire.Field) error {
						if v.Num == 2 && v.Type == protowire.BytesType {
							if u, o, ok := fileURL(v.Bytes, v.Off, depth+1); ok {
								url, at = u, o
								return errStop
							}
						}
						return nil
					})
				}
				return nil
			})
		}
		return nil
	})
	return url, at, url != ""
}

// builtinLike reports whether op is named like a TensorFlow built-in op:
// CamelCase letters and digits, or an internal "_Name". Custom op libraries
// often namespace their ops ("Addons>GeLU") or use other conventions.
func builtinLike(op string) bool {
	s := strings.TrimPrefix(op, "_")
	if s == "" || len(op) > 128 || !unicode.IsUpper(rune(s[0])) {
		return false
	}
	for _, c := range s {
		if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// findJSON scans every length-delimited field of msg, at any depth up to
// maxNesting, that holds a JSON object naming Keras classes.
func (s *scanner) findJSON(msg []byte, base int64, depth int) error {
	if depth > maxNesting {
		return nil
	}
	return pbwire.Each(msg, base, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType || len(f.Bytes) == 0 {
			return nil
		}
		t := bytes.TrimLeft(f.Bytes, " \t\r\n")
		if len(t) > 0 && t[0] == '{' && bytes.Contains(f.Bytes, []byte(`"class_name"`)) {
			if s.jsonSeen < maxJSONScans {
				s.jsonSeen++
				s.extra = append(s.extra, keras.ScanConfigAt(f.Bytes, f.Off)...)
			}
			return nil
		}
		// Not JSON: it may be a nested message; a string that is not a
		// message just fails to parse, which is not an error here.
		_ = s.findJSON(f.Bytes, f.Off, depth+1)
		return nil
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
