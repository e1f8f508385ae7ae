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
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
	"github.com/rampartsec/rampart/scan/model/internal/pbwire"
	"github.com/rampartsec/rampart/scan/model/keras"
)

// Detector is the name findings of this package carry in Finding.Detector.
const Detector = "model.savedmodel"

// Bounds on the walk.
const (
	maxNesting   = 8    // nested AttrValue.func levels, object graph depth
	maxExamples  = 5    // node names kept per grouped finding
	maxJSONScans = 256  // Keras JSON strings scanned per file
	maxString    = 4096 // op names, node names and attribute strings are cut here
	maxAttrs     = 1024 // attributes looked at per node
	maxFindings  = 1000 // distinct grouped findings per file
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
	// RuleMalformed fires when the file is not a well-formed protocol
	// buffer.
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
// and returns what it finds. The file is streamed: tensor constants and
// other large values are skipped, not read. The error is non-nil only when
// r fails.
func Scan(r io.ReaderAt, size int64) ([]finding.Finding, error) {
	s := newScanner(r, size)
	graph, err := s.isGraphDef()
	if err == nil {
		if graph {
			err = s.graphDef(0, size)
		} else {
			err = s.check(s.rd.Each(0, size, func(f pbwire.Field) error {
				if f.Num == 2 && f.Type == protowire.BytesType {
					return s.metaGraph(f.Off, f.Off+f.Len)
				}
				return nil
			}))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("savedmodel: %w", err)
	}
	return s.results(), nil
}

// ScanKerasMetadata reads a keras_metadata.pb (Keras's SavedMetadata) and
// scans the Keras JSON of every node with keras.ScanConfig.
func ScanKerasMetadata(r io.ReaderAt, size int64) ([]finding.Finding, error) {
	s := newScanner(r, size)
	if err := s.check(s.findJSON(0, size, 0)); err != nil {
		return nil, fmt.Errorf("savedmodel: %w", err)
	}
	return s.results(), nil
}

func newScanner(r io.ReaderAt, size int64) *scanner {
	return &scanner{rd: pbwire.NewReader(r, max(size, 0)), groups: map[groupKey]*group{}}
}

// isGraphDef tells a bare GraphDef (node = 1, a message) from a SavedModel
// (saved_model_schema_version = 1, a varint; meta_graphs = 2).
func (s *scanner) isGraphDef() (bool, error) {
	gd := false
	err := s.rd.Each(0, s.rd.Size(), func(f pbwire.Field) error {
		if f.Num == 1 {
			gd = f.Type == protowire.BytesType
			return errStop
		}
		return nil
	})
	var ioErr *pbwire.IOError
	if errors.As(err, &ioErr) {
		return false, err
	}
	return gd, nil
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
	msg      string
}

type scanner struct {
	rd       *pbwire.Reader
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
		if len(s.order) >= maxFindings {
			return
		}
		g = &group{off: off, msg: msg}
		s.groups[k] = g
		s.order = append(s.order, k)
	}
	g.count++
	if len(g.examples) < maxExamples && excerpt != "" && !slices.Contains(g.examples, excerpt) {
		g.examples = append(g.examples, excerpt)
	}
}

// check turns malformed wire data into a finding and passes I/O errors up.
func (s *scanner) check(err error) error {
	if err == nil || errors.Is(err, errStop) {
		return nil
	}
	var pe *pbwire.Error
	if !errors.As(err, &pe) {
		return err
	}
	s.add(RuleMalformed, pe.Off, "", modelfinding.Clip(pe.Err.Error(), 120),
		"the protocol buffer is malformed here; what follows it in the same message was not inspected")
	return nil
}

func (s *scanner) results() []finding.Finding {
	out := make([]finding.Finding, 0, len(s.order)+len(s.extra))
	for _, k := range s.order {
		g := s.groups[k]
		f := finding.New(k.rule, finding.Location{Offset: g.off}, confidence(k.rule), modelfinding.Clip(strings.Join(g.examples, "; "), 200))
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

// str reads a short string field, cut to maxString bytes.
func (s *scanner) str(f pbwire.Field) (string, error) {
	if f.Type != protowire.BytesType {
		return "", nil
	}
	n := min(f.Len, maxString)
	b, err := s.rd.ReadBytes(pbwire.Field{Num: f.Num, Off: f.Off, Len: n}, maxString)
	if err != nil {
		return "", err
	}
	if n < f.Len {
		return string(b) + "…", nil
	}
	return string(b), nil
}

// metaGraph walks a MetaGraphDef: graph_def = 2, object_graph_def = 7.
func (s *scanner) metaGraph(start, end int64) error {
	return s.check(s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 2:
			return s.graphDef(f.Off, f.Off+f.Len)
		case 7: // Keras metadata JSON in SavedUserObject.metadata
			return s.check(s.findJSON(f.Off, f.Off+f.Len, 0))
		}
		return nil
	}))
}

