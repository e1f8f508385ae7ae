package model_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
)

// skopsFile writes a .skops archive (schema.json and one array file, as
// skops.io.dump writes them) holding schema and returns its path.
func skopsFile(t *testing.T, schema string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range map[string]string{
		"schema.json": schema,
		"a1b2.npy":    npyFloat64s(2),
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "model.skops")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSkops(t *testing.T) {
	b, err := os.ReadFile("skops/testdata/benign-pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	benign := string(b)
	const act = `{"__class__": "expit", "__module__": "scipy.special._ufuncs", "__loader__": "FunctionNode"}`
	evil := strings.Replace(benign, act, `{"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"}`, 1)
	custom := strings.Replace(benign, act, `{"__class__": "Net", "__module__": "mypkg.models", "__loader__": "ObjectNode"}`, 1)
	for _, c := range []struct {
		name, schema string
		allow        []string
		rule         string
		sev          finding.Severity
	}{
		{"benign", benign, nil, "", 0},
		{"os.system", evil, nil, "model.skops.dangerous-type", finding.Critical},
		{"custom class", custom, nil, "model.skops.untrusted-type", finding.Medium},
		{"custom class allowed", custom, []string{"mypkg.*"}, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := model.Scan(context.Background(), []string{skopsFile(t, c.schema)}, model.Options{AllowGlobals: c.allow})
			if err != nil {
				t.Fatal(err)
			}
			var got []finding.Finding
			for _, f := range rep.Findings {
				if f.Severity > finding.Low {
					got = append(got, f)
				}
			}
			if c.rule == "" {
				if len(got) != 0 {
					t.Fatalf("findings above low:\n%s", describe(rep))
				}
				return
			}
			if len(got) != 1 || got[0].RuleID != c.rule || got[0].Severity != c.sev || !strings.HasSuffix(got[0].Location.Path, "model.skops!schema.json") {
				t.Fatalf("want one %s %s finding in model.skops!schema.json:\n%s", c.sev, c.rule, describe(rep))
			}
		})
	}
}

// npyFloat64s is a version 1.0 .npy file of n zero float64s.
func npyFloat64s(n int) string {
	dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", n)
	hlen := len(dict) + 1
	hlen += (64 - (10+hlen)%64) % 64
	header := dict + strings.Repeat(" ", hlen-len(dict)-1) + "\n"
	return "\x93NUMPY\x01\x00" + string([]byte{byte(hlen), byte(hlen >> 8)}) + header + strings.Repeat("\x00", 8*n)
}
