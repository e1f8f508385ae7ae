package finding

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Large reports are written as a stream: the document without its big
// array is marshalled with json.MarshalIndent, and the array's elements are
// then encoded one at a time into the place where the array belongs, with
// the indentation MarshalIndent would have used. The output is byte for byte
// what MarshalIndent of the whole document gives, without holding the
// document or its encoding in memory.

// openArray writes head (the document marshalled with two-space indentation
// and without the array) up to its last closing brackets, then the array's
// key, and returns an arrayWriter for its elements. closing is what ends
// head after the object that holds the array, e.g. "\n}" when that object
// is the document itself; depth is the nesting depth of that object.
func openArray(bw *bufio.Writer, head []byte, closing, key string, depth int) (*arrayWriter, error) {
	if !bytes.HasSuffix(head, []byte(closing)) {
		return nil, fmt.Errorf("internal error: document does not end with %q", closing)
	}
	bw.Write(head[:len(head)-len(closing)])
	outer := strings.Repeat("  ", depth)
	fmt.Fprintf(bw, ",\n%s  %q: [", outer, key)
	a := &arrayWriter{bw: bw, outer: outer, closing: closing}
	a.enc = json.NewEncoder(trimNewline{bw})
	a.enc.SetIndent(outer+"    ", "  ")
	return a, nil
}

type arrayWriter struct {
	bw      *bufio.Writer
	enc     *json.Encoder
	outer   string
	closing string
	n       int
}

// add writes one element; v should be a pointer, to spare a copy.
func (a *arrayWriter) add(v any) error {
	if a.n > 0 {
		a.bw.WriteByte(',')
	}
	a.bw.WriteString("\n")
	a.bw.WriteString(a.outer)
	a.bw.WriteString("    ")
	a.n++
	return a.enc.Encode(v)
}

// close ends the array and the rest of the document.
func (a *arrayWriter) close() {
	if a.n > 0 {
		a.bw.WriteString("\n")
		a.bw.WriteString(a.outer)
		a.bw.WriteString("  ")
	}
	a.bw.WriteString("]")
	a.bw.WriteString(a.closing)
	a.bw.WriteString("\n")
}

// trimNewline drops the newline json.Encoder writes after each value
// (Encoder writes a value in a single Write call).
type trimNewline struct{ w *bufio.Writer }

func (t trimNewline) Write(p []byte) (int, error) {
	q := p
	if len(q) > 0 && q[len(q)-1] == '\n' {
		q = q[:len(q)-1]
	}
	if _, err := t.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}