// graphDef walks a GraphDef: node = 1, library = 2.
func (s *scanner) graphDef(start, end int64) error {
	// First pass: the names of the library's functions, which nodes may
	// call as ops.
	funcs := map[string]bool{}
	err := s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Num != 2 || f.Type != protowire.BytesType {
			return nil
		}
		return s.rd.Each(f.Off, f.Off+f.Len, func(fn pbwire.Field) error {
			if fn.Num != 1 || fn.Type != protowire.BytesType {
				return nil
			}
			name, err := s.functionName(fn)
			funcs[name] = true
			return err
		})
	})
	var ioErr *pbwire.IOError
	if errors.As(err, &ioErr) {
		return err
	}
	return s.check(s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 1:
			return s.node(f.Off, f.Off+f.Len, "graph", funcs)
		case 2:
			return s.check(s.rd.Each(f.Off, f.Off+f.Len, func(fn pbwire.Field) error {
				if fn.Num == 1 && fn.Type == protowire.BytesType {
					return s.function(fn, funcs)
				}
				return nil
			}))
		}
		return nil
	}))
}

// functionName returns FunctionDef.signature.name.
func (s *scanner) functionName(fd pbwire.Field) (string, error) {
	name := ""
	err := s.rd.Each(fd.Off, fd.Off+fd.Len, func(f pbwire.Field) error {
		if f.Num != 1 || f.Type != protowire.BytesType {
			return nil
		}
		return s.rd.Each(f.Off, f.Off+f.Len, func(g pbwire.Field) error {
			if g.Num == 1 {
				var err error
				name, err = s.str(g)
				return err
			}
			return nil
		})
	})
	return name, err
}

// function walks a FunctionDef: signature = 1, node_def = 3.
func (s *scanner) function(fd pbwire.Field, funcs map[string]bool) error {
	name, err := s.functionName(fd)
	if err := s.check(err); err != nil {
		return err
	}
	return s.check(s.rd.Each(fd.Off, fd.Off+fd.Len, func(f pbwire.Field) error {
		if f.Num == 3 && f.Type == protowire.BytesType {
			return s.node(f.Off, f.Off+f.Len, "function "+modelfinding.Clip(name, 80), funcs)
		}
		return nil
	}))
}

