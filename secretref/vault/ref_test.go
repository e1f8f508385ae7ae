package vault

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
		err  string
	}{
		{in: "secret/llm/openai#api_key", want: Ref{Mount: "secret", Path: "llm/openai", Field: "api_key"}},
		{in: "kv/a?version=3#k", want: Ref{Mount: "kv", Path: "a", Field: "k", Version: 3}},
		{in: "secret/a", err: "no #FIELD"},
		{in: "secret/a#", err: "no #FIELD"},
		{in: "secret#k", err: "want MOUNT/PATH"},
		{in: "/a#k", err: "want MOUNT/PATH"},
		{in: "secret/#k", err: "want MOUNT/PATH"},
		{in: "secret/a//b#k", err: "empty path segment at offset 9"},
		{in: "secret/../sys#k", err: `segment ".."`},
		{in: "secret/a b#k", err: "offset 8"},
		{in: "secret/a%2e#k", err: "offset 8"},
		{in: "secret/a#k#j", err: "field"},
		{in: "secret/a?v=1#k", err: "only ?version=N"},
		{in: "secret/a?version=0#k", err: "not a positive integer"},
		{in: "secret/a?version=01#k", err: "not a positive integer"},
		{in: "secret/a?version=-1#k", err: "not a positive integer"},
		{in: "secret/a?version=99999999999#k", err: "not a positive integer"},
		{in: "secret/" + strings.Repeat("a", MaxRefLen) + "#k", err: "more than"},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.in)
		if tt.err != "" {
			if err == nil || !errors.Is(err, ErrRef) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRef(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if back, err := ParseRef(got.String()); err != nil || back != got {
			t.Errorf("ParseRef(%q.String()) = %+v, %v", tt.in, back, err)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"secret/llm/openai#api_key", "kv/a?version=3#k", "a/b?version=#", "x//y#z", "a/../b#c", "?#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, ErrRef) {
				t.Fatalf("error %v does not wrap ErrRef", err)
			}
			return
		}
		if r.Mount == "" || r.Path == "" || r.Field == "" || r.Version < 0 {
			t.Fatalf("ParseRef(%q) = %+v", s, r)
		}
		back, err := ParseRef(r.String())
		if err != nil || back != r {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", s, back, err, r)
		}
	})
}
