package length

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts map[string]any
		err  string
	}{
		{"bytes", map[string]any{"max_bytes": 10}, ""},
		{"chars from YAML float", map[string]any{"max_chars": 10.0}, ""},
		{"both", map[string]any{"max_bytes": 10, "max_chars": uint64(5)}, ""},
		{"none", nil, "set max_bytes or max_chars"},
		{"zero", map[string]any{"max_bytes": 0}, "set max_bytes or max_chars"},
		{"negative", map[string]any{"max_bytes": -1}, `option "max_bytes": -1 is negative`},
		{"fraction", map[string]any{"max_chars": 1.5}, `option "max_chars": 1.5 is not a whole number`},
		{"string", map[string]any{"max_bytes": "10"}, `option "max_bytes" is string, want an integer`},
		{"unknown", map[string]any{"max_tokens": 10}, `unknown option "max_tokens"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opts map[string]any
		text string
		hit  bool
	}{
		{map[string]any{"max_bytes": 5}, "12345", false},
		{map[string]any{"max_bytes": 5}, "123456", true},
		{map[string]any{"max_chars": 3}, "日本語", false}, // 9 bytes, 3 characters
		{map[string]any{"max_chars": 3}, "日本語!", true},
		{map[string]any{"max_bytes": 8, "max_chars": 100}, "日本語", true},
		{map[string]any{"max_bytes": 8}, "", false},
	} {
		d, err := New(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		hits, err := d.Detect(ctx, detect.Input{Text: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(hits) == 1; got != tc.hit {
			t.Fatalf("%v %q: hits %+v", tc.opts, tc.text, hits)
		}
		if tc.hit && (hits[0].Start != 0 || hits[0].End != len(tc.text) || hits[0].Rule != Rule || hits[0].Label != Label) {
			t.Fatalf("hit %+v", hits[0])
		}
	}
	d, _ := New(map[string]any{"max_bytes": 1})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.Detect(cctx, detect.Input{Text: "xx"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if r, err := detect.Default.New("length", map[string]any{"max_bytes": 3}); err != nil || r.Name() != "length" {
		t.Fatalf("registry: %v %v", r, err)
	}
}

func TestTally(t *testing.T) {
	d, err := New(map[string]any{"max_chars": 4})
	if err != nil {
		t.Fatal(err)
	}
	ta := d.NewTally()
	// "é" split across chunks still counts as one character.
	var got []detect.Hit
	for _, c := range []string{"ab", "\xc3", "\xa9c", "d", "ef"} {
		got = append(got, ta.Add(c)...)
		if len(got) > 0 && c != "d" {
			break
		}
	}
	if len(got) != 1 || got[0].End != 6 {
		t.Fatalf("hits %+v, want one ending at 6 (after the fifth character)", got)
	}
	if more := append(ta.Add("more"), ta.End()...); len(more) != 0 {
		t.Fatalf("reported again: %+v", more)
	}
	if hits := d.NewTally().End(); hits != nil {
		t.Fatalf("an empty stream reported %+v", hits)
	}
}

func FuzzTally(f *testing.F) {
	f.Add("héllo wörld", uint8(3), uint16(5))
	f.Add("\xff\xfe日本", uint8(1), uint16(2))
	f.Fuzz(func(t *testing.T, text string, step uint8, limit uint16) {
		d, err := New(map[string]any{"max_chars": int(limit) + 1, "max_bytes": int(limit) * 2})
		if err != nil {
			t.Fatal(err)
		}
		hits, err := d.Detect(context.Background(), detect.Input{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) > 1 || len(hits) == 1 && (hits[0].Start != 0 || hits[0].End != len(text)) {
			t.Fatalf("hits %+v", hits)
		}
		ta := d.NewTally()
		var got []detect.Hit
		n := int(step) + 1
		for i := 0; i < len(text); i += n {
			got = append(got, ta.Add(text[i:min(i+n, len(text))])...)
		}
		got = append(got, ta.End()...)
		if len(got) != len(hits) {
			t.Fatalf("tally reported %d hits, Detect %d", len(got), len(hits))
		}
		if len(got) == 1 && (got[0].End > len(text) || got[0].End <= 0) {
			t.Fatalf("tally hit %+v", got[0])
		}
	})
}

func TestCharsMatchesRuneStarts(t *testing.T) {
	for _, s := range []string{"", "a", "héllo wörld", "日本語のテキスト、もう少し長く", "\xff\xfe\x80\x80abc", strings.Repeat("ж", 33) + "x", "\U0001F600\U0001F600\U0001F600 text"} {
		want := 0
		for i := 0; i < len(s); i++ {
			if s[i]&0xC0 != 0x80 {
				want++
			}
		}
		if got := chars(s); got != want {
			t.Errorf("chars(%q) = %d, want %d", s, got, want)
		}
	}
}
