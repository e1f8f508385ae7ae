package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Decoding limits: they bound the work an adversarial file can cause, such
// as aliases that expand exponentially ("billion laughs").
const (
	maxDepth      = 64     // nesting of mappings and lists
	maxNodeVisits = 50_000 // values decoded, counting each alias expansion
)

// position is where a key path appears in the file.
type position struct{ line, col int }

// decoder turns the YAML AST into a Config. It is strict: unknown keys,
// wrong types and bad interpolations are errors, and it reports every error
// it finds with the line and the key path, rather than only the first.
type decoder struct {
	errs *errorSet
	env  func(string) (string, bool)

	// pos maps each key path that appears in the file to its position.
	pos map[string]position
	// interpolated maps the key path of each scalar that took a variable's
	// value to the variables it took (for messages that must not echo
	// values).
	interpolated map[string][]string
	// errPaths holds the key paths that had a decoding error, so that
	// validation does not pile a second error on the same key.
	errPaths map[string]bool

	anchors  map[string][]anchorDef
	expanded map[ast.Node]expansion
	visits   int
	tooLarge bool
}

type anchorDef struct {
	offset int
	node   ast.Node
}

type expansion struct {
	text string
	refs []string
	ok   bool
}

func newDecoder(errs *errorSet, env func(string) (string, bool)) *decoder {
	return &decoder{
		errs:         errs,
		env:          env,
		pos:          make(map[string]position),
		interpolated: make(map[string][]string),
		errPaths:     make(map[string]bool),
		anchors:      make(map[string][]anchorDef),
		expanded:     make(map[ast.Node]expansion),
	}
}

// errorf records an error at node n (or, when n has no position, at the key
// path's recorded position).
func (d *decoder) errorf(n ast.Node, path, format string, args ...any) {
	line, col := nodePos(n)
	if line == 0 {
		p := d.pos[path]
		line, col = p.line, p.col
	}
	d.errPaths[path] = true
	d.errs.add(&Error{Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// collectAnchors records every anchor in document order so that an alias
// resolves to the closest anchor of that name before it.
func (d *decoder) collectAnchors(n ast.Node, depth int) {
	if n == nil || depth > 4*maxDepth {
		return
	}
	switch v := n.(type) {
	case *ast.DocumentNode:
		d.collectAnchors(v.Body, depth+1)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			d.collectAnchors(mv, depth+1)
		}
	case *ast.MappingValueNode:
		d.collectAnchors(v.Key, depth+1)
		d.collectAnchors(v.Value, depth+1)
	case *ast.MappingKeyNode:
		d.collectAnchors(v.Value, depth+1)
	case *ast.SequenceNode:
		for _, x := range v.Values {
			d.collectAnchors(x, depth+1)
		}
	case *ast.TagNode:
		d.collectAnchors(v.Value, depth+1)
	case *ast.AnchorNode:
		if v.Value != nil {
			name := tokenValue(v.Name)
			d.anchors[name] = append(d.anchors[name], anchorDef{offset: tokenOffset(v.Start), node: v.Value})
		}
		d.collectAnchors(v.Value, depth+1)
	}
}

// resolve strips anchors and tags and follows aliases. tag is the YAML tag
// of the value, if any. It reports false (after recording an error) when
// the node cannot be resolved.
func (d *decoder) resolve(n ast.Node, path string) (node ast.Node, tag string, ok bool) {
	for range 16 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			t := ""
			if v.Start != nil {
				t = v.Start.Value
			}
			switch t {
			case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq":
			default:
				d.errorf(v, path, "unsupported YAML tag %s", quoteShort(t))
				return nil, "", false
			}
			tag = t
			n = v.Value
		case *ast.AliasNode:
			name := tokenValue(v.Value)
			target := d.anchorBefore(name, tokenOffset(v.Start))
			if target == nil {
				d.errorf(v, path, "unknown anchor %s", quoteShort("*"+name))
				return nil, "", false
			}
			n = target
		default:
			return n, tag, true
		}
		if n == nil {
			return nil, tag, true
		}
	}
	d.errorf(n, path, "too many nested anchors, aliases and tags")
	return nil, "", false
}

// anchorBefore returns the value of the last anchor called name that
// starts before offset (anchors were collected in document order).
func (d *decoder) anchorBefore(name string, offset int) ast.Node {
	defs := d.anchors[name]
	i := sort.Search(len(defs), func(i int) bool { return defs[i].offset >= offset })
	if i == 0 {
		return nil
	}
	return defs[i-1].node
}

// tokenValue is the text of a node's token, or "".
func tokenValue(n ast.Node) string {
	if n == nil {
		return ""
	}
	if t := n.GetToken(); t != nil {
		return t.Value
	}
	return ""
}

