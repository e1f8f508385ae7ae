package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type ev struct {
	typ, data string
}

func readAll(t testing.TB, r io.Reader, max int) ([]ev, error) {
	t.Helper()
	sr := NewReader(r, max)
	var out []ev
	for {
		e, err := sr.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, ev{e.Type, string(e.Data)})
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []ev
		err  error
	}{
		{"openai chat", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []ev{{"", `{"a":1}`}, {"", "[DONE]"}}, nil},
		{"crlf", "data: x\r\n\r\ndata: y\r\n\r\n", []ev{{"", "x"}, {"", "y"}}, nil},
		{"lone cr", "data: x\r\rdata: y\r\r", []ev{{"", "x"}, {"", "y"}}, nil},
		{"typed", "event: response.output_text.delta\ndata: {}\n\n", []ev{{"response.output_text.delta", "{}"}}, nil},
		{"multi data", "data: a\ndata: b\n\n", []ev{{"", "a\nb"}}, nil},
		{"no space", "data:x\n\n", []ev{{"", "x"}}, nil},
		{"two spaces keeps one", "data:  x\n\n", []ev{{"", " x"}}, nil},
		{"comments ignored", ": ping\n\n: keep-alive\ndata: z\n\n", []ev{{"", "z"}}, nil},
		{"empty data dispatches", "data:\n\n", []ev{{"", ""}}, nil},
		{"event without data not dispatched", "event: x\n\ndata: y\n\n", []ev{{"", "y"}}, nil},
		{"bom", "\xEF\xBB\xBFdata: x\n\n", []ev{{"", "x"}}, nil},
		{"unknown field", "foo: bar\ndata: x\n\n", []ev{{"", "x"}}, nil},
		{"leading blank lines", "\n\n\ndata: x\n\n", []ev{{"", "x"}}, nil},
		{"cut mid event", "data: x\n\ndata: {\"partial", []ev{{"", "x"}}, io.ErrUnexpectedEOF},
		{"cut before blank line", "data: x\n", nil, io.ErrUnexpectedEOF},
		{"empty", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tt.in)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				got, err := readAll(t, r, 0)
				if !errors.Is(err, tt.err) && !(err == nil && tt.err == nil) {
					t.Fatalf("oneByte=%v: err = %v, want %v", oneByte, err, tt.err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("oneByte=%v: got %q, want %q", oneByte, got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Fatalf("oneByte=%v: event %d = %q, want %q", oneByte, i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

func TestReaderLimit(t *testing.T) {
	big := "data: " + strings.Repeat("x", 2000) + "\n\n"
	if _, err := readAll(t, strings.NewReader(big), 1000); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
	many := strings.Repeat("data: xxxxxxxxxx\n", 200) + "\n"
	if _, err := readAll(t, strings.NewReader(many), 1000); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("many lines: err = %v, want ErrEventTooLarge", err)
	}
	// A stream of many small events is fine even if their total is large.
	small := strings.Repeat("data: xxxxxxxxxx\n\n", 1000)
	got, err := readAll(t, strings.NewReader(small), 100)
	if err != nil || len(got) != 1000 {
		t.Fatalf("got %d events, err %v", len(got), err)
	}
}

func TestAppendRoundTrip(t *testing.T) {
	cases := []struct{ typ, data string }{
		{"", `{"choices":[]}`},
		{"response.completed", "{}"},
		{"", "line1\nline2\r\nline3\rline4"},
		{"", ""},
	}
	for _, c := range cases {
		wire := Append(nil, c.typ, []byte(c.data))
		got, err := readAll(t, bytes.NewReader(wire), 0)
		if err != nil || len(got) != 1 {
			t.Fatalf("%q: got %q err %v", wire, got, err)
		}
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(c.data)
		if got[0].typ != c.typ || got[0].data != want {
			t.Fatalf("round trip of %q = %q", c, got[0])
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("event: x\r\ndata: y\r\n\r\n"))
	f.Add([]byte(":c\rdata:\r\r"))
	f.Add([]byte("id: 1\nretry: 100\ndata: a\ndata: b\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 4096
		evs, err := readAll(t, bytes.NewReader(in), max)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrEventTooLarge) {
			t.Fatalf("unexpected error %v", err)
		}
		// Re-encoding what was read and reading it again gives the same events.
		var wire []byte
		for _, e := range evs {
			if len(e.data) > max {
				t.Fatalf("event of %d bytes passed a %d limit", len(e.data), max)
			}
			wire = Append(wire, e.typ, []byte(e.data))
		}
		again, err := readAll(t, bytes.NewReader(wire), 0)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(again) != len(evs) {
			t.Fatalf("re-read %d events, want %d", len(again), len(evs))
		}
		for i := range evs {
			if strings.ContainsAny(evs[i].typ, "\r\n") {
				continue
			}
			if again[i] != evs[i] {
				t.Fatalf("event %d: %q != %q", i, again[i], evs[i])
			}
		}
	})
}

func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 200; i++ {
		buf.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" word"},"finish_reason":null}]}` + "\n\n")
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(in), 0)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
