package iac

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits on YAML input.
const (
	maxYAMLDepth = 64
	maxYAMLNodes = 1 << 20
)

type nodeKind int

const (
	scalarNode nodeKind = iota
	mapNode
	seqNode
	nullNode
)

// node is a YAML value reduced to what the rules need, with the line and
// byte offset it starts at. Aliases are not expanded (they read as null).
type node struct {
	kind   nodeKind
	value  string // scalars
	quoted bool   // a quoted string scalar
	keys   []*node
	vals   []*node // map values (parallel to keys) or sequence items
	line   int
	offset int
}

// get returns the value of key k of a mapping, or nil.
func (n *node) get(k string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for i, key := range n.keys {
		if key.value == k {
			return n.vals[i]
		}
	}
	return nil
}

// path follows keys through nested mappings.
func (n *node) path(keys ...string) *node {
	for _, k := range keys {
		n = n.get(k)
	}
	return n
}

// str returns a scalar's value, or "".
func (n *node) str() string {
	if n == nil || n.kind != scalarNode {
		return ""
	}
	return n.value
}

// isTrue reports whether n is the boolean true (or YAML 1.1's yes/on,
// which the YAML library Kubernetes uses also reads as true).
func (n *node) isTrue() bool {
	if n == nil || n.kind != scalarNode || n.quoted {
		return false
	}
	return strings.EqualFold(n.value, "true") || strings.EqualFold(n.value, "yes") || strings.EqualFold(n.value, "on")
}

// isFalse reports whether n is the boolean false.
func (n *node) isFalse() bool {
	return n != nil && n.kind == scalarNode && !n.quoted && strings.EqualFold(n.value, "false")
}

// items returns a sequence's items (nil for anything else).
func (n *node) items() []*node {
	if n == nil || n.kind != seqNode {
		return nil
	}
	return n.vals
}

// parseYAML parses every document of data. The documents are split at
// "---" lines and parsed one by one: the parser drops the documents that
// follow an empty one, which Helm's rendered output is full of.
func parseYAML(data []byte) ([]*node, error) {
	c := converter{lineStart: lineStarts(data), size: len(data)}
	var docs []*node
	for _, chunk := range splitDocuments(data, c.lineStart) {
		f, err := parser.ParseBytes(chunk.data, 0)
		if err != nil {
			return nil, fmt.Errorf("parse yaml (document at line %d): %w", chunk.line+1, err)
		}
		c.lineBase = chunk.line
		for _, d := range f.Docs {
			if d == nil || d.Body == nil {
				continue
			}
			n, err := c.convert(d.Body, 0)
			if err != nil {
				return nil, fmt.Errorf("parse yaml (document at line %d): %w", chunk.line+1, err)
			}
			docs = append(docs, n)
		}
	}
	return docs, nil
}

// yamlChunk is one document's text and the 0-based line it starts on.
type yamlChunk struct {
	data []byte
	line int
}

// splitDocuments cuts data before each document marker: "---" at the
// start of a line, alone or followed by white space (and possibly content,
// which stays with its document).
func splitDocuments(data []byte, lineStart []int) []yamlChunk {
	var out []yamlChunk
	start, startLine := 0, 0
	for i, ls := range lineStart {
		rest := data[ls:]
		if !bytes.HasPrefix(rest, []byte("---")) {
			continue
		}
		if len(rest) > 3 && rest[3] != '\n' && rest[3] != '\r' && rest[3] != ' ' && rest[3] != '\t' {
			continue
		}
		if ls > start {
			out = append(out, yamlChunk{data[start:ls], startLine})
		}
		start, startLine = ls, i
	}
	if start < len(data) {
		out = append(out, yamlChunk{data[start:], startLine})
	}
	return out
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

type converter struct {
	lineStart []int
	lineBase  int // lines before the document being converted
	size      int
	count     int
}

func (c *converter) pos(n ast.Node) (line, offset int) {
	tok := n.GetToken()
	if tok == nil || tok.Position == nil {
		return 0, 0
	}
	line = tok.Position.Line + c.lineBase
	if line >= 1 && line <= len(c.lineStart) {
		offset = c.lineStart[line-1] + max(tok.Position.Column-1, 0)
	}
	// The parser places some tokens (an empty value at the end of the
	// input) past the last byte.
	offset = min(offset, c.size)
	return line, offset
}

func (c *converter) convert(n ast.Node, depth int) (*node, error) {
	if depth > maxYAMLDepth {
		return nil, errTooDeep
	}
	c.count++
	if c.count > maxYAMLNodes {
		return nil, fmt.Errorf("more than %d nodes", maxYAMLNodes)
	}
	if n == nil {
		return &node{kind: nullNode}, nil
	}
	line, off := c.pos(n)
	out := &node{line: line, offset: off}
	switch v := n.(type) {
	case *ast.AnchorNode:
		return c.convert(v.Value, depth+1)
	case *ast.TagNode:
		return c.convert(v.Value, depth+1)
	case *ast.MappingNode:
		out.kind = mapNode
		for _, mv := range v.Values {
			if err := c.addPair(out, mv, depth); err != nil {
				return nil, err
			}
		}
	case *ast.MappingValueNode:
		out.kind = mapNode
		if err := c.addPair(out, v, depth); err != nil {
			return nil, err
		}
	case *ast.SequenceNode:
		out.kind = seqNode
		for _, it := range v.Values {
			cn, err := c.convert(it, depth+1)
			if err != nil {
				return nil, err
			}
			out.vals = append(out.vals, cn)
		}
	case *ast.StringNode:
		out.value = v.Value
		out.quoted = v.Token != nil && (v.Token.Type == token.DoubleQuoteType || v.Token.Type == token.SingleQuoteType)
	case *ast.LiteralNode:
		if v.Value != nil {
			out.value = v.Value.Value
		}
	case *ast.NullNode, *ast.AliasNode, *ast.CommentGroupNode, *ast.CommentNode:
		out.kind = nullNode
	default:
		tok := n.GetToken()
		if tok != nil {
			out.value = tok.Value
		}
	}
	return out, nil
}

func (c *converter) addPair(m *node, mv *ast.MappingValueNode, depth int) error {
	if mv == nil {
		return nil
	}
	var k *node
	if mv.Key != nil {
		var err error
		if k, err = c.convert(mv.Key, depth+1); err != nil {
			return err
		}
	} else {
		k = &node{kind: nullNode}
	}
	v, err := c.convert(mv.Value, depth+1)
	if err != nil {
		return err
	}
	if v.line == 0 {
		v.line, v.offset = k.line, k.offset
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	return nil
}
