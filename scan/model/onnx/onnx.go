// Package onnx finds hostile content in ONNX models without loading them:
// external tensor data whose path leaves the model's folder (absolute
// paths, "..", symlinks pointing outside, ONNX Runtime's in-memory address
// marker), external data ranges past the end of their file, and operators
// from custom domains that need native custom-op libraries or call Python.
//
// Scan walks the protocol buffer wire format through an io.ReaderAt, reading
// only tags, lengths and the few small strings it needs, so tensor data is
// skipped, never loaded: ModelProto → GraphProto (also in training_info and
// in node attributes, at any depth up to MaxGraphDepth) → NodeProto and
// TensorProto, and every FunctionProto of the model's function library.
package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/internal/modelfinding"
	"github.com/rampartsec/rampart/scan/model/internal/pbwire"
)

// Detector is the name findings of this package carry in Finding.Detector.
const Detector = "model.onnx"

// Limits of the walk.
const (
	// MaxGraphDepth bounds the nesting of subgraphs (If/Loop/Scan bodies).
	MaxGraphDepth = 64
	// maxString bounds the small strings read (op types, domains, names,
	// external data keys and values).
	maxString = 4096
	// maxExamples bounds the examples kept per grouped finding.
	maxExamples = 5
	// maxFindings bounds the findings of one file.
	maxFindings = 1000
)

var family = finding.Family{
	Name:        Detector,
	Layer:       finding.LayerModelWeights,
	Remediation: "Do not load this ONNX model; keep external data inside the model folder, and load custom operators only from libraries you trust.",
	References: finding.References{
		OWASP: []string{"LLM03:2025", "LLM04:2025"},
		ATLAS: []string{"AML.T0010.003", "AML.T0011.000"},
		CWE:   []string{"CWE-22", "CWE-59", "CWE-829"},
	},
}

// The rules of the package.
var (
	// RuleExternalEscape fires on an external data location that is
	// absolute, climbs out of the model folder with "..", or resolves
	// through a symlink to a file outside it: loading reads that file into
	// a tensor (and may return it through the model's outputs).
	RuleExternalEscape = family.Rule("external-data-escape", "External data path leaves the model folder", finding.Critical)
	// RuleExternalMemory fires on ONNX Runtime's in-memory marker
	// "*/_ORT_MEM_ADDR_/*" as a location, which makes the offset a raw
	// memory address.
	RuleExternalMemory = family.Rule("external-data-memory", "External data location is ONNX Runtime's memory-address marker", finding.Critical)
	// RuleExternalRange fires when an external data range does not lie
	// inside its file, or the file is not a regular file.
	RuleExternalRange = family.Rule("external-data-range", "External data range lies outside its file", finding.High)
	// RuleExternalMissing notes an external data file that does not exist.
	RuleExternalMissing = family.Rule("external-data-missing", "External data file is missing", finding.Low)
	// RulePythonOp fires on operators that call Python functions
	// (onnxruntime-extensions PyOp and the like).
	RulePythonOp = family.Rule("python-op", "Operator calls Python code", finding.High)
	// RuleCustomDomain fires on operators from a domain that is neither
	// standard ONNX, ONNX Runtime's own, nor a function of the model: they
	// need a native custom operator library.
	RuleCustomDomain = family.Rule("custom-domain", "Operator from a custom domain (needs a custom op library)", finding.Medium)
	// RuleContribOp notes ONNX Runtime contrib operators (com.microsoft…),
	// which ship with ONNX Runtime itself.
	RuleContribOp = family.Rule("contrib-op", "ONNX Runtime contrib operator", finding.Info)
	// RuleMalformed fires when the file is not a well-formed ModelProto,
	// nests deeper than the limit, or has unreadable external data fields.
	RuleMalformed = family.Rule("malformed", "ONNX model could not be fully parsed", finding.Medium)
)

