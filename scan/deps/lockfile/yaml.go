package lockfile

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml/ast"
	yamlparser "github.com/goccy/go-yaml/parser"
)

// ynode is a YAML value with the line it starts on. Only what lockfiles
// use is kept: mappings (in document order), sequences and scalars.
// Aliases are not expanded, so a document cannot grow by reference.
type ynode struct {
	line   int
	scalar string
	isMap  bool
	isSeq  bool
	keys   []string
	vals   []*ynode // values of keys, or elements of a sequence
	keyLn  []int    // lines of keys
}

// get returns the value of key in a mapping, or nil.
func (n *ynode) get(key string) *ynode {
	if n == nil || !n.isMap {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// str returns the scalar value of n, or "".
func (n *ynode) str() string {
	if n == nil {
		return ""
	}
	return n.scalar
}

// parseYAML parses the first document of data into a ynode tree.
func parseYAML(data []byte) (root *ynode, err error) {
	defer func() {
		// The YAML parser is third-party code fed hostile input: a panic
		// in it becomes an error.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	f, err := yamlparser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	if len(f.Docs) == 0 || f.Docs[0] == nil || f.Docs[0].Body == nil {
		return nil, errors.New("empty YAML document")
	}
	return convertYAML(f.Docs[0].Body, 0)
}

func yline(n ast.Node) int {
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}

func convertYAML(n ast.Node, depth int) (*ynode, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("YAML nested deeper than %d", maxNesting)
	}
	switch t := n.(type) {
	case *ast.MappingNode:
		out := &ynode{line: yline(n), isMap: true}
		for _, mv := range t.Values {
			if err := addPair(out, mv, depth); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *ast.MappingValueNode:
		out := &ynode{line: yline(n), isMap: true}
		return out, addPair(out, t, depth)
	case *ast.SequenceNode:
		out := &ynode{line: yline(n), isSeq: true}
		for _, v := range t.Values {
			c, err := convertYAML(v, depth+1)
			if err != nil {
				return nil, err
			}
			out.vals = append(out.vals, c)
		}
		return out, nil
	case *ast.TagNode:
		if t.Value == nil {
			return &ynode{line: yline(n)}, nil
		}
		return convertYAML(t.Value, depth+1)
	case *ast.AnchorNode:
		if t.Value == nil {
			return &ynode{line: yline(n)}, nil
		}
		return convertYAML(t.Value, depth+1)
	case *ast.AliasNode, *ast.NullNode, nil:
		return &ynode{line: yline(n)}, nil
	case ast.ScalarNode:
		return &ynode{line: yline(n), scalar: fmt.Sprint(t.GetValue())}, nil
	}
	return &ynode{line: yline(n)}, nil
}

func addPair(out *ynode, mv *ast.MappingValueNode, depth int) error {
	if mv == nil || mv.Key == nil {
		return nil
	}
	var key string
	if s, ok := mv.Key.(ast.ScalarNode); ok {
		key = fmt.Sprint(s.GetValue())
	} else {
		key = mv.Key.String()
	}
	var v *ynode
	if mv.Value != nil {
		c, err := convertYAML(mv.Value, depth+1)
		if err != nil {
			return err
		}
		v = c
	} else {
		v = &ynode{}
	}
	out.keys = append(out.keys, key)
	out.vals = append(out.vals, v)
	out.keyLn = append(out.keyLn, yline(mv.Key))
	return nil
}
