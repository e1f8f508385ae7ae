package injection

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/detect/injection/internal/metrics"
	"github.com/rampartsec/rampart/internal/cputime"
)

type devRow struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	Source string `json:"source"`
	Lang   string `json:"lang"`
	Role   string `json:"role"`
}

func loadDev(t testing.TB) []devRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []devRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r devRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestDevFigures measures the shipped model on the committed dev split
// (written by the training command; never used to fit anything) and checks
// the figures stay above floors set a little below the measured values.
func TestDevFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("scores the whole dev split")
	}
	d := newDetector(t, nil)
	rows := loadDev(t)
	scores := make([]float64, len(rows))
	labels := make([]bool, len(rows))
	for i, r := range rows {
		role := detect.RoleUser
		if r.Role == "document" {
			role = detect.RoleDocument
		}
		hits, err := d.Detect(context.Background(), detect.Input{Text: r.Text, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			scores[i] = max(scores[i], h.Score)
		}
		labels[i] = r.Label == "injection" || r.Label == "jailbreak"
	}
	hard := []string{"notinject", "xstest-v2", "wildguardtest-benign", "awesome-chatgpt-prompts", "gpteacher-roleplay", "mt-bench", "cyberseceval-frr"}
	tests := []struct {
		name     string
		keep     func(devRow) bool
		minF1    float64
		minR1FPR float64
		maxFPR   float64
	}{
		{"all", func(devRow) bool { return true }, 0.69, 0.48, 0.032},
		{"direct", func(r devRow) bool { return r.Role != "document" }, 0.71, 0.61, 0.030},
		{"indirect", func(r devRow) bool { return r.Role == "document" }, 0.64, 0.18, 0.085},
		{"hard negatives", func(r devRow) bool { return slices.Contains(hard, r.Source) }, 0, 0, 0.017},
		{"benign rows", func(r devRow) bool { return r.Label == "benign" && r.Role != "document" }, 0, 0, 0.04},
	}
	for _, tt := range tests {
		var s []float64
		var l []bool
		for i, r := range rows {
			if tt.keep(r) {
				s, l = append(s, scores[i]), append(l, labels[i])
			}
		}
		m := metrics.Measure(s, l, d.Threshold())
		t.Logf("%-15s n=%5d pos=%4d P=%.3f R=%.3f F1=%.3f FPR=%.4f AUC=%.4f recall@1%%FPR=%.3f",
			tt.name, m.N, m.Pos, m.Precision, m.Recall, m.F1, m.FPR, m.AUC, m.RecallAt1FPR)
		if m.Pos > 0 && (m.F1 < tt.minF1 || m.RecallAt1FPR < tt.minR1FPR) {
			t.Errorf("%s: F1 %.3f (floor %.2f), recall@1%%FPR %.3f (floor %.2f)", tt.name, m.F1, tt.minF1, m.RecallAt1FPR, tt.minR1FPR)
		}
		if m.FPR > tt.maxFPR {
			t.Errorf("%s: FPR %.4f above %.2f", tt.name, m.FPR, tt.maxFPR)
		}
	}
	// The figure: recall at the score threshold where 1 % of the
	// benign prompts (label benign, not documents) are flagged.
	var neg []float64
	for i, r := range rows {
		if r.Label == "benign" && r.Role != "document" {
			neg = append(neg, scores[i])
		}
	}
	tb := metrics.ThresholdAtFPR(neg, 0.01)
	for _, sl := range []struct {
		name string
		keep func(devRow) bool
	}{{"all", func(devRow) bool { return true }}, {"direct", func(r devRow) bool { return r.Role != "document" }}, {"indirect", func(r devRow) bool { return r.Role == "document" }}} {
		var n, hit int
		for i, r := range rows {
			if labels[i] && sl.keep(r) {
				n++
				if scores[i] >= tb {
					hit++
				}
			}
		}
		t.Logf("recall at 1%% FPR on benign prompts (threshold %.4f), %-8s positives %4d: %.3f", tb, sl.name, n, float64(hit)/float64(max(n, 1)))
	}
}

