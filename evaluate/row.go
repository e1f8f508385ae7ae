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

// Error names the line.
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the problem with the line.
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
	// of the same names ("" when absent or null).
	Label, Family, Lang, Source, Role string
	// line is the row's own copy of its JSON line.
	line []byte
}

// ParseRow decodes one JSONL line. It fails, naming the field, on invalid
// UTF-8, an empty line, malformed JSON, a line that is not an object, a
// duplicated key, a missing or non-string "text", or a non-string label,
// family, lang, source or role. Span lists are decoded on demand by
// Row.Spans, other fields by Row.Field and Row.Fields. The row keeps its
// own copy of line.
func ParseRow(line []byte) (Row, error) {
	var r Row
	if !utf8.Valid(line) {
		return r, errors.New("invalid UTF-8")
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return r, errors.New("empty line")
	}
	if !json.Valid(line) {
		// Let encoding/json say what is wrong.
		var v any
		err := json.Unmarshal(line, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return r, fmt.Errorf("malformed JSON: %w", err)
	}
	r.line = bytes.Clone(line)
	hasText := false
	var seenBuf [16][]byte
	seen := seenBuf[:0]
	err := scanObject(r.line, func(key, raw []byte) error {
		for _, k := range seen {
			if bytes.Equal(k, key) {
				return fmt.Errorf("duplicate key %q", key)
			}
		}
		seen = append(seen, key)
		var dst *string
		switch string(key) {
		case "text":
			hasText = true
			dst = &r.Text
		case "label":
			dst = &r.Label
		case "family":
			dst = &r.Family
		case "lang":
			dst = &r.Lang
		case "source":
			dst = &r.Source
		case "role":
			dst = &r.Role
		default:
			return nil
		}
		if dst != &r.Text && string(raw) == "null" {
			return nil
		}
		v, err := decodeString(raw)
		if err != nil {
			return fmt.Errorf("field %q: %w", key, err)
		}
		*dst = v
		return nil
	})
	if err != nil {
		return Row{}, err
	}
	if !hasText {
		return Row{}, errors.New(`missing "text" field`)
	}
	return r, nil
}

// Field returns the raw JSON value of the row's top-level field name.
func (r Row) Field(name string) (json.RawMessage, bool) {
	var out json.RawMessage
	found := false
	_ = scanObject(r.line, func(key, raw []byte) error {
		if string(key) == name {
			out, found = raw, true
			return errStop
		}
		return nil
	})
	return out, found
}

// Fields returns every top-level field of the row as raw JSON, for a
// detect.RowDetector. The values share the row's memory: do not modify
// them.
func (r Row) Fields() map[string]json.RawMessage {
	m := make(map[string]json.RawMessage)
	_ = scanObject(r.line, func(key, raw []byte) error {
		m[string(key)] = raw
		return nil
	})
	return m
}

var errStop = errors.New("stop")

// scanObject calls fn with each member of the JSON object b (which must be
// valid JSON: json.Valid) in order, with its decoded key (a slice of b
// unless it has escapes) and raw value. It
// stops at the first error fn returns, returning it unless it is errStop.
func scanObject(b []byte, fn func(key, raw []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("malformed JSON: not an object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		ke, ok := skipString(b, i)
		if !ok {
			return errors.New("malformed JSON: bad key")
		}
		key := b[i+1 : ke-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			k, err := decodeString(b[i:ke])
			if err != nil {
				return fmt.Errorf("malformed JSON: %w", err)
			}
			key = []byte(k)
		}
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return errors.New("malformed JSON: no colon after a key")
		}
		i = skipSpace(b, i+1)
		ve, ok := skipValue(b, i)
		if !ok {
			return errors.New("malformed JSON: bad value")
		}
		if err := fn(key, b[i:ve]); err != nil {
			if err == errStop {
				return nil
			}
			return err
		}
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		return nil
	}
	return errors.New("malformed JSON: unterminated object")
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset just past the JSON string starting at i.
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipValue returns the offset just past the JSON value starting at i.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, j > i
}

// decodeString decodes a raw JSON string value; the common case without
// escapes is a plain copy.
func decodeString(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errors.New("not a string")
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
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
	raw, ok := r.Field(field)
	if !ok || string(raw) == "null" {
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
