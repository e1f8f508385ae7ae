package evaluate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// DefaultMaxLine is the longest JSONL line, in bytes, that readers accept
// unless told otherwise.
const DefaultMaxLine = 4 << 20

// ErrLineTooLong is wrapped by the error LineReader.Next returns for a line
// longer than its limit.
var ErrLineTooLong = errors.New("line too long")

// LineError is a problem with one input line; the reader can go on with the
// next line.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// LineReader reads JSONL input line by line in bounded memory. Every line
// counts, blank ones included (ParseRow rejects them), so that outputs can
// correspond one to one with input lines; a final line end does not start
// another line.
type LineReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	line int
}

// NewLineReader returns a reader of r's lines of at most max bytes (without
// the line end); max <= 0 means DefaultMaxLine.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line without its line end ("\n" or "\r\n"), and its
// 1-based line number. The slice is valid until the next call. At the end of
// the input it returns io.EOF. A line longer than the limit gives a
// *LineError wrapping ErrLineTooLong, after skipping the rest of the line so
// that reading can go on; any other error is the underlying reader's.
func (l *LineReader) Next() ([]byte, int, error) {
	l.buf = l.buf[:0]
	tooLong := false
	var err error
	for {
		var chunk []byte
		chunk, err = l.r.ReadSlice('\n')
		if !tooLong {
			if len(l.buf)+len(chunk) > l.max+2 { // +2: room for "\r\n"
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	if err != nil && err != io.EOF {
		return nil, l.line, err
	}
	if err == io.EOF && len(l.buf) == 0 && !tooLong {
		return nil, l.line, io.EOF
	}
	l.line++
	line := bytes.TrimSuffix(l.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if tooLong || len(line) > l.max {
		return nil, l.line, &LineError{Line: l.line, Err: fmt.Errorf("%w (limit %d bytes)", ErrLineTooLong, l.max)}
	}
	return line, l.line, nil
}

// Row is one line of a labelled JSONL dataset.
type Row struct {
	// Text is the text to inspect (the "text" field, required).
	Text string
	// Label, Family, Lang, Source and Role are the optional string fields
	// of the same names ("" when absent).
	Label, Family, Lang, Source, Role string
	// Fields holds every field of the row as raw JSON, for a
	// detect.RowDetector.
	Fields map[string]json.RawMessage
}

// ParseRow decodes one JSONL line. It fails, naming the field, on invalid
// UTF-8, an empty line, malformed JSON, a line that is not an object, a missing or
// non-string "text", or a non-string label, family, lang, source or role.
// Span lists are decoded on demand by Row.Spans.
func ParseRow(line []byte) (Row, error) {
	var r Row
	if !utf8.Valid(line) {
		return r, errors.New("invalid UTF-8")
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return r, errors.New("empty line")
	}
	if err := json.Unmarshal(line, &r.Fields); err != nil {
		return r, fmt.Errorf("malformed JSON: %w", err)
	}
	if r.Fields == nil {
		return r, errors.New("malformed JSON: not an object")
	}
	raw, ok := r.Fields["text"]
	if !ok {
		return r, errors.New(`missing "text" field`)
	}
	if err := stringField(raw, &r.Text); err != nil {
		return r, fmt.Errorf(`field "text": %w`, err)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"label", &r.Label}, {"family", &r.Family}, {"lang", &r.Lang}, {"source", &r.Source}, {"role", &r.Role}} {
		raw, ok := r.Fields[f.name]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := stringField(raw, f.dst); err != nil {
			return r, fmt.Errorf("field %q: %w", f.name, err)
		}
	}
	return r, nil
}

func stringField(raw json.RawMessage, dst *string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(raw, dst)
}

// Span is a typed half-open byte span of a row's text.
type Span struct {
	Type  string
	Start int
	End   int
}

// goldSpan is a span as datasets store it: Unicode code point offsets.
type goldSpan struct {
	Type  string `json:"type"`
	Start *int   `json:"start"`
	End   *int   `json:"end"`
}

// Spans decodes the row's span list named field ("entities" or "secrets")
// and converts its code point offsets into byte offsets of Text. It reports
// whether the field is present; a present but invalid list (not a list of
// objects with a string type and 0 <= start <= end <= the text's length in
// code points) is an error.
func (r Row) Spans(field string) ([]Span, bool, error) {
	raw, ok := r.Fields[field]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, false, nil
	}
	var gold []goldSpan
	if err := json.Unmarshal(raw, &gold); err != nil {
		return nil, true, fmt.Errorf("field %q: %w", field, err)
	}
	if len(gold) == 0 {
		return nil, true, nil
	}
	n := utf8.RuneCountInString(r.Text)
	var offs []int // code point -> byte offset, only for non-ASCII text
	if n != len(r.Text) {
		offs = make([]int, 0, n+1)
		for i := range r.Text {
			offs = append(offs, i)
		}
		offs = append(offs, len(r.Text))
	}
	out := make([]Span, 0, len(gold))
	for i, g := range gold {
		if g.Start == nil || g.End == nil {
			return nil, true, fmt.Errorf("field %q: element %d: missing start or end", field, i)
		}
		s, e := *g.Start, *g.End
		if s < 0 || e < s || e > n {
			return nil, true, fmt.Errorf("field %q: element %d: span [%d, %d) outside the text's %d code points", field, i, s, e, n)
		}
		if offs != nil {
			s, e = offs[s], offs[e]
		}
		out = append(out, Span{Type: g.Type, Start: s, End: e})
	}
	return out, true, nil
}

// CodePointsToBytes converts a code point offset of text into a byte
// offset; offsets past the end give len(text), negative ones 0.
func CodePointsToBytes(text string, cp int) int {
	if cp <= 0 {
		return 0
	}
	n := 0
	for i := range text {
		if n == cp {
			return i
		}
		n++
	}
	return len(text)
}
