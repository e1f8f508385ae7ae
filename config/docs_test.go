package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const docPath = "../docs/configuration.md"

// modelKey is one key of the configuration model, written as in the
// reference: "upstreams[].name", "prices.<model>.input". A struct type
// reached again under another key (LimitSet under limits.ip) is listed
// only at its first key.
type modelKey struct {
	path string
	typ  reflect.Type
}

func modelKeys() []modelKey {
	var out []modelKey
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			out = append(out, modelKey{path: p, typ: f.Type})
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case isLeafType(ft):
			case ft.Kind() == reflect.Struct:
				if !seen[ft] {
					seen[ft] = true
					walk(ft, p)
				}
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				if !seen[ft.Elem()] {
					seen[ft.Elem()] = true
					walk(ft.Elem(), p+"[]")
				}
			case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
				if !seen[ft.Elem()] {
					seen[ft.Elem()] = true
					walk(ft.Elem(), p+".<"+mapKeyName(p)+">")
				}
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

func isLeafType(t reflect.Type) bool {
	return t == durationType || t == reflect.TypeFor[ByteSize]() || t.Kind() != reflect.Struct &&
		!(t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct) &&
		!(t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct)
}

// mapKeyName is the placeholder the reference uses for a map's keys.
func mapKeyName(path string) string {
	switch path {
	case "prices":
		return "model"
	case "limits.groups":
		return "group"
	}
	return "name"
}

// patternRegexp turns a model key into a regexp over decoder key paths.
func patternRegexp(p string) *regexp.Regexp {
	q := regexp.QuoteMeta(p)
	q = strings.ReplaceAll(q, `\[\]`, `\[\d+\]`)
	q = regexp.MustCompile(`\\\.<[a-z]+>`).ReplaceAllString(q, `(?:\.[A-Za-z0-9_-]+|\["(?:[^"\\]|\\.)*"\])`)
	return regexp.MustCompile("^" + q + "$")
}

// TestModelFieldsDecodable guards the decoder against model changes: every
// exported field has a yaml tag, and every type is one the decoder handles.
func TestModelFieldsDecodable(t *testing.T) {
	var check func(t2 reflect.Type, where string)
	seen := map[reflect.Type]bool{}
	check = func(typ reflect.Type, where string) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		switch {
		case typ == durationType, typ == reflect.TypeFor[ByteSize]():
			return
		}
		switch typ.Kind() {
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if !f.IsExported() {
					continue
				}
				if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == "" {
					t.Errorf("%s.%s has no yaml tag", typ.Name(), f.Name)
				}
				check(f.Type, typ.Name()+"."+f.Name)
			}
		case reflect.Pointer, reflect.Slice:
			check(typ.Elem(), where)
		case reflect.Map:
			if typ.Key().Kind() != reflect.String {
				t.Errorf("%s: map key %s is not a string", where, typ.Key())
			}
			check(typ.Elem(), where)
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64, reflect.Interface:
		default:
			t.Errorf("%s: the decoder does not handle %s", where, typ)
		}
	}
	check(reflect.TypeFor[Config](), "Config")
}

type docRow struct {
	key, typ, def string
	line          int
}

func docRows(t *testing.T) ([]docRow, string) {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	rowRE := regexp.MustCompile("^\\| `([^`]+)` \\|([^|]*)\\|([^|]*)\\|")
	var rows []docRow
	for i, line := range strings.Split(string(b), "\n") {
		if m := rowRE.FindStringSubmatch(line); m != nil {
			rows = append(rows, docRow{key: m[1], typ: strings.TrimSpace(m[2]), def: strings.TrimSpace(m[3]), line: i + 1})
		}
	}
	return rows, string(b)
}

// TestDocsCoverModel keeps docs/configuration.md and config.go in step:
// every key of the model has a row in a reference table, and every row
// names a key of the model.
func TestDocsCoverModel(t *testing.T) {
	rows, _ := docRows(t)
	documented := map[string]bool{}
	for _, r := range rows {
		if documented[r.key] {
			t.Errorf("%s:%d: %s is documented twice", docPath, r.line, r.key)
		}
		documented[r.key] = true
	}
	var model []string
	for _, k := range modelKeys() {
		model = append(model, k.path)
		if !documented[k.path] {
			t.Errorf("%s: no row for %s (a row starts with | `%s` |)", docPath, k.path, k.path)
		}
	}
	for _, r := range rows {
		if !slices.Contains(model, r.key) {
			t.Errorf("%s:%d: %s is not a key of config.Config", docPath, r.line, r.key)
		}
	}
}

// TestDocsDefaults checks the Default column against ApplyDefaults: a
// value in backquotes must be the default, and a row without one must have
// none (zero), so that a default cannot be added or changed without the
// reference.
func TestDocsDefaults(t *testing.T) {
	c := &Config{
		Upstreams: []Upstream{{}},
		Auth:      Auth{JWT: &JWT{}},
		Policies:  []Policy{{Input: []Rule{{}}, Output: []Rule{{}}}},
	}
	c.ApplyDefaults()
	// Defaults that depend on other keys; the reference says how.
	derived := map[string]bool{
		"store.sqlite_path":           true,
		"policies[].input[].on_error": true,
	}
	rows, _ := docRows(t)
	for _, r := range rows {
		v, ok := valueAt(reflect.ValueOf(c).Elem(), r.key)
		if !ok {
			continue // inside a map: no defaults there
		}
		if derived[r.key] || !isScalarType(v.Type()) {
			continue
		}
		m := regexp.MustCompile("^`([^`]*)`$").FindStringSubmatch(r.def)
		if m == nil {
			if !v.IsZero() {
				t.Errorf("%s:%d: %s has the default %v, but the reference gives none (%q)", docPath, r.line, r.key, v.Interface(), r.def)
			}
			continue
		}
		if !sameValue(v, m[1]) {
			t.Errorf("%s:%d: %s: reference default %q, ApplyDefaults gives %v", docPath, r.line, r.key, m[1], v.Interface())
		}
	}
}

func isScalarType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	case reflect.Pointer:
		return t.Elem().Kind() == reflect.Float64
	}
	return false
}

// valueAt finds a model key in v, taking element 0 of lists.
func valueAt(v reflect.Value, key string) (reflect.Value, bool) {
	for _, seg := range strings.Split(key, ".") {
		if strings.HasPrefix(seg, "<") {
			return reflect.Value{}, false
		}
		name, list := strings.CutSuffix(seg, "[]")
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		found := false
		for i := 0; i < v.NumField(); i++ {
			if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); tag == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
		if list {
			if v.Len() == 0 {
				return reflect.Value{}, false
			}
			v = v.Index(0)
		}
	}
	return v, true
}

func sameValue(v reflect.Value, s string) bool {
	switch x := v.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		return err == nil && d == x
	case ByteSize:
		b, err := ParseByteSize(s)
		return err == nil && b == x
	case *float64:
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && x != nil && *x == f
	case string:
		return s == x
	case int:
		n, err := strconv.Atoi(s)
		return err == nil && n == x
	case float64:
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && f == x
	case bool:
		b, err := strconv.ParseBool(s)
		return err == nil && b == x
	}
	return false
}

// TestDocsShowDefaultFile checks that the reference shows the embedded
// default file exactly.
func TestDocsShowDefaultFile(t *testing.T) {
	_, doc := docRows(t)
	if !strings.Contains(doc, "```yaml\n"+string(defaultYAML)+"```\n") {
		t.Errorf("%s does not show default.yaml verbatim in a ```yaml block", docPath)
	}
}