// scalar is a decoded scalar value.
type scalar struct {
	text   string
	null   bool
	quoted bool     // quoted, block or !!str: never typed implicitly
	refs   []string // the variables interpolated into the text
}

// describe names the value for an error message without echoing the result
// of an interpolation, which may hold anything from the environment.
func (s scalar) describe() string {
	if len(s.refs) > 0 {
		return "the value interpolated from " + refList(s.refs)
	}
	if s.null {
		return "null"
	}
	return quoteShort(s.text)
}

// kindOf names a non-scalar node's kind for messages.
func kindOf(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return "a " + n.Type().String()
}

// scalarOf reads a resolved node as a scalar, interpolating ${...}
// references. ok is false when the node is not a scalar or interpolation
// failed (an error is recorded).
func (d *decoder) scalarOf(n ast.Node, tag, path string) (scalar, bool) {
	var s scalar
	switch v := n.(type) {
	case nil:
		s.null = true
	case *ast.NullNode:
		s.null = true
		s.text = ""
	case *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		s.text = v.GetToken().Value
	case *ast.StringNode:
		s.text = v.Value
		if tk := v.GetToken(); tk != nil && (tk.Type == token.SingleQuoteType || tk.Type == token.DoubleQuoteType) {
			s.quoted = true
		}
		if !d.interpolate(v, v.Value, 0, path, &s) {
			return s, false
		}
	case *ast.LiteralNode:
		s.quoted = true
		if v.Value != nil {
			s.text = v.Value.Value
		}
		if !d.interpolate(v, s.text, 1, path, &s) {
			return s, false
		}
	default:
		d.errorf(n, path, "want a single value, got %s", kindOf(n))
		return s, false
	}
	if tag == "!!str" {
		s.quoted = true
		s.null = false
	}
	return s, true
}

// interpolate expands s.text in place; lineOffset is 1 for block scalars,
// whose text starts on the line after the node's token.
func (d *decoder) interpolate(n ast.Node, text string, lineOffset int, path string, s *scalar) bool {
	if !strings.Contains(text, "$") {
		return true
	}
	if e, seen := d.expanded[n]; seen {
		if e.ok {
			s.text, s.refs = e.text, e.refs
			if len(e.refs) > 0 {
				d.interpolated[path] = e.refs
			}
		}
		return e.ok
	}
	out, refs, err := expand(text, d.env)
	if err != nil {
		ee := err.(*expandError)
		line, col := nodePos(n)
		if line > 0 {
			if lineOffset > 0 || strings.Contains(text[:ee.Offset], "\n") {
				line += lineOffset + strings.Count(text[:ee.Offset], "\n")
				col = 0
			}
		}
		d.errPaths[path] = true
		d.errs.add(&Error{Line: line, Column: col, Path: path, Msg: ee.Msg})
		d.expanded[n] = expansion{}
		return false
	}
	d.expanded[n] = expansion{text: out, refs: refs, ok: true}
	if len(refs) > 0 {
		d.interpolated[path] = refs
	}
	s.text, s.refs = out, refs
	return true
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decode decodes node n into v, which is addressable.
func (d *decoder) decode(v reflect.Value, n ast.Node, path string, depth int) {
	if d.tooLarge {
		return
	}
	d.visits++
	if d.visits > maxNodeVisits {
		d.tooLarge = true
		d.errorf(n, path, "the document is too large or its aliases expand too much (more than %d values)", maxNodeVisits)
		return
	}
	if depth > maxDepth {
		d.errorf(n, path, "nested more than %d levels deep", maxDepth)
		return
	}
	n, tag, ok := d.resolve(n, path)
	if !ok {
		return
	}
	t := v.Type()

	// Scalars with their own syntax.
	if t == durationType {
		s, ok := d.scalarOf(n, tag, path)
		if !ok || s.null {
			return
		}
		dur, err := time.ParseDuration(strings.TrimSpace(s.text))
		if err != nil {
			if s.text == "0" {
				v.SetInt(0)
				return
			}
			d.errorf(n, path, `want a duration such as "10s", "1m30s" or "2h", got %s`, s.describe())
			return
		}
		v.SetInt(int64(dur))
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		s, ok := d.scalarOf(n, tag, path)
		if !ok || s.null {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s.text)); err != nil {
			d.errorf(n, path, "%v, got %s", err, s.describe())
		}
		return
	}

	switch t.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		d.decode(p.Elem(), n, path, depth+1)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(v, n, path, depth)
	case reflect.Slice:
		d.decodeSlice(v, n, path, depth)
	case reflect.Map:
		d.decodeMap(v, n, path, depth)
	case reflect.Interface:
		if g, ok := d.generic(n, tag, path, depth); ok && g != nil {
			v.Set(reflect.ValueOf(g))
		}
	case reflect.String:
		s, ok := d.scalarOf(n, tag, path)
		if ok {
			v.SetString(s.text)
		}
	case reflect.Bool:
		s, ok := d.scalarOf(n, tag, path)
		if !ok || s.null {
			return
		}
		b, ok := parseBool(s.text)
		if !ok {
			d.errorf(n, path, "want true or false, got %s", s.describe())
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s, ok := d.scalarOf(n, tag, path)
		if !ok || s.null {
			return
		}
		i, ok := parseInt(s.text)
		if !ok || v.OverflowInt(i) {
			d.errorf(n, path, "want an integer, got %s", s.describe())
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		s, ok := d.scalarOf(n, tag, path)
		if !ok || s.null {
			return
		}
		f, ok := parseFloat(s.text)
		if !ok {
			d.errorf(n, path, "want a number, got %s", s.describe())
			return
		}
		v.SetFloat(f)
	default:
		// The model uses none of the other kinds; a test guards this.
		d.errorf(n, path, "cannot decode into %s", t)
	}
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// entry is one key of a mapping, merge keys already applied.
type entry struct {
	key     string
	keyNode ast.Node
	value   ast.Node
}

// entries lists a mapping's keys in order, applying YAML merge keys ("<<")
// with the usual precedence: the mapping's own keys win over merged ones, and
// earlier merge sources win over later ones. ok is false, with no error
// recorded, if n is not a mapping.
func (d *decoder) entries(n ast.Node, path string, depth int) ([]entry, bool) {
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		return nil, false
	}
	var own, merged []entry
	for _, mv := range values {
		if mv == nil || mv.Key == nil {
			continue
		}
		if _, isMerge := mv.Key.(*ast.MergeKeyNode); isMerge {
			merged = append(merged, d.mergeSources(mv.Value, path, depth)...)
			continue
		}
		key, ok := d.keyString(mv.Key, path)
		if !ok {
			continue
		}
		own = append(own, entry{key: key, keyNode: mv.Key, value: mv.Value})
	}
	if len(merged) == 0 {
		return own, true
	}
	seen := make(map[string]bool, len(own)+len(merged))
	out := make([]entry, 0, len(own)+len(merged))
	for _, e := range own {
		seen[e.key] = true
		out = append(out, e)
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			out = append(out, e)
		}
	}
	return out, true
}