// mixedPrompt is about 4 KiB of English prose with some code.
func mixedPrompt() string {
	prose := "I'm working on the billing service and the nightly job that reconciles invoices keeps timing out. " +
		"It started after we moved the database to the new cluster last week. Could you look at the code below and tell me " +
		"what might be slow, and how I could restructure the query so that it uses the index on customer_id? "
	code := "```go\nfunc reconcile(ctx context.Context, db *sql.DB, day time.Time) error {\n" +
		"\trows, err := db.QueryContext(ctx, `SELECT id, customer_id, amount FROM invoices WHERE created_at::date = $1`, day)\n" +
		"\tif err != nil {\n\t\treturn fmt.Errorf(\"query invoices: %w\", err)\n\t}\n\tdefer rows.Close()\n" +
		"\tfor rows.Next() {\n\t\tvar inv Invoice\n\t\tif err := rows.Scan(&inv.ID, &inv.Customer, &inv.Amount); err != nil {\n" +
		"\t\t\treturn err\n\t\t}\n\t\tif err := settle(ctx, db, inv); err != nil {\n\t\t\tlog.Printf(\"settle %d: %v\", inv.ID, err)\n\t\t}\n\t}\n\treturn rows.Err()\n}\n```\n"
	var b strings.Builder
	for b.Len() < 4096 {
		b.WriteString(prose)
		b.WriteString(code)
	}
	return b.String()[:4096]
}

func TestDetectAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	d := newDetector(t, nil)
	text := mixedPrompt()
	in := detect.Input{Text: text, Role: detect.RoleUser}
	d.Detect(context.Background(), in)
	// At most the returned hit slice.
	if n := testing.AllocsPerRun(50, func() { d.Detect(context.Background(), in) }); n > 1 {
		t.Errorf("Detect allocates %v times per call, want at most 1 (the hit slice)", n)
	}
}

// BenchmarkDetect4K reports, besides wall time, the CPU time per call of
// the benchmark's OS thread (cpu-ns/op, and the MB/s it implies per core)
// and the 99th percentile of wall time per call.
func BenchmarkDetect4K(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := newDetector(b, nil)
	in := detect.Input{Text: mixedPrompt(), Role: detect.RoleUser}
	b.SetBytes(int64(len(in.Text)))
	b.ReportAllocs()
	lat := make([]time.Duration, 0, 1<<16)
	cpu0 := cputime.Now()
	n := 0
	for b.Loop() {
		t0 := time.Now()
		d.Detect(context.Background(), in)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		n++
	}
	if cpu := cputime.Now() - cpu0; cpu > 0 && n > 0 {
		per := float64(cpu.Nanoseconds()) / float64(n)
		b.ReportMetric(per, "cpu-ns/op")
		b.ReportMetric(float64(len(in.Text))/per*1e3, "cpu-MB/s")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

func BenchmarkDetectDocument4K(b *testing.B) {
	d := newDetector(b, nil)
	in := detect.Input{Text: mixedPrompt(), Role: detect.RoleDocument}
	b.SetBytes(int64(len(in.Text)))
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(context.Background(), in)
	}
}

// BenchmarkDetectVsBaseline4K alternates rounds of BenchmarkDetect4K's
// call and of BenchmarkBaselineHashLoop4K's loop on one thread and reports
// the median ratio of their CPU times ("baseline-passes": how many
// one-load-per-byte passes a call costs), a figure the load of other jobs
// on a shared machine disturbs much less than either time alone.
func BenchmarkDetectVsBaseline4K(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := newDetector(b, nil)
	in := detect.Input{Text: mixedPrompt(), Role: detect.RoleUser}
	s := []byte(in.Text)
	t := make([]int8, 1<<18)
	const per = 50
	var ratios, dets []float64
	for b.Loop() {
		c0 := cputime.Now()
		for range per {
			d.Detect(context.Background(), in)
		}
		c1 := cputime.Now()
		for range per {
			var a int64
			h := uint64(1)
			for _, c := range s {
				h = (h ^ uint64(c)) * 0xbf58476d1ce4e5b9
				a += int64(t[h>>46])
			}
			sink = a
		}
		c2 := cputime.Now()
		if c2 > c1 && c1 > c0 {
			ratios = append(ratios, float64(c1-c0)/float64(c2-c1))
			dets = append(dets, float64(c1-c0)/per)
		}
	}
	if len(ratios) > 0 {
		slices.Sort(ratios)
		slices.Sort(dets)
		b.ReportMetric(ratios[len(ratios)/2], "baseline-passes")
		b.ReportMetric(dets[len(dets)/2], "median-cpu-ns/op")
		b.ReportMetric(float64(len(s))/dets[len(dets)/2]*1e3, "median-cpu-MB/s")
	}
}

var sink int64

// BenchmarkBaselineHashLoop4K is a yardstick for noisy machines: one
// multiply-hash and one table load per byte of a 4 KiB buffer, about the
// least any n-gram classifier does. Compare BenchmarkDetect4K with it run
// at the same time.
func BenchmarkBaselineHashLoop4K(b *testing.B) {
	s := []byte(mixedPrompt())
	t := make([]int8, 1<<18)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		var a int64
		h := uint64(1)
		for _, c := range s {
			h = (h ^ uint64(c)) * 0xbf58476d1ce4e5b9
			a += int64(t[h>>46])
		}
		sink = a
	}
}
