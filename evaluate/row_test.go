package evaluate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseRow(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    Row
		wantErr string
	}{
		{"full", `{"text":"hi","label":"benign","family":"f","lang":"de","source":"s","role":"document","id":3}`,
			Row{Text: "hi", Label: "benign", Family: "f", Lang: "de", Source: "s", Role: "document"}, ""},
		{"text only", `{"text":"héllo \u00e9"}`, Row{Text: "héllo é"}, ""},
		{"escaped key", `{"te\u0078t":"a\"b","x":{"text":"inner"},"y":["text",{"a":[1,"]"]}]}`, Row{Text: `a"b`}, ""},
		{"spaces", " { \"label\" : \"l\" ,\t\"text\" : \"t\" } ", Row{Text: "t", Label: "l"}, ""},
		{"duplicate key", `{"text":"a","text":"b"}`, Row{}, `duplicate key "text"`},
		{"duplicate other key", `{"text":"a","id":1,"id":2}`, Row{}, `duplicate key "id"`},
		{"null optional", `{"text":"x","family":null}`, Row{Text: "x"}, ""},
		{"missing text", `{"label":"x"}`, Row{}, `missing "text"`},
		{"text not a string", `{"text":3}`, Row{}, `field "text": not a string`},
		{"text null", `{"text":null}`, Row{}, `field "text": not a string`},
		{"label not a string", `{"text":"x","label":["a"]}`, Row{}, `field "label": not a string`},
		{"not an object", `["text"]`, Row{}, "malformed JSON"},
		{"null line", `null`, Row{}, "not an object"},
		{"malformed", `{"text":"x"`, Row{}, "malformed JSON"},
		{"trailing garbage", `{"text":"x"} {}`, Row{}, "malformed JSON"},
		{"invalid utf-8", "{\"text\":\"\xff\"}", Row{}, "invalid UTF-8"},
		{"empty", "", Row{}, "empty line"},
		{"blank", " \t", Row{}, "empty line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRow([]byte(tt.line))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ref map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.line), &ref); err != nil {
				t.Fatal(err)
			}
			if f := got.Fields(); f["text"] == nil || len(f) != len(ref) {
				t.Errorf("Fields = %v, want every field", f)
			}
			got.line = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRowSpans(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    []Span
		has     bool
		wantErr string
	}{
		// "é" is two bytes, "€" three and "😀" four (one code point each,
		// as Python counts them).
		{"multibyte", `{"text":"é€😀 bob@x.io!","entities":[{"type":"EMAIL_ADDRESS","start":4,"end":12,"value":"bob@x.io"}]}`,
			[]Span{{"EMAIL_ADDRESS", 10, 18}}, true, ""},
		{"surrogate pair escape", `{"text":"\ud83d\ude00ab","entities":[{"type":"T","start":1,"end":3}]}`,
			[]Span{{"T", 4, 6}}, true, ""},
		{"ascii", `{"text":"abc def","entities":[{"type":"T","start":4,"end":7}]}`, []Span{{"T", 4, 7}}, true, ""},
		{"whole text", `{"text":"é","entities":[{"type":"T","start":0,"end":1}]}`, []Span{{"T", 0, 2}}, true, ""},
		{"empty list", `{"text":"x","entities":[]}`, nil, true, ""},
		{"absent", `{"text":"x"}`, nil, false, ""},
		{"past the end", `{"text":"é","entities":[{"type":"T","start":0,"end":2}]}`, nil, true, "outside"},
		{"reversed", `{"text":"abc","entities":[{"type":"T","start":2,"end":1}]}`, nil, true, "outside"},
		{"negative", `{"text":"abc","entities":[{"type":"T","start":-1,"end":1}]}`, nil, true, "outside"},
		{"missing end", `{"text":"abc","entities":[{"type":"T","start":1}]}`, nil, true, "missing start or end"},
		{"not a list", `{"text":"abc","entities":{"type":"T"}}`, nil, true, `field "entities"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRow([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			got, has, err := r.Spans("entities")
			if has != tt.has {
				t.Errorf("has = %v", has)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("span %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestCodePointsToBytes(t *testing.T) {
	text := "aé€😀b"
	for _, tt := range []struct{ cp, want int }{{-1, 0}, {0, 0}, {1, 1}, {2, 3}, {3, 6}, {4, 10}, {5, 11}, {9, 11}} {
		if got := CodePointsToBytes(text, tt.cp); got != tt.want {
			t.Errorf("CodePointsToBytes(%d) = %d, want %d", tt.cp, got, tt.want)
		}
	}
}

func TestLineReader(t *testing.T) {
	in := "one\r\n\n  \ntwo\r\r\n" + strings.Repeat("x", 20) + "\nthree\n" + strings.Repeat("y", 10) + "\nlast"
	lr := NewLineReader(strings.NewReader(in), 10)
	type got struct {
		line string
		n    int
		err  string
	}
	want := []got{{"one", 1, ""}, {"", 2, ""}, {"  ", 3, ""}, {"two\r", 4, ""}, {"", 5, "line 5: line too long (limit 10 bytes)"}, {"three", 6, ""},
		{strings.Repeat("y", 10), 7, ""}, {"last", 8, ""}}
	for i, w := range want {
		line, n, err := lr.Next()
		g := got{string(line), n, ""}
		if err != nil {
			g.err = err.Error()
			if !errors.Is(err, ErrLineTooLong) {
				t.Errorf("%d: error %v does not wrap ErrLineTooLong", i, err)
			}
		}
		if g != w {
			t.Errorf("%d: got %+v, want %+v", i, g, w)
		}
	}
	if _, _, err := lr.Next(); err != io.EOF {
		t.Errorf("at the end: %v", err)
	}
}

func TestLineReaderLongLines(t *testing.T) {
	// Lines much longer than bufio's buffer: skipped whole, reading goes on.
	long := strings.Repeat("z", 200<<10)
	in := long + "\nok\n" + long
	lr := NewLineReader(strings.NewReader(in), 1000)
	var out []string
	for {
		line, n, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		out = append(out, string(line)+"@"+string(rune('0'+n)))
	}
	want := []string{"line 1: line too long (limit 1000 bytes)", "ok@2", "line 3: line too long (limit 1000 bytes)"}
	if strings.Join(out, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", out)
	}
	// A limit above the buffer size accepts long lines.
	lr = NewLineReader(strings.NewReader(long+"\n"), len(long))
	if line, _, err := lr.Next(); err != nil || len(line) != len(long) {
		t.Errorf("long line under the limit: %d bytes, %v", len(line), err)
	}
}

func FuzzParseRow(f *testing.F) {
	for _, s := range []string{
		`{"text":"hi","label":"benign"}`,
		`{"text":"é€😀 bob@x.io!","entities":[{"type":"EMAIL_ADDRESS","start":4,"end":12}]}`,
		`{"text":"x","secrets":[{"type":"T","start":0,"end":1}],"role":"document"}`,
		`{"text":3}`, `[]`, `null`, "{\"text\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseRow(line)
		// Differential: encoding/json must agree on what parses and on
		// the fields (ParseRow also refuses duplicated keys).
		var ref map[string]json.RawMessage
		refErr := json.Unmarshal(line, &ref)
		if err != nil {
			if refErr == nil && ref != nil && utf8.Valid(line) && !strings.Contains(err.Error(), "duplicate key") {
				var text any
				if raw, ok := ref["text"]; ok {
					_ = json.Unmarshal(raw, &text)
				}
				if _, isStr := text.(string); isStr && !strings.Contains(err.Error(), "field") {
					t.Fatalf("ParseRow(%q) = %v; encoding/json accepts it", line, err)
				}
			}
			return
		}
		if refErr != nil {
			t.Fatalf("ParseRow accepted %q; encoding/json: %v", line, refErr)
		}
		var text string
		if err := json.Unmarshal(ref["text"], &text); err != nil || text != r.Text {
			t.Fatalf("text %q, encoding/json %q (%v)", r.Text, text, err)
		}
		fields := r.Fields()
		if len(fields) != len(ref) {
			t.Fatalf("%d fields, encoding/json %d", len(fields), len(ref))
		}
		for k, v := range ref {
			if !bytes.Equal(bytes.TrimSpace(fields[k]), bytes.TrimSpace(v)) {
				t.Fatalf("field %q = %s, encoding/json %s", k, fields[k], v)
			}
		}
		for _, field := range []string{"entities", "secrets"} {
			spans, _, err := r.Spans(field)
			if err != nil {
				continue
			}
			for _, s := range spans {
				if s.Start < 0 || s.End < s.Start || s.End > len(r.Text) {
					t.Fatalf("span %v outside text of %d bytes", s, len(r.Text))
				}
				if s.Start < len(r.Text) && !isRuneStart(r.Text[s.Start]) || s.End < len(r.Text) && !isRuneStart(r.Text[s.End]) {
					t.Fatalf("span %v splits a rune of %q", s, r.Text)
				}
			}
		}
	})
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