// Rules lists every rule the package can emit.
func Rules() []finding.Rule {
	return []finding.Rule{*RuleExternalEscape, *RuleExternalMemory, *RuleExternalRange, *RuleExternalMissing,
		*RulePythonOp, *RuleCustomDomain, *RuleContribOp, *RuleMalformed}
}

// standardDomains are the ONNX operator set domains.
var standardDomains = map[string]bool{
	"": true, "ai.onnx": true, "ai.onnx.ml": true, "ai.onnx.training": true,
	"ai.onnx.preview.training": true, "ai.onnx.preview": true,
}

// runtimeDomains are domains whose operators ship with ONNX Runtime.
var runtimeDomains = map[string]bool{
	"com.microsoft": true, "com.microsoft.nchwc": true, "com.microsoft.experimental": true,
	"com.microsoft.dml": true, "com.ms.internal.nhwc": true, "org.pytorch.aten": true,
}

// pythonOps are operator types that call into Python in the runtimes that
// define them (onnxruntime-extensions' PyOp, PyTorch exporter's PythonOp).
var pythonOps = map[string]bool{"PyOp": true, "PythonOp": true, "PyFunc": true, "PythonFunction": true}

// ortMemoryMarker is the location ONNX Runtime uses for tensors whose data
// sits in memory; the offset is then a raw address.
const ortMemoryMarker = "*/_ORT_MEM_ADDR_/*"

// Scan walks the ONNX model of size bytes in r. dir is the directory the
// model file is in, used to resolve external data files; pass "" for a
// model read from an archive, and only the paths themselves are checked.
// The error is non-nil only when r fails.
func Scan(r io.ReaderAt, size int64, dir string) ([]finding.Finding, error) {
	s := &scanner{rd: pbwire.NewReader(r, size), dir: dir, groups: map[groupKey]*group{}, local: map[string]bool{}}
	if dir != "" {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			s.realDir = real
		} else {
			s.realDir = filepath.Clean(dir)
		}
	}
	if err := s.model(0, size); err != nil {
		return nil, err
	}
	return s.results(), nil
}

type groupKey struct {
	rule *finding.Rule
	what string
}

type group struct {
	off      int64
	count    int
	examples []string
	msg      string
	sev      finding.Severity
}

type scanner struct {
	rd      *pbwire.Reader
	dir     string
	realDir string
	local   map[string]bool // "domain\x00name" of model-local functions
	groups  map[groupKey]*group
	order   []groupKey
}

// add records an occurrence; findings of one rule and key are grouped.
func (s *scanner) add(r *finding.Rule, key string, sev finding.Severity, off int64, example, msg string) {
	k := groupKey{r, key}
	g := s.groups[k]
	if g == nil {
		if len(s.order) >= maxFindings {
			return
		}
		g = &group{off: off, msg: msg, sev: sev}
		s.groups[k] = g
		s.order = append(s.order, k)
	}
	g.count++
	if sev > g.sev {
		g.sev = sev
	}
	if len(g.examples) < maxExamples && example != "" {
		for _, e := range g.examples {
			if e == example {
				return
			}
		}
		g.examples = append(g.examples, example)
	}
}

func (s *scanner) results() []finding.Finding {
	out := make([]finding.Finding, 0, len(s.order))
	for _, k := range s.order {
		g := s.groups[k]
		f := finding.New(k.rule, finding.Location{Offset: g.off}, 0.95, modelfinding.Clip(strings.Join(g.examples, "; "), 200))
		f.Severity = g.sev
		f.Message = g.msg
		if g.count > 1 {
			f.Message += fmt.Sprintf(" (%d occurrences)", g.count)
		}
		f.Detector = Detector
		out = append(out, f)
	}
	return out
}

// check turns a malformed-data error into a finding and passes I/O errors
// up.
func (s *scanner) check(err error) error {
	if err == nil {
		return nil
	}
	var pe *pbwire.Error
	if errors.As(err, &pe) {
		s.add(RuleMalformed, fmt.Sprintf("@%d", pe.Off), RuleMalformed.Severity, pe.Off, modelfinding.Clip(pe.Err.Error(), 120),
			"the protocol buffer is malformed here; what follows it in the same message was not inspected")
		return nil
	}
	return err
}

