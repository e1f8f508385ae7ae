// Package spaneval scores a span detector against gold entity spans:
// precision, recall and F1 per type, where a predicted span matches a gold
// span of the same type when their intersection over union is at least
// 0.5 (and, separately, when their boundaries are equal).
//
// Gold offsets are Unicode code points, as in the shared datasets; hits are
// byte offsets, so gold spans are converted before matching.
package spaneval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/detect"
)

// Entity is a gold span in code points.
type Entity struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Value string `json:"value"`
}

// Row is one line of a span-level evaluation file.
type Row struct {
	Text     string   `json:"text"`
	Label    string   `json:"label"`
	Entities []Entity `json:"entities"`
	Source   string   `json:"source,omitempty"`
	ID       string   `json:"id,omitempty"`
}

// Load reads a JSONL file of rows.
func Load(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open evaluation rows: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads JSONL rows from r; name is used in errors.
func Read(r io.Reader, name string) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var row Row
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return rows, nil
}

// ByteOffsets converts code-point offsets of text to byte offsets. It
// reports false when an offset is outside the text.
func ByteOffsets(text string, start, end int) (int, int, bool) {
	if start < 0 || end < start {
		return 0, 0, false
	}
	bs, be := -1, -1
	cp := 0
	for i := range text {
		if cp == start {
			bs = i
		}
		if cp == end {
			be = i
			break
		}
		cp++
	}
	if cp == start && bs < 0 {
		bs = len(text)
	}
	if cp == end && be < 0 {
		be = len(text)
	}
	if bs < 0 || be < 0 {
		return 0, 0, false
	}
	return bs, be, true
}

// Counts are the matches of one type.
type Counts struct {
	TP, FP, FN int
	// Exact counts predicted spans whose boundaries equal a gold span's.
	Exact int
}

// Precision is TP/(TP+FP), 0 when nothing was predicted.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 when there is no gold span.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// ExactF1 is F1 when only exact-boundary matches count.
func (c Counts) ExactF1() float64 {
	e := Counts{TP: c.Exact, FP: c.TP + c.FP - c.Exact, FN: c.TP + c.FN - c.Exact}
	return e.F1()
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.TP + o.TP, c.FP + o.FP, c.FN + o.FN, c.Exact + o.Exact}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Miss is a false positive or false negative, for inspection.
type Miss struct {
	Type  string
	Kind  string // "fp" or "fn"
	Value string
	Row   int
}

// Report is the outcome of an evaluation.
type Report struct {
	Rows   int
	ByType map[string]Counts
	Misses []Miss
}

// Sum adds the counts of the given types.
func (r Report) Sum(types ...string) Counts {
	var c Counts
	for _, t := range types {
		c = c.Add(r.ByType[t])
	}
	return c
}

// String renders the report as an aligned table, types sorted.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %5s %5s %5s %6s %6s %6s %8s\n", "type", "tp", "fp", "fn", "prec", "recall", "f1", "exact-f1")
	keys := make([]string, 0, len(r.ByType))
	for k := range r.ByType {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := r.ByType[k]
		fmt.Fprintf(&b, "%-16s %5d %5d %5d %6.3f %6.3f %6.3f %8.3f\n", k, c.TP, c.FP, c.FN, c.Precision(), c.Recall(), c.F1(), c.ExactF1())
	}
	return b.String()
}

type span struct {
	typ        string
	start, end int
}

// Evaluate runs d on every row, counting the hits whose score reaches the
// detector's Threshold (0.5 when it has none). goldType maps a source entity type to the
// hit Label it corresponds to ("" for types the detector does not claim);
// those gold spans are ignored. Hits are grouped by their Label; a Label
// that no gold type maps to only gathers false positives.
func Evaluate(ctx context.Context, d detect.Detector, rows []Row, goldType func(string) string) (Report, error) {
	rep := Report{Rows: len(rows), ByType: make(map[string]Counts)}
	threshold := 0.5
	if th, ok := d.(interface{ Threshold() float64 }); ok {
		threshold = th.Threshold()
	}
	for i, row := range rows {
		var gold []span
		for _, e := range row.Entities {
			t := goldType(e.Type)
			if t == "" {
				continue
			}
			s, end, ok := ByteOffsets(row.Text, e.Start, e.End)
			if !ok {
				return rep, fmt.Errorf("row %d: entity %s %d-%d is outside its text", i, e.Type, e.Start, e.End)
			}
			gold = append(gold, span{t, s, end})
		}
		hits, err := d.Detect(ctx, detect.Input{Text: row.Text, Role: detect.RoleUser, Surface: detect.SurfaceDataset})
		if err != nil {
			return rep, fmt.Errorf("row %d: %w", i, err)
		}
		used := make([]bool, len(gold))
		for _, h := range hits {
			if h.Score < threshold {
				continue
			}
			best, bestIoU := -1, 0.0
			for k, g := range gold {
				if used[k] || g.typ != h.Label {
					continue
				}
				if v := iou(h.Start, h.End, g.start, g.end); v >= 0.5 && v > bestIoU {
					best, bestIoU = k, v
				}
			}
			c := rep.ByType[h.Label]
			if best < 0 {
				c.FP++
				rep.Misses = append(rep.Misses, Miss{h.Label, "fp", row.Text[h.Start:h.End], i})
			} else {
				used[best] = true
				c.TP++
				if gold[best].start == h.Start && gold[best].end == h.End {
					c.Exact++
				}
			}
			rep.ByType[h.Label] = c
		}
		for k, g := range gold {
			if !used[k] {
				c := rep.ByType[g.typ]
				c.FN++
				rep.ByType[g.typ] = c
				rep.Misses = append(rep.Misses, Miss{g.typ, "fn", row.Text[g.start:g.end], i})
			}
		}
	}
	return rep, nil
}

func iou(a0, a1, b0, b1 int) float64 {
	inter := min(a1, b1) - max(a0, b0)
	if inter <= 0 {
		return 0
	}
	union := max(a1, b1) - min(a0, b0)
	return float64(inter) / float64(union)
}
