package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nb\r\n\nccc"), uint8(2))
	f.Add([]byte("\r\n\r\r\n"), uint8(0))
	f.Add([]byte(strings.Repeat("x", 300)+"\ny"), uint8(255))
	f.Fuzz(func(t *testing.T, in []byte, max uint8) {
		limit := int(max)%64 + 1
		lr := NewLineReader(bytes.NewReader(in), limit)
		var rebuilt [][]byte
		for n := 1; ; n++ {
			line, num, err := lr.Next()
			if err == io.EOF {
				break
			}
			if num != n {
				t.Fatalf("line number %d, want %d", num, n)
			}
			if err != nil {
				if !errors.Is(err, ErrLineTooLong) {
					t.Fatalf("line %d: %v", n, err)
				}
				rebuilt = append(rebuilt, nil)
				continue
			}
			if len(line) > limit {
				t.Fatalf("line %d has %d bytes, limit %d", n, len(line), limit)
			}
			rebuilt = append(rebuilt, bytes.Clone(line))
		}
		// The input's lines, split the same way, are what came out.
		want := bytes.Split(bytes.TrimSuffix(in, []byte("\n")), []byte("\n"))
		if len(in) == 0 {
			want = nil
		}
		if len(rebuilt) != len(want) {
			t.Fatalf("%d lines, want %d", len(rebuilt), len(want))
		}
		for i, w := range want {
			w = bytes.TrimSuffix(w, []byte("\r"))
			if rebuilt[i] == nil {
				if len(w) <= limit {
					t.Fatalf("line %d (%d bytes) reported too long", i+1, len(w))
				}
				continue
			}
			if !bytes.Equal(rebuilt[i], w) {
				t.Fatalf("line %d = %q, want %q", i+1, rebuilt[i], w)
			}
		}
	})
}

func FuzzEvaluatePredictions(f *testing.F) {
	data := "{\"text\":\"abc\",\"label\":\"injection\",\"entities\":[{\"type\":\"T\",\"start\":0,\"end\":2}]}\n{\"text\":\"d\",\"label\":\"benign\"}\n"
	f.Add([]byte("{\"score\":0.9,\"findings\":[{\"label\":\"T\",\"start\":0,\"end\":2}]}\n{\"score\":0.1,\"ms\":1}\n"))
	f.Add([]byte("{\"score\":0.5,\"flagged\":false,\"ms\":0}\n{\"score\":1,\"flagged\":true,\"ms\":3}"))
	f.Add([]byte("{\"error\":\"x\"}\n"))
	f.Fuzz(func(t *testing.T, preds []byte) {
		cfg := DefaultConfig("injection")
		cfg.TypeMap = map[string]string{"T": "T"}
		rep, err := EvaluatePredictions(context.Background(), strings.NewReader(data), bytes.NewReader(preds), cfg)
		if err != nil {
			return
		}
		o := rep.Overall
		if o.N != 2 || o.TP+o.FN != 1 || o.FP+o.TN != 1 {
			t.Fatalf("overall %+v", o)
		}
		for _, v := range []*float64{o.Precision, o.Recall, o.F1, o.FPR, rep.ROCAUC, rep.RecallAt1PctFPR} {
			if v != nil && !(*v >= 0 && *v <= 1) {
				t.Fatalf("figure %v outside [0, 1]", *v)
			}
		}
	})
}

// FuzzRowSpans checks the code point to byte conversion of gold spans (it
// replaces detect/pii's FuzzByteOffsets): a span inside the text converts
// to the byte offsets CodePointsToBytes gives, which fall on rune
// boundaries and keep the span's code point length; one outside is an
// error.
func FuzzRowSpans(f *testing.F) {
	f.Add("héllo wörld", 1, 4)
	f.Add("日本語のテキスト", 0, 8)
	f.Add("", 0, 0)
	f.Add("abc", 2, 5)
	f.Fuzz(func(t *testing.T, text string, start, end int) {
		if !utf8.ValidString(text) {
			return
		}
		line, err := json.Marshal(map[string]any{"text": text, "entities": []map[string]any{{"type": "X", "start": start, "end": end}}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRow(line)
		if err != nil {
			t.Fatal(err)
		}
		spans, has, err := r.Spans("entities")
		n := utf8.RuneCountInString(text)
		if start < 0 || end < start || end > n {
			if err == nil || !has {
				t.Fatalf("span [%d, %d) of %d code points: no error", start, end, n)
			}
			return
		}
		if err != nil || !has || len(spans) != 1 {
			t.Fatalf("span [%d, %d) of %d code points: %v, %v, %v", start, end, n, spans, has, err)
		}
		s := spans[0]
		if s.Start != CodePointsToBytes(text, start) || s.End != CodePointsToBytes(text, end) {
			t.Fatalf("span [%d, %d) → [%d, %d), CodePointsToBytes gives [%d, %d)", start, end, s.Start, s.End,
				CodePointsToBytes(text, start), CodePointsToBytes(text, end))
		}
		for _, o := range []int{s.Start, s.End} {
			if o < len(text) && !utf8.RuneStart(text[o]) {
				t.Fatalf("span [%d, %d) → [%d, %d): offset %d is inside a rune", start, end, s.Start, s.End, o)
			}
		}
		if got := utf8.RuneCountInString(text[s.Start:s.End]); got != end-start {
			t.Fatalf("span [%d, %d) → %q, %d code points", start, end, text[s.Start:s.End], got)
		}
	})
}
