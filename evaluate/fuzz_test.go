package evaluate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
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
