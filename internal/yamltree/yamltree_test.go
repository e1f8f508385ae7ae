package yamltree

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	doc := "name: env\nchannels: [conda-forge, defaults]\ndependencies:\n  - numpy=1.26\n  - pip:\n      - torch==2.3.1\nanchor: &a {k: v}\nalias: *a\n"
	n, err := Parse([]byte(doc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Get("name").Str(); got != "env" {
		t.Errorf("name = %q", got)
	}
	if got := n.Get("channels").Strs(); len(got) != 2 || got[1] != "defaults" {
		t.Errorf("channels = %q", got)
	}
	deps := n.Get("dependencies").Elems()
	if len(deps) != 2 || deps[0].Line != 4 || deps[1].Get("pip").Elems()[0].Str() != "torch==2.3.1" {
		t.Errorf("dependencies = %+v", deps)
	}
	if i := 2; n.Keys[i] != "dependencies" || n.KeyLines[i] != 3 {
		t.Errorf("key %d = %q at line %d", i, n.Keys[i], n.KeyLines[i])
	}
	if a := n.Get("alias"); a == nil || a.IsMap || a.Str() != "" {
		t.Errorf("an alias is not expanded: %+v", a)
	}
	if n.Get("missing").Get("deeper").Str() != "" || n.Get("name").Elems() != nil {
		t.Error("lookups through missing or scalar nodes are not empty")
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := Parse([]byte(deep), Limits{MaxDepth: 10}); err == nil || !strings.Contains(err.Error(), "deeper than 10") {
		t.Errorf("deep: %v", err)
	}
	wide := "[" + strings.Repeat("1, ", 200) + "1]"
	if _, err := Parse([]byte(wide), Limits{MaxNodes: 50}); err == nil || !strings.Contains(err.Error(), "more than 50 nodes") {
		t.Errorf("wide: %v", err)
	}
	n, err := Parse([]byte("k: "+strings.Repeat("x", 100)), Limits{MaxScalar: 8})
	if err != nil || n.Get("k").Str() != "xxxxxxxx" {
		t.Errorf("clipped scalar: %v %q", err, n.Get("k").Str())
	}
	if _, err := Parse([]byte("# only a comment\n"), Limits{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := Parse([]byte("a: [1, 2\n"), Limits{}); err == nil {
		t.Error("malformed YAML: no error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("a: 1\nb: [x, {c: d}]\n"))
	f.Add([]byte("- &x a\n- *x\n- !!str 3\n"))
	f.Add([]byte("? [a, b]\n: c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data, Limits{MaxDepth: 16, MaxNodes: 4096, MaxScalar: 64})
		if err != nil {
			return
		}
		count := 0
		var walk func(*Node, int)
		walk = func(n *Node, d int) {
			count++
			if d > 17 {
				t.Fatalf("depth %d beyond the limit", d)
			}
			if len(n.Scalar) > 64 {
				t.Fatalf("scalar of %d bytes beyond the limit", len(n.Scalar))
			}
			if n.IsMap && (len(n.Keys) != len(n.Vals) || len(n.Keys) != len(n.KeyLines)) {
				t.Fatal("mapping with unequal keys and values")
			}
			for _, v := range n.Vals {
				walk(v, d+1)
			}
		}
		walk(n, 0)
		if count > 4096 {
			t.Fatalf("%d nodes beyond the limit", count)
		}
	})
}
