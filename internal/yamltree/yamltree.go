// Package yamltree parses one YAML document into a small tree of mappings,
// sequences and scalars with their line numbers, within limits on depth,
// node count and scalar length, for the readers of untrusted YAML files
// (lockfiles, dataset cards). Aliases are not expanded, so a document
// cannot grow by reference, and a panic of the underlying parser on
// hostile input comes back as an error.
package yamltree

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml/ast"
	yamlparser "github.com/goccy/go-yaml/parser"
)

// Limits bound what Parse builds; zero fields take the defaults.
type Limits struct {
	// MaxDepth bounds the nesting (default 64).
	MaxDepth int
	// MaxNodes bounds the nodes of the tree (default 1<<20).
	MaxNodes int
	// MaxScalar clips scalars and keys to this many bytes (default: no clipping).
	MaxScalar int
}

// ErrEmpty is returned by Parse for a document with no content.
var ErrEmpty = errors.New("empty YAML document")

// Node is a YAML value: a mapping (keys in document order), a sequence, or
// a scalar (null and aliases read as the empty scalar).
type Node struct {
	// Line is the 1-based line the value starts at, 0 when unknown.
	Line   int
	Scalar string
	IsMap  bool
	IsSeq  bool
	// Keys of a mapping, with the lines they are on.
	Keys     []string
	KeyLines []int
	// Vals are the values of Keys, or the elements of a sequence.
	Vals []*Node
}

// Get returns the value of key in a mapping, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || !n.IsMap {
		return nil
	}
	for i, k := range n.Keys {
		if k == key {
			return n.Vals[i]
		}
	}
	return nil
}

// Str returns the value of a scalar, or "".
func (n *Node) Str() string {
	if n == nil {
		return ""
	}
	return n.Scalar
}

// Strs returns a scalar as one string, or the non-empty scalars of a
// sequence.
func (n *Node) Strs() []string {
	switch {
	case n == nil || n.IsMap:
		return nil
	case n.IsSeq:
		var out []string
		for _, v := range n.Vals {
			if s := v.Str(); s != "" {
				out = append(out, s)
			}
		}
		return out
	case n.Scalar != "":
		return []string{n.Scalar}
	}
	return nil
}

// Elems returns the elements of a sequence, or nil.
func (n *Node) Elems() []*Node {
	if n == nil || !n.IsSeq {
		return nil
	}
	return n.Vals
}

// Parse parses the first document of data.
func Parse(data []byte, lim Limits) (root *Node, err error) {
	defer func() {
		// The YAML parser is third-party code fed hostile input: a panic
		// in it becomes an error.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = 64
	}
	if lim.MaxNodes <= 0 {
		lim.MaxNodes = 1 << 20
	}
	f, err := yamlparser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	if len(f.Docs) == 0 || f.Docs[0] == nil || f.Docs[0].Body == nil {
		return nil, ErrEmpty
	}
	c := converter{lim: lim, budget: lim.MaxNodes}
	return c.node(f.Docs[0].Body, 0)
}

type converter struct {
	lim    Limits
	budget int
}

func (c *converter) clip(s string) string {
	if c.lim.MaxScalar > 0 && len(s) > c.lim.MaxScalar {
		return s[:c.lim.MaxScalar]
	}
	return s
}

func line(n ast.Node) int {
	if n == nil {
		return 0
	}
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}

func (c *converter) node(n ast.Node, depth int) (*Node, error) {
	if depth > c.lim.MaxDepth {
		return nil, fmt.Errorf("YAML nested deeper than %d", c.lim.MaxDepth)
	}
	if c.budget--; c.budget < 0 {
		return nil, fmt.Errorf("YAML has more than %d nodes", c.lim.MaxNodes)
	}
	switch t := n.(type) {
	case *ast.MappingNode:
		out := &Node{Line: line(n), IsMap: true}
		for _, mv := range t.Values {
			if err := c.pair(out, mv, depth); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *ast.MappingValueNode:
		out := &Node{Line: line(n), IsMap: true}
		return out, c.pair(out, t, depth)
	case *ast.SequenceNode:
		out := &Node{Line: line(n), IsSeq: true}
		for _, v := range t.Values {
			e, err := c.node(v, depth+1)
			if err != nil {
				return nil, err
			}
			out.Vals = append(out.Vals, e)
		}
		return out, nil
	case *ast.TagNode:
		if t.Value == nil {
			return &Node{Line: line(n)}, nil
		}
		return c.node(t.Value, depth+1)
	case *ast.AnchorNode:
		if t.Value == nil {
			return &Node{Line: line(n)}, nil
		}
		return c.node(t.Value, depth+1)
	case *ast.AliasNode, *ast.NullNode, nil:
		return &Node{Line: line(n)}, nil
	case ast.ScalarNode:
		return &Node{Line: line(n), Scalar: c.clip(fmt.Sprint(t.GetValue()))}, nil
	}
	return &Node{Line: line(n)}, nil
}

func (c *converter) pair(out *Node, mv *ast.MappingValueNode, depth int) error {
	if mv == nil || mv.Key == nil {
		return nil
	}
	var key string
	if s, ok := mv.Key.(ast.ScalarNode); ok {
		key = fmt.Sprint(s.GetValue())
	} else {
		key = mv.Key.String()
	}
	v := &Node{}
	if mv.Value != nil {
		e, err := c.node(mv.Value, depth+1)
		if err != nil {
			return err
		}
		v = e
	}
	out.Keys = append(out.Keys, c.clip(key))
	out.Vals = append(out.Vals, v)
	out.KeyLines = append(out.KeyLines, line(mv.Key))
	return nil
}