func (s *scanner) str(f pbwire.Field) (string, error) {
	if f.Type != protowire.BytesType {
		return "", nil
	}
	b, err := s.rd.ReadBytes(f, maxString)
	if err != nil {
		var pe *pbwire.Error
		if errors.As(err, &pe) {
			// Over-long strings are cut, not fatal.
			b, err = s.rd.ReadBytes(pbwire.Field{Num: f.Num, Off: f.Off, Len: maxString}, maxString)
			if err != nil {
				return "", err
			}
			return string(b) + "…", nil
		}
		return "", err
	}
	return string(b), nil
}

// model walks a ModelProto: graph = 7, training_info = 20, functions = 25.
func (s *scanner) model(start, end int64) error {
	// First the names of the model-local functions, which nodes call like
	// operators of the function's domain.
	err := s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Num != 25 || f.Type != protowire.BytesType {
			return nil
		}
		var name, domain string
		err := s.rd.Each(f.Off, f.Off+f.Len, func(g pbwire.Field) error {
			var err error
			switch g.Num {
			case 1:
				name, err = s.str(g)
			case 10:
				domain, err = s.str(g)
			}
			return err
		})
		s.local[domain+"\x00"+name] = true
		return s.check(err)
	})
	if err := s.check(err); err != nil {
		return err
	}
	return s.check(s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 7:
			return s.graph(f.Off, f.Off+f.Len, 0)
		case 20: // TrainingInfoProto: initialization = 1, algorithm = 2
			return s.check(s.rd.Each(f.Off, f.Off+f.Len, func(g pbwire.Field) error {
				if (g.Num == 1 || g.Num == 2) && g.Type == protowire.BytesType {
					return s.graph(g.Off, g.Off+g.Len, 1)
				}
				return nil
			}))
		case 25: // FunctionProto: node = 7
			return s.check(s.rd.Each(f.Off, f.Off+f.Len, func(g pbwire.Field) error {
				if g.Num == 7 && g.Type == protowire.BytesType {
					return s.node(g.Off, g.Off+g.Len, 1)
				}
				return nil
			}))
		}
		return nil
	}))
}

// graph walks a GraphProto: node = 1, initializer = 5,
// sparse_initializer = 15.
func (s *scanner) graph(start, end int64, depth int) error {
	if depth > MaxGraphDepth {
		s.add(RuleMalformed, "depth", RuleMalformed.Severity, start, fmt.Sprintf("subgraph depth > %d", MaxGraphDepth),
			fmt.Sprintf("subgraphs nest deeper than %d levels; the deeper ones were not inspected", MaxGraphDepth))
		return nil
	}
	return s.check(s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 1:
			return s.node(f.Off, f.Off+f.Len, depth)
		case 5:
			return s.tensor(f.Off, f.Off+f.Len)
		case 15:
			return s.sparseTensor(f.Off, f.Off+f.Len)
		}
		return nil
	}))
}

// sparseTensor walks a SparseTensorProto: values = 1, indices = 2.
func (s *scanner) sparseTensor(start, end int64) error {
	return s.check(s.rd.Each(start, end, func(f pbwire.Field) error {
		if (f.Num == 1 || f.Num == 2) && f.Type == protowire.BytesType {
			return s.tensor(f.Off, f.Off+f.Len)
		}
		return nil
	}))
}