// node checks a NodeDef: name = 1, op = 2, attr = 5.
func (s *scanner) node(start, end int64, where string, funcs map[string]bool) error {
	var name, op string
	var attrs []pbwire.Field
	err := s.rd.Each(start, end, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 1:
			name, err = s.str(f)
		case 2:
			op, err = s.str(f)
		case 5:
			if f.Type == protowire.BytesType && len(attrs) < maxAttrs {
				attrs = append(attrs, f)
			}
		}
		return err
	})
	if err := s.check(err); err != nil {
		return err
	}
	excerpt := modelfinding.Clip(op, 80) + " " + modelfinding.Clip(name, 80)
	in := " in " + where
	switch {
	case pyFuncOps[op]:
		s.add(RulePyFunc, start, op, excerpt, fmt.Sprintf("op %s%s runs a Python function of the loading process", op, in))
	case fileOps[op]:
		s.add(RuleFileAccess, start, op, excerpt, fmt.Sprintf("op %s%s reads or writes files when the graph runs", op, in))
	case networkOps[op]:
		s.add(RuleNetwork, start, op, excerpt, fmt.Sprintf("op %s%s reaches the network when the graph runs", op, in))
	case checkpointOps[op]:
		s.add(RuleCheckpointIO, start, op, excerpt, fmt.Sprintf("op %s%s reads or writes checkpoint or vocabulary files, as every SavedModel does", op, in))
	case op != "" && !funcs[op] && !builtinLike(op):
		s.add(RuleCustomOp, start, op, excerpt, fmt.Sprintf("op %q%s is not named like a TensorFlow built-in; loading needs a custom op library", op, in))
	}
	// Any attribute that sends output to a file (PrintV2 output_stream,
	// Debug* debug_urls) writes files. Entries: key = 1, value = 2.
	for _, a := range attrs {
		var key string
		var url string
		var at int64
		err := s.rd.Each(a.Off, a.Off+a.Len, func(f pbwire.Field) error {
			var err error
			switch {
			case f.Num == 1:
				key, err = s.str(f)
			case f.Num == 2 && f.Type == protowire.BytesType:
				url, at, err = s.fileURL(f.Off, f.Off+f.Len, 0)
			}
			return err
		})
		if err := s.check(err); err != nil {
			return err
		}
		if url != "" {
			s.add(RuleFileAccess, at, op+"@"+key, excerpt+" "+modelfinding.Clip(key, 40)+"="+modelfinding.Clip(url, 80),
				fmt.Sprintf("op %s%s sends output to %s (attribute %s)", op, in, modelfinding.Clip(url, 80), key))
		}
	}
	return nil
}

// fileURL looks for a file:// string in an AttrValue (s = 2, list = 1 with
// s = 2, func = 10 with attr = 2 entries of value = 2).
func (s *scanner) fileURL(start, end int64, depth int) (string, int64, error) {
	if depth > maxNesting {
		return "", 0, nil
	}
	var url string
	var at int64
	isURL := func(f pbwire.Field) error {
		v, err := s.str(f)
		if err == nil && strings.HasPrefix(strings.TrimSpace(v), "file://") {
			url, at = v, f.Off
			return errStop
		}
		return err
	}
	err := s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 2:
			return isURL(f)
		case 1: // ListValue: s = 2
			return s.rd.Each(f.Off, f.Off+f.Len, func(l pbwire.Field) error {
				if l.Num == 2 && l.Type == protowire.BytesType {
					return isURL(l)
				}
				return nil
			})
		case 10: // NameAttrList: attr = 2 (map entry, value = 2)
			return s.rd.Each(f.Off, f.Off+f.Len, func(e pbwire.Field) error {
				if e.Num != 2 || e.Type != protowire.BytesType {
					return nil
				}
				return s.rd.Each(e.Off, e.Off+e.Len, func(v pbwire.Field) error {
					if v.Num != 2 || v.Type != protowire.BytesType {
						return nil
					}
					u, o, err := s.fileURL(v.Off, v.Off+v.Len, depth+1)
					if u != "" {
						url, at = u, o
						return errStop
					}
					return err
				})
			})
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return url, at, err
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

// findJSON scans every length-delimited field of the message in
// [start, end), at any depth up to maxNesting, that holds a JSON object
// naming Keras classes. A field that is neither JSON nor a message simply
// fails to parse as one, which is not a problem here.
func (s *scanner) findJSON(start, end int64, depth int) error {
	if depth > maxNesting {
		return nil
	}
	return s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType || f.Len == 0 {
			return nil
		}
		head, err := s.rd.ReadBytes(pbwire.Field{Num: f.Num, Off: f.Off, Len: min(f.Len, 64)}, 64)
		if err != nil {
			return err
		}
		if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '{' {
			if s.jsonSeen >= maxJSONScans || f.Len > keras.MaxConfigSize {
				return nil
			}
			b, err := s.rd.ReadBytes(f, keras.MaxConfigSize)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(`"class_name"`)) {
				s.jsonSeen++
				s.extra = append(s.extra, keras.ScanConfigAt(b, f.Off)...)
			}
			return nil
		}
		err = s.findJSON(f.Off, f.Off+f.Len, depth+1)
		var ioErr *pbwire.IOError
		if errors.As(err, &ioErr) {
			return err
		}
		return nil
	})
}
