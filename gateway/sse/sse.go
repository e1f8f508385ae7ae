// Package sse reads and writes server-sent events (the text/event-stream
// format of the WHATWG HTML standard) as OpenAI-compatible APIs stream them.
//
// The Reader is strict about size — an event larger than the configured
// maximum is an error, never an unbounded allocation — and lenient about
// line endings (LF, CRLF and lone CR all end a line), as the standard asks.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Event is one dispatched event.
type Event struct {
	// Type is the "event:" field; empty means the default "message".
	Type string
	// Data is the "data:" lines joined by "\n". It is only valid until the
	// next call to Reader.Next.
	Data []byte
	// ID is the last "id:" field seen in the event, if any.
	ID string
	// HasID reports whether the event carried an "id:" field.
	HasID bool
	// Retry is the "retry:" field in milliseconds, or -1.
	Retry int
}

// ErrEventTooLarge is returned when an event exceeds the Reader's limit.
var ErrEventTooLarge = errors.New("sse: event exceeds size limit")

// Reader parses an event stream.
type Reader struct {
	br      *bufio.Reader
	max     int
	data    []byte
	line    []byte
	typ     []byte
	id      string
	hasID   bool
	retry   int
	pendCR  bool // the previous line ended with a lone CR; skip a following LF
	started bool
}

// NewReader returns a Reader that refuses events larger than maxEvent bytes
// (data plus field names); maxEvent <= 0 means 1 MiB.
func NewReader(r io.Reader, maxEvent int) *Reader {
	if maxEvent <= 0 {
		maxEvent = 1 << 20
	}
	return &Reader{br: bufio.NewReaderSize(r, 16<<10), max: maxEvent, retry: -1}
}

// Next returns the next event. At the end of the stream it returns io.EOF;
// an event that was not terminated by a blank line before the end is
// discarded, as the standard says, and reported as io.ErrUnexpectedEOF so
// that a proxy can tell a cut stream from a finished one.
func (r *Reader) Next() (Event, error) {
	r.data = r.data[:0]
	r.typ = r.typ[:0]
	r.hasID = false
	r.id = ""
	r.retry = -1
	size := 0
	seen := false // any field line in this event
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && (seen || len(line) > 0) {
				return Event{}, io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		if !r.started {
			r.started = true
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF")) // a leading BOM is ignored
		}
		if len(line) == 0 {
			if !seen {
				continue
			}
			ev := Event{Type: string(r.typ), ID: r.id, HasID: r.hasID, Retry: r.retry}
			if len(r.data) > 0 {
				// Remove the newline added after the last data line.
				ev.Data = r.data[:len(r.data)-1]
			}
			if len(r.data) == 0 {
				// No data line (only comments or other fields): the standard
				// dispatches nothing and resets the event type.
				r.typ = r.typ[:0]
				seen = false
				size = 0
				continue
			}
			return ev, nil
		}
		seen = true
		size += len(line) + 1
		if size > r.max {
			return Event{}, fmt.Errorf("%w (%d bytes)", ErrEventTooLarge, r.max)
		}
		if line[0] == ':' {
			continue // comment
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			r.data = append(r.data, value...)
			r.data = append(r.data, '\n')
		case "event":
			r.typ = append(r.typ[:0], value...)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.id = string(value)
				r.hasID = true
			}
		case "retry":
			if n, err := strconv.Atoi(string(value)); err == nil && n >= 0 {
				r.retry = n
			}
		}
	}
}

// Buffered reports how many bytes of the stream have been read from the
// underlying reader but not yet parsed. A proxy flushes its output when it
// is zero: nothing more is available without waiting.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// readLine returns the next line without its terminator. The slice is
// valid until the next call.
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			if err == io.EOF && len(r.line) > 0 {
				return r.line, io.EOF
			}
			return nil, err
		}
		if r.pendCR {
			r.pendCR = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\n':
			return r.line, nil
		case '\r':
			r.pendCR = true
			return r.line, nil
		}
		r.line = append(r.line, b)
		if len(r.line) > r.max {
			return nil, fmt.Errorf("%w (%d bytes)", ErrEventTooLarge, r.max)
		}
		// Fast path: copy the rest of the line straight from the buffer.
		if buf := r.peekBuffered(); len(buf) > 0 {
			i := bytes.IndexAny(buf, "\r\n")
			if i < 0 {
				i = len(buf)
			}
			if len(r.line)+i > r.max {
				return nil, fmt.Errorf("%w (%d bytes)", ErrEventTooLarge, r.max)
			}
			r.line = append(r.line, buf[:i]...)
			_, _ = r.br.Discard(i)
		}
	}
}

func (r *Reader) peekBuffered() []byte {
	n := r.br.Buffered()
	if n == 0 {
		return nil
	}
	b, _ := r.br.Peek(n)
	return b
}

// Append appends the wire form of an event to dst: an optional "event:"
// line, one "data:" line per line of data, and the blank line that
// dispatches it.
func Append(dst []byte, typ string, data []byte) []byte {
	if typ != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, typ...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			dst = append(dst, "data: "...)
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, "data: "...)
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n')
}