// mergeSources returns the entries a merge key brings in: one mapping or a
// list of mappings.
func (d *decoder) mergeSources(n ast.Node, path string, depth int) []entry {
	if depth > maxDepth {
		d.errorf(n, path, "nested more than %d levels deep", maxDepth)
		return nil
	}
	n, _, ok := d.resolve(n, path)
	if !ok {
		return nil
	}
	if seq, isSeq := n.(*ast.SequenceNode); isSeq {
		var out []entry
		for _, item := range seq.Values {
			item, _, ok := d.resolve(item, path)
			if !ok {
				continue
			}
			es, ok := d.entries(item, path, depth+1)
			if !ok {
				d.errorf(item, path, "a merge key (<<) wants a mapping or a list of mappings")
				continue
			}
			out = append(out, es...)
		}
		return out
	}
	es, ok := d.entries(n, path, depth+1)
	if !ok {
		d.errorf(n, path, "a merge key (<<) wants a mapping or a list of mappings")
	}
	return es
}

// keyString reads a mapping key, which must be a scalar. Keys are not
// interpolated.
func (d *decoder) keyString(k ast.Node, path string) (string, bool) {
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		k = mk.Value
	}
	k, _, ok := d.resolve(k, path)
	if !ok {
		return "", false
	}
	switch v := k.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.NullNode:
		return "", true
	case *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, true
		}
		return "", true
	}
	d.errorf(k, path, "a key must be a single value, not %s", kindOf(k))
	return "", false
}

// field is one yaml-tagged field of a struct.
type field struct {
	index []int
	name  string
}

type structInfo struct {
	byName map[string]field
	names  []string
}

var structInfos sync.Map // reflect.Type → *structInfo

func infoOf(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: make(map[string]field)}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		info.byName[name] = field{index: f.Index, name: name}
		info.names = append(info.names, name)
	}
	v, _ := structInfos.LoadOrStore(t, info)
	return v.(*structInfo)
}

func (d *decoder) decodeStruct(v reflect.Value, n ast.Node, path string, depth int) {
	if isNull(n) {
		return
	}
	es, ok := d.entries(n, path, depth)
	if !ok {
		d.errorf(n, path, "want a mapping of keys, got %s", describeNode(n))
		return
	}
	info := infoOf(v.Type())
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		p := joinKey(path, e.key)
		f, known := info.byName[e.key]
		if !known {
			msg := "unknown key " + quoteShort(e.key)
			if s := suggest(e.key, info.names); s != "" {
				msg += " (did you mean " + s + "?)"
			} else if path == "" {
				msg += " at the top level"
			}
			d.errorf(e.keyNode, p, "%s", msg)
			continue
		}
		if seen[e.key] {
			d.errorf(e.keyNode, p, "duplicate key %s", quoteShort(e.key))
			continue
		}
		seen[e.key] = true
		d.recordPos(p, e.keyNode)
		d.decode(v.FieldByIndex(f.index), e.value, p, depth+1)
	}
}