// node checks a NodeProto: name = 3, op_type = 4, attribute = 5,
// domain = 7.
func (s *scanner) node(start, end int64, depth int) error {
	var name, op, domain string
	err := s.rd.Each(start, end, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 3:
			name, err = s.str(f)
		case 4:
			op, err = s.str(f)
		case 7:
			domain, err = s.str(f)
		case 5:
			if f.Type == protowire.BytesType {
				err = s.attribute(f.Off, f.Off+f.Len, depth)
			}
		}
		return err
	})
	if err := s.check(err); err != nil {
		return err
	}
	example := modelfinding.Clip(domain, 60) + "::" + modelfinding.Clip(op, 60)
	if name != "" {
		example += " " + modelfinding.Clip(name, 60)
	}
	switch {
	case standardDomains[domain] || s.local[domain+"\x00"+op]:
	case pythonOps[op]:
		s.add(RulePythonOp, domain+"\x00"+op, RulePythonOp.Severity, start, example,
			fmt.Sprintf("operator %s of domain %q calls a Python function in runtimes that provide it", op, domain))
	case runtimeDomains[domain]:
		s.add(RuleContribOp, domain+"\x00"+op, RuleContribOp.Severity, start, example,
			fmt.Sprintf("operator %s of ONNX Runtime's domain %q", op, domain))
	default:
		s.add(RuleCustomDomain, domain+"\x00"+op, RuleCustomDomain.Severity, start, example,
			fmt.Sprintf("operator %s of custom domain %q needs a native custom operator library to load", op, domain))
	}
	return nil
}

// attribute walks an AttributeProto: t = 5, g = 6, tensors = 10,
// graphs = 11, sparse_tensor = 22, sparse_tensors = 23.
func (s *scanner) attribute(start, end int64, depth int) error {
	return s.check(s.rd.Each(start, end, func(f pbwire.Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case 5, 10:
			return s.tensor(f.Off, f.Off+f.Len)
		case 6, 11:
			return s.graph(f.Off, f.Off+f.Len, depth+1)
		case 22, 23:
			return s.sparseTensor(f.Off, f.Off+f.Len)
		}
		return nil
	}))
}

// tensor checks a TensorProto's external data: name = 8,
// external_data = 13 (StringStringEntryProto key = 1, value = 2),
// data_location = 14.
func (s *scanner) tensor(start, end int64) error {
	var name string
	external := false
	ext := map[string]string{}
	extAt := map[string]int64{}
	err := s.rd.Each(start, end, func(f pbwire.Field) error {
		var err error
		switch f.Num {
		case 8:
			name, err = s.str(f)
		case 14:
			external = f.Type == protowire.VarintType && f.Varint == 1
		case 13:
			if f.Type != protowire.BytesType {
				return nil
			}
			var k, v string
			var vAt int64
			err = s.rd.Each(f.Off, f.Off+f.Len, func(g pbwire.Field) error {
				var err error
				switch g.Num {
				case 1:
					k, err = s.str(g)
				case 2:
					v, err = s.str(g)
					vAt = g.Off
				}
				return err
			})
			if err == nil {
				ext[k], extAt[k] = v, vAt
			}
		}
		return err
	})
	if err := s.check(err); err != nil {
		return err
	}
	if len(ext) > 0 {
		s.external(name, ext, extAt, external, start)
	}
	return nil
}

