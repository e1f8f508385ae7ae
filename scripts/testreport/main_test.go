package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// events builds a `go test -json` stream.
func events(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

const (
	pkgA = `"Package":"example.com/a"`
	pkgB = `"Package":"example.com/b"`
)

func TestReport(t *testing.T) {
	allow := filepath.Join(t.TempDir(), "allow")
	if err := os.WriteFile(allow, []byte("# comment\nexample.com/a TestHelper helper process\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        string
		rerun     bool
		wantCode  int
		wantOut   []string
		wantRerun string
	}{
		{
			name: "all pass",
			in: events(`{"Action":"run",`+pkgA+`,"Test":"TestX"}`,
				`{"Action":"output",`+pkgA+`,"Test":"TestX","Output":"=== RUN   TestX\n"}`,
				`{"Action":"pass",`+pkgA+`,"Test":"TestX"}`,
				`{"Action":"output",`+pkgA+`,"Output":"ok  \texample.com/a\t0.1s\n"}`,
				`{"Action":"pass",`+pkgA+`}`),
			wantCode: 0,
			wantOut:  []string{"ok  \texample.com/a", "tests: 1 passed, 0 failed, 0 skipped"},
		},
		{
			name: "failure shows the test's output",
			in: events(`{"Action":"run",`+pkgA+`,"Test":"TestX"}`,
				`{"Action":"output",`+pkgA+`,"Test":"TestX","Output":"    x_test.go:9: boom\n"}`,
				`{"Action":"fail",`+pkgA+`,"Test":"TestX"}`,
				`{"Action":"fail",`+pkgA+`}`),
			wantCode: 1,
			wantOut:  []string{"--- FAIL: TestX (example.com/a)", "x_test.go:9: boom", "tests: 0 passed, 1 failed, 0 skipped"},
		},
		{
			name: "package failure without a failed test",
			in: events(`{"Action":"output",`+pkgA+`,"Output":"panic: in TestMain\n"}`,
				`{"Action":"fail",`+pkgA+`}`),
			wantCode: 1,
			wantOut:  []string{"panic: in TestMain", "failed packages: example.com/a", "1 failed"},
		},
		{
			name: "build failure",
			in: events(`{"ImportPath":"example.com/a","Action":"build-output","Output":"a.go:1: syntax error\n"}`,
				`{"ImportPath":"example.com/a","Action":"build-fail"}`,
				`{"Action":"fail",`+pkgA+`}`),
			wantCode: 1,
			wantOut:  []string{"BUILD FAILED example.com/a", "a.go:1: syntax error"},
		},
		{
			name: "skip fails",
			in: events(`{"Action":"run",`+pkgA+`,"Test":"TestDB"}`,
				`{"Action":"output",`+pkgA+`,"Test":"TestDB","Output":"    db_test.go:5: no database\n"}`,
				`{"Action":"output",`+pkgA+`,"Test":"TestDB","Output":"--- SKIP: TestDB (0.00s)\n"}`,
				`{"Action":"skip",`+pkgA+`,"Test":"TestDB"}`),
			wantCode: 1,
			wantOut:  []string{"SKIP example.com/a TestDB: db_test.go:5: no database", "0 failed, 1 skipped"},
		},
		{
			name: "allowed skip passes",
			in: events(`{"Action":"run",`+pkgA+`,"Test":"TestHelper"}`,
				`{"Action":"skip",`+pkgA+`,"Test":"TestHelper"}`),
			wantCode: 0,
			wantOut:  []string{"allowed skip: example.com/a TestHelper"},
		},
		{
			name: "a fuzz target rejecting a seed input is no skipped test",
			in: events(`{"Action":"skip",`+pkgA+`,"Test":"FuzzParse/e46b1e52b610dbf0"}`,
				`{"Action":"pass",`+pkgA+`,"Test":"FuzzParse"}`),
			wantCode: 0,
			wantOut:  []string{"allowed skip: example.com/a FuzzParse/e46b1e52b610dbf0"},
		},
		{
			name:     "a skipped fuzz target is",
			in:       events(`{"Action":"skip",` + pkgA + `,"Test":"FuzzParse"}`),
			wantCode: 1,
		},
		{
			name:  "skips to run again",
			rerun: true,
			in: events(`{"Action":"skip",`+pkgA+`,"Test":"TestRace"}`,
				`{"Action":"skip",`+pkgB+`,"Test":"TestR/sub/x.y"}`,
				`{"Action":"skip",`+pkgB+`,"Test":"TestR/other"}`,
				`{"Action":"skip",`+pkgB+`,"Test":"TestS"}`),
			wantCode:  3,
			wantRerun: "example.com/a\t^(TestRace)$\nexample.com/b\t^(TestR|TestS)$\n",
		},
		{
			name:  "a failure wins over skips to run again",
			rerun: true,
			in: events(`{"Action":"skip",`+pkgA+`,"Test":"TestRace"}`,
				`{"Action":"fail",`+pkgA+`,"Test":"TestX"}`),
			wantCode: 1,
		},
		{
			name:     "lines that are not JSON are shown",
			in:       "go: cannot find main module\n",
			wantCode: 0,
			wantOut:  []string{"go: cannot find main module"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed, err := readAllow(allow)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			r := newReport(&out, allowed)
			if err := r.read(strings.NewReader(tt.in)); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			rerun := ""
			if tt.rerun {
				rerun = filepath.Join(dir, "rerun")
			}
			code := r.finish(rerun, filepath.Join(dir, "summary"))
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\n%s", code, tt.wantCode, out.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tt.wantRerun != "" {
				b, err := os.ReadFile(rerun)
				if err != nil || string(b) != tt.wantRerun {
					t.Errorf("rerun file %q (%v), want %q", b, err, tt.wantRerun)
				}
			}
			summary, err := os.ReadFile(filepath.Join(dir, "summary"))
			if err != nil || !strings.HasPrefix(string(summary), "tests: ") {
				t.Errorf("summary %q (%v)", summary, err)
			}
		})
	}
}

func TestReadAllowRejectsMalformedLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "allow")
	if err := os.WriteFile(p, []byte("example.com/a TestX\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readAllow(p); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("err = %v, want one naming line 1", err)
	}
}