func (d *decoder) decodeSlice(v reflect.Value, n ast.Node, path string, depth int) {
	if isNull(n) {
		v.SetZero()
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(n, path, "want a list, got %s", describeNode(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		p := joinIndex(path, i)
		d.recordPos(p, item)
		d.decode(s.Index(i), item, p, depth+1)
	}
	v.Set(s)
}

func (d *decoder) decodeMap(v reflect.Value, n ast.Node, path string, depth int) {
	if isNull(n) {
		v.SetZero()
		return
	}
	es, ok := d.entries(n, path, depth)
	if !ok {
		d.errorf(n, path, "want a mapping, got %s", describeNode(n))
		return
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(es))
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		p := joinKey(path, e.key)
		if seen[e.key] {
			d.errorf(e.keyNode, p, "duplicate key %s", quoteShort(e.key))
			continue
		}
		seen[e.key] = true
		d.recordPos(p, e.keyNode)
		ev := reflect.New(t.Elem()).Elem()
		d.decode(ev, e.value, p, depth+1)
		m.SetMapIndex(reflect.ValueOf(e.key).Convert(t.Key()), ev)
	}
	v.Set(m)
}

// generic decodes a value of unknown shape (detector options) into nil,
// bool, int, float64, string, []any or map[string]any. Plain scalars are
// typed by the YAML 1.2 core schema, also after interpolation, so
// "max_bytes: ${MAX:-1024}" yields an int.
func (d *decoder) generic(n ast.Node, tag, path string, depth int) (any, bool) {
	switch v := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		es, _ := d.entries(v, path, depth)
		m := make(map[string]any, len(es))
		for _, e := range es {
			p := joinKey(path, e.key)
			if _, dup := m[e.key]; dup {
				d.errorf(e.keyNode, p, "duplicate key %s", quoteShort(e.key))
				continue
			}
			var x any
			rv := reflect.ValueOf(&x).Elem()
			d.decode(rv, e.value, p, depth+1)
			m[e.key] = x
		}
		return m, true
	case *ast.SequenceNode:
		out := make([]any, len(v.Values))
		for i, item := range v.Values {
			p := joinIndex(path, i)
			rv := reflect.ValueOf(&out[i]).Elem()
			d.decode(rv, item, p, depth+1)
		}
		return out, true
	}
	s, ok := d.scalarOf(n, tag, path)
	if !ok {
		return nil, false
	}
	if s.quoted {
		return s.text, true
	}
	return inferPlain(s.text), true
}

func (d *decoder) recordPos(path string, n ast.Node) {
	if _, done := d.pos[path]; done {
		return
	}
	if line, col := nodePos(n); line > 0 {
		d.pos[path] = position{line, col}
	}
}

// describeNode names a node's value for "want X, got Y" messages.
func describeNode(n ast.Node) string {
	switch v := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		return kindOf(n)
	case *ast.StringNode:
		return "the string " + quoteShort(v.Value)
	case *ast.LiteralNode:
		return "a block of text"
	case ast.ScalarNode:
		return quoteShort(v.GetToken().Value)
	}
	return kindOf(n)
}

// nodePos is the 1-based line and column of a node, or 0, 0.
func nodePos(n ast.Node) (int, int) {
	if n == nil {
		return 0, 0
	}
	switch v := n.(type) {
	case *ast.DocumentNode:
		if v.Body == nil {
			return 0, 0
		}
		return nodePos(v.Body)
	case *ast.MappingNode:
		if len(v.Values) > 0 && v.Values[0] != nil && v.Values[0].Key != nil {
			return nodePos(v.Values[0].Key)
		}
		return tokenPos(v.Start)
	case *ast.MappingValueNode:
		if v.Key != nil {
			return nodePos(v.Key)
		}
		return tokenPos(v.Start)
	case *ast.MappingKeyNode:
		return tokenPos(v.Start)
	case *ast.SequenceNode:
		return tokenPos(v.Start)
	case *ast.AnchorNode:
		return tokenPos(v.Start)
	case *ast.AliasNode:
		return tokenPos(v.Start)
	case *ast.TagNode:
		return tokenPos(v.Start)
	}
	return tokenPos(n.GetToken())
}

func tokenPos(t *token.Token) (int, int) {
	if t == nil || t.Position == nil {
		return 0, 0
	}
	return t.Position.Line, t.Position.Column
}

func tokenOffset(t *token.Token) int {
	if t == nil || t.Position == nil {
		return 0
	}
	return t.Position.Offset
}
