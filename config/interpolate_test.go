package config

import (
	"strings"
	"testing"
)

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestExpand(t *testing.T) {
	env := mapEnv(map[string]string{
		"HOST":  "example.com",
		"EMPTY": "",
		"MULTI": "a\nb: c",
		"REF":   "${HOST}",
	})
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "plain", want: "plain"},
		{in: "", want: ""},
		{in: "${HOST}", want: "example.com"},
		{in: "https://${HOST}/v1", want: "https://example.com/v1"},
		{in: "${HOST}${HOST}", want: "example.comexample.com"},
		{in: "${MISSING:-fallback}", want: "fallback"},
		{in: "${MISSING:-}", want: ""},
		{in: "${MISSING:-https://api.openai.com/v1}", want: "https://api.openai.com/v1"},
		{in: "${HOST:-fallback}", want: "example.com"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${EMPTY}", want: ""},
		{in: "${MULTI}", want: "a\nb: c"},
		{in: "${REF}", want: "${HOST}"}, // values are not expanded again
		{in: "$$", want: "$"},
		{in: "$${HOST}", want: "${HOST}"},
		{in: "$$$${HOST}", want: "$${HOST}"},
		{in: "$$${HOST}", want: "$example.com"},
		{in: "price: $5", want: "price: $5"},
		{in: "pa$word", want: "pa$word"},
		{in: "end$", want: "end$"},
		{in: "$HOST", want: "$HOST"},
		{in: "${MISSING}", wantErr: "environment variable MISSING is not set"},
		{in: "x ${HOST", wantErr: `unterminated "${"`},
		{in: "${}", wantErr: "invalid variable reference"},
		{in: "${1ABC}", wantErr: "invalid variable reference"},
		{in: "${A-B}", wantErr: "invalid variable reference"},
		{in: "${HOST:?err}", wantErr: "invalid variable reference"},
		{in: "${A:-${B}}", wantErr: "nested reference"},
	}
	for _, tt := range tests {
		got, _, err := expand(tt.in, env)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("expand(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestExpandRefs(t *testing.T) {
	_, refs, err := expand("$${NOT} ${A}-${B:-x}-${A}", mapEnv(map[string]string{"A": "1"}))
	if err != nil || strings.Join(refs, ",") != "A,B,A" {
		t.Errorf("refs = %q, %v; want A,B,A", refs, err)
	}
}

func TestExpandErrorOffset(t *testing.T) {
	_, _, err := expand("ab ${NOPE} cd", mapEnv(nil))
	ee, ok := err.(*expandError)
	if !ok || ee.Offset != 3 {
		t.Fatalf("err = %#v, want *expandError at offset 3", err)
	}
}
