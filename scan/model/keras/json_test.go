package keras

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	fx "github.com/rampartsec/rampart/scan/model/internal/fixtures"
)

// canonical turns a parsed tree into what encoding/json's Unmarshal into
// any gives, with every scalar but strings as nil.
func canonical(v *value) any {
	switch v.kind {
	case 'o':
		m := map[string]any{}
		for i, k := range v.keys {
			m[validUTF8(k)] = canonical(v.vals[i])
		}
		return m
	case 'a':
		a := []any{}
		for _, c := range v.vals {
			a = append(a, canonical(c))
		}
		return a
	case 's':
		return validUTF8(v.str)
	}
	return nil
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func scalarsToNil(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = scalarsToNil(c)
		}
		return t
	case []any:
		for i, c := range t {
			t[i] = scalarsToNil(c)
		}
		return t
	case string:
		return t
	}
	return nil
}

func TestParseJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":[1,2.5e-3,true,false,null,"x"],"b":{}}`,
		`"\u00e9\ud83d\ude00\n\t\"\\\/"`,
		`{"class\u005fname":"Lam\u0062da"}`,
		`[]`, ` 1 `, `"\ud800"`, `"\ud800\u0041"`,
	} {
		v, _, err := parseJSON([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if got := canonical(v); !reflect.DeepEqual(got, scalarsToNil(want)) {
			t.Errorf("%s: got %#v, want %#v", in, got, want)
		}
	}
	for _, in := range []string{`{"a":1,}`, `[1 2]`, `{"a" 1}`, `"abc`, `tru`, `{1:2}`, `[`, `@`} {
		if _, _, err := parseJSON([]byte(in)); err == nil {
			t.Errorf("%s: want an error", in)
		}
	}
}

// TestEscapedKeysAreDecoded: Python decodes escapes in keys and values, so
// "class\u005fname": "Lambd\u0061" is a Lambda layer to Keras.
func TestEscapedKeysAreDecoded(t *testing.T) {
	cfg := `{"class_name":"Sequential","config":{"layers":[{"class\u005fname":"Lambd\u0061","config":{"function":["` +
		fx.LambdaOSSystem + `",null,null]}}]}}`
	if got := ScanConfig([]byte(cfg)); !has(got, RuleLambda, "system") {
		t.Fatalf("escaped Lambda missed:%s", describe(got))
	}
	mod := `{"module":"o\u0073","class_name":"function","config":"system"}`
	if got := ScanConfig([]byte(mod)); !has(got, RuleDangerousCallable, "os.system") {
		t.Fatalf("escaped module missed:%s", describe(got))
	}
}

// FuzzParseJSON checks the parser against encoding/json on standard JSON:
// both accept it and see the same structure and strings.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,"\u00e9",{"b":null}],"c":"\ud83d\ude00"}`))
	f.Add(fx.JSON(fx.Sequential(fx.Lambda("l", fx.LambdaDouble))))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, _, err := parseJSON(b)
		var want any
		if json.Unmarshal(b, &want) != nil {
			return
		}
		if err != nil {
			if strings.Contains(err.Error(), "limit") {
				return
			}
			t.Fatalf("encoding/json accepts what parseJSON refuses: %v", err)
		}
		if got := canonical(v); !reflect.DeepEqual(got, scalarsToNil(want)) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	})
}