// external checks one tensor's external data entries.
func (s *scanner) external(name string, ext map[string]string, at map[string]int64, used bool, tensorAt int64) {
	loc, hasLoc := ext["location"]
	off := at["location"]
	if !hasLoc {
		off = tensorAt
	}
	example := modelfinding.Clip(name, 60) + " -> " + modelfinding.Clip(loc, 120)
	sev := func(r *finding.Rule) finding.Severity {
		// Only data_location = EXTERNAL makes a runtime read the file.
		if !used && r.Severity > finding.Medium {
			return finding.Medium
		}
		return r.Severity
	}
	note := ""
	if !used {
		note = " (the tensor's data_location is not EXTERNAL, so runtimes should not read it)"
	}
	switch {
	case !hasLoc || loc == "":
		if used {
			s.add(RuleMalformed, fmt.Sprintf("@%d", off), RuleMalformed.Severity, off, modelfinding.Clip(name, 60),
				"tensor is marked EXTERNAL but its external_data has no location")
		}
		return
	case loc == ortMemoryMarker:
		s.add(RuleExternalMemory, loc, sev(RuleExternalMemory), off, example,
			"external data location is ONNX Runtime's memory marker: the offset is read as a raw memory address"+note)
		return
	case !localPath(loc):
		s.add(RuleExternalEscape, loc, sev(RuleExternalEscape), off, example,
			fmt.Sprintf("external data location %q is absolute or climbs out of the model folder; loading reads that file%s", modelfinding.Clip(loc, 120), note))
		return
	}
	offset, length, err := extRange(ext)
	if err != nil {
		s.add(RuleMalformed, fmt.Sprintf("@%d", tensorAt), RuleMalformed.Severity, tensorAt, example, err.Error())
		return
	}
	if s.dir == "" {
		return
	}
	p := filepath.Join(s.dir, filepath.FromSlash(loc))
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// A dangling symlink whose target is outside still escapes.
			if t, lerr := os.Readlink(p); lerr == nil && (filepath.IsAbs(t) || !filepath.IsLocal(t)) {
				s.add(RuleExternalEscape, loc, sev(RuleExternalEscape), off, example,
					fmt.Sprintf("external data file %q is a symlink to %q outside the model folder%s", modelfinding.Clip(loc, 120), modelfinding.Clip(t, 120), note))
				return
			}
			s.add(RuleExternalMissing, loc, sev(RuleExternalMissing), off, example,
				fmt.Sprintf("external data file %q does not exist in the model folder", modelfinding.Clip(loc, 120)))
		}
		return
	}
	if rel, err := filepath.Rel(s.realDir, real); err != nil || !filepath.IsLocal(rel) {
		s.add(RuleExternalEscape, loc, sev(RuleExternalEscape), off, example,
			fmt.Sprintf("external data file %q resolves through a symlink to %q, outside the model folder%s", modelfinding.Clip(loc, 120), modelfinding.Clip(real, 120), note))
		return
	}
	st, err := os.Stat(real)
	if err != nil {
		return
	}
	if !st.Mode().IsRegular() {
		s.add(RuleExternalRange, loc, sev(RuleExternalRange), off, example,
			fmt.Sprintf("external data file %q is not a regular file (%s)", modelfinding.Clip(loc, 120), st.Mode().Type()))
		return
	}
	if length < 0 {
		length = st.Size() - offset
	}
	if offset > st.Size() || length < 0 || length > st.Size()-offset {
		s.add(RuleExternalRange, fmt.Sprintf("%s@%d+%d", loc, offset, length), sev(RuleExternalRange), off, example,
			fmt.Sprintf("external data range [%d, %d+%d) lies outside %q (%d bytes)", offset, offset, length, modelfinding.Clip(loc, 120), st.Size()))
	}
}

// extRange parses the offset and length entries; length is -1 when absent.
func extRange(ext map[string]string) (offset, length int64, err error) {
	length = -1
	if v, ok := ext["offset"]; ok {
		offset, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("external data offset %q is not a non-negative integer", modelfinding.Clip(v, 40))
		}
	}
	if v, ok := ext["length"]; ok {
		length, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || length < 0 {
			return 0, 0, fmt.Errorf("external data length %q is not a non-negative integer", modelfinding.Clip(v, 40))
		}
	}
	return offset, length, nil
}

// localPath reports whether an external data location stays inside the
// model folder lexically, on POSIX and on Windows: not absolute, no drive
// letter or UNC prefix, no NUL, and no ".." that climbs above the folder
// (filepath.IsLocal semantics on the slash-normalized path).
func localPath(loc string) bool {
	if strings.ContainsRune(loc, 0) {
		return false
	}
	n := strings.ReplaceAll(loc, "\\", "/")
	if strings.HasPrefix(n, "/") || len(n) >= 2 && n[1] == ':' {
		return false
	}
	depth := 0
	for _, part := range strings.Split(n, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return filepath.IsLocal(filepath.FromSlash(n))
}
