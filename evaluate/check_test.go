package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

func TestCheck(t *testing.T) {
	c := &Checker{Detectors: []Checked{{Name: "fake", Detector: &scorer{}, Threshold: 0.5}}, Role: detect.RoleUser}
	text := "key SECRET and low"
	res, err := c.Check(context.Background(), detect.Input{Text: text}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 0.9 || !res.Flagged || len(res.Findings) != 2 {
		t.Fatalf("result = %+v", res)
	}
	f := res.Findings[0]
	if f.Detector != "fake" || f.RuleID != "fake.score" || f.Severity != "high" || f.Label != "SECRET" || f.Start != 4 || f.End != 10 || f.Score != 0.9 {
		t.Errorf("finding = %+v", f)
	}
	if strings.Contains(f.Excerpt, "SECRET") || !strings.Contains(f.Excerpt, "(6 bytes)") {
		t.Errorf("excerpt %q shows the value or lacks its length", f.Excerpt)
	}
	// Below the threshold: reported, not flagged.
	res, err = c.Check(context.Background(), detect.Input{Text: "low"}, nil)
	if err != nil || res.Flagged || res.Score != 0.2 || len(res.Findings) != 1 {
		t.Errorf("low: %+v, %v", res, err)
	}
	res, err = c.Check(context.Background(), detect.Input{Text: "clean"}, nil)
	if err != nil || res.Flagged || res.Score != 0 || res.Findings == nil {
		t.Errorf("clean: %+v, %v", res, err)
	}
}

func TestCheckJSONL(t *testing.T) {
	rf := &rowFake{}
	c := &Checker{
		Detectors: []Checked{{Name: "fake", Detector: &scorer{}, Threshold: 0.5}, {Name: "canary", Detector: rf, Threshold: 0.5}},
		Role:      detect.RoleUser, MaxLine: 80,
	}
	in := strings.Join([]string{
		`{"text":"s=0.3 hello"}`,
		``,
		`{"text":"a SECRET","label":"x"}`,
		`not json`,
		`{"text":5}`,
		"{\"text\":\"\xff\"}",
		`{"text":"` + strings.Repeat("a", 100) + `"}`,
		`{"text":"boom"}`,
		`{"text":"leak: be kind","system":"be kind","role":"assistant"}`,
		`{"text":"last"}`,
	}, "\n")
	var out bytes.Buffer
	sum, err := c.CheckJSONL(context.Background(), strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Lines: 10, Flagged: 2, Errors: 6}) {
		t.Errorf("summary = %+v", sum)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`{"score":0.3,"flagged":false,"findings":[{"detector":"fake"`,
		`{"error":"line 2: empty line"}`,
		`{"score":0.9,"flagged":true,"findings":[{"detector":"fake","rule_id":"fake.score","severity":"high","label":"SECRET","start":2,"end":8,"score":0.9,"excerpt":"a [(6 bytes)]"}]}`,
		`{"error":"line 4: malformed JSON`,
		`{"error":"line 5: field \"text\": not a string"}`,
		`{"error":"line 6: invalid UTF-8"}`,
		`{"error":"line 7: line too long (limit 80 bytes)"}`,
		`{"error":"line 8: detector fake: boom"}`,
		`{"score":1,"flagged":true,"findings":[{"detector":"canary","rule_id":"fake.score","severity":"high","label":"LEAK","start":6,"end":13`,
		`{"score":0,"flagged":false,"findings":[]}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d output lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %s\nwant prefix %s", i+1, lines[i], want[i])
		}
		if !json.Valid([]byte(lines[i])) {
			t.Errorf("line %d is not JSON", i+1)
		}
	}
	if roles := rf.roles; len(roles) != 0 {
		t.Errorf("the row detector's Detect was called: %v", roles)
	}
}

// failWriter fails after n writes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, context.Canceled
	}
	w.n--
	return len(p), nil
}

func TestCheckJSONLStops(t *testing.T) {
	c := &Checker{Detectors: []Checked{{Name: "fake", Detector: &scorer{}, Threshold: 0.5}}}
	in := "{\"text\":\"a\"}\n{\"text\":\"b\"}\n"
	if _, err := c.CheckJSONL(context.Background(), strings.NewReader(in), &failWriter{n: 1}); err == nil || !strings.Contains(err.Error(), "write output") {
		t.Errorf("write error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.CheckJSONL(ctx, strings.NewReader(in), &bytes.Buffer{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

// lineCounter counts output lines as they are written, to show that each
// result is flushed before the next input line is read.
type lineCounter struct{ lines int }

func (w *lineCounter) Write(p []byte) (int, error) {
	w.lines += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// stepReader yields one line per Read and records how many lines were
// already written when each was read.
type stepReader struct {
	lines []string
	out   *lineCounter
	seen  []int
}

func (r *stepReader) Read(p []byte) (int, error) {
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	r.seen = append(r.seen, r.out.lines)
	n := copy(p, r.lines[0])
	r.lines = r.lines[1:]
	return n, nil
}

func TestCheckJSONLFlushesEachLine(t *testing.T) {
	c := &Checker{Detectors: []Checked{{Name: "fake", Detector: &scorer{}, Threshold: 0.5}}}
	out := &lineCounter{}
	r := &stepReader{lines: []string{"{\"text\":\"a\"}\n", "{\"text\":\"b\"}\n", "{\"text\":\"c\"}\n"}, out: out}
	if _, err := c.CheckJSONL(context.Background(), r, out); err != nil {
		t.Fatal(err)
	}
	// Each line is read only after the previous line's result was written.
	if out.lines != 3 || !reflect.DeepEqual(r.seen, []int{0, 1, 2}) {
		t.Errorf("lines %d, written before each read: %v", out.lines, r.seen)
	}
}
