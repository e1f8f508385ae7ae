package openai

import (
	"fmt"
	"sort"
)

// Edit replaces the string at Path with Value.
type Edit struct {
	Path  []PathElem
	Value string
}

// Rewrite applies edits to a JSON document by splicing each new string
// over the old value's bytes, so everything else — key order, number
// formatting, unknown fields — stays exactly as it was.
func Rewrite(doc []byte, edits []Edit) ([]byte, error) {
	type span struct {
		start, end int
		value      string
	}
	spans := make([]span, 0, len(edits))
	for _, e := range edits {
		start, end, ok := Locate(doc, e.Path)
		if !ok {
			return nil, fmt.Errorf("rewrite: %s not found", field(e.Path))
		}
		spans = append(spans, span{start, end, e.Value})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	out := make([]byte, 0, len(doc)+64)
	prev := 0
	for _, sp := range spans {
		if sp.start < prev {
			return nil, fmt.Errorf("rewrite: overlapping edits")
		}
		out = append(out, doc[prev:sp.start]...)
		out = AppendString(out, sp.value)
		prev = sp.end
	}
	return append(out, doc[prev:]...), nil
}
