package finding

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCompare(t *testing.T) {
	f := func(sev Severity, loc Location, rule string) *Finding {
		return &Finding{RuleID: rule, Severity: sev, Layer: LayerOutput, Location: loc}
	}
	// Each finding sorts before the next.
	ordered := []*Finding{
		f(Critical, Location{Path: "z.go", Line: 99}, "z"),
		f(High, Location{}, "a"),
		f(High, Location{RequestID: "req_1"}, "a"),
		f(High, Location{RequestID: "req_1", Field: "messages[0]"}, "a"),
		f(High, Location{RequestID: "req_1", Field: "messages[0]", Span: &Span{Start: 1, End: 2}}, "a"),
		f(High, Location{RequestID: "req_1", Field: "messages[0]", Span: &Span{Start: 1, End: 3}}, "a"),
		f(High, Location{RequestID: "req_1", Field: "messages[0]", Span: &Span{Start: 2, End: 3}}, "a"),
		f(High, Location{Path: "a.go", Line: 9}, "z"),
		f(High, Location{Path: "a.go", Line: 10}, "a"), // numeric, not textual, line order
		f(High, Location{Path: "a.go", Line: 10, Column: 2}, "a"),
		f(High, Location{Path: "a.go", Line: 10, Column: 2}, "b"),
		f(High, Location{Path: "a.go", Line: 10, Column: 2, Commit: "abc"}, "a"),
		f(High, Location{Path: "b.go"}, "a"),
		f(Medium, Location{Path: "a.go"}, "a"),
		f(Low, Location{Path: "a.go"}, "a"),
		f(Info, Location{Path: "a.go"}, "a"),
	}
	for i := 0; i+1 < len(ordered); i++ {
		a, b := ordered[i], ordered[i+1]
		if Compare(a, b) >= 0 || Compare(b, a) <= 0 {
			t.Errorf("want %s %s %s before %s %s %s", a.Severity, a.Location.String(), a.RuleID, b.Severity, b.Location.String(), b.RuleID)
		}
	}
	for _, a := range ordered {
		if c := Compare(a, a); c != 0 {
			t.Errorf("Compare(x, x) = %d", c)
		}
	}
}

// TestStableOrder checks that the order findings arrive in never changes
// any output.
func TestStableOrder(t *testing.T) {
	base := sampleReport()
	want := map[Format][]byte{}
	for f := FormatTable; f <= FormatHTML; f++ {
		var buf bytes.Buffer
		if err := Write(&buf, f, base); err != nil {
			t.Fatal(err)
		}
		want[f] = buf.Bytes()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		r := sampleReport()
		rng.Shuffle(len(r.Findings), func(i, j int) { r.Findings[i], r.Findings[j] = r.Findings[j], r.Findings[i] })
		rng.Shuffle(len(r.Rules), func(i, j int) { r.Rules[i], r.Rules[j] = r.Rules[j], r.Rules[i] })
		for f := FormatTable; f <= FormatHTML; f++ {
			var buf bytes.Buffer
			if err := Write(&buf, f, r); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want[f]) {
				t.Fatalf("shuffle %d: %v output changed:\n%s", i, f, firstDiff(string(want[f]), buf.String()))
			}
		}
	}
}

func TestSort(t *testing.T) {
	r := sampleReport()
	Sort(r.Findings)
	got := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		got[i] = f.Severity.String() + " " + f.RuleID
	}
	want := []string{
		"critical secrets.aws-access-key",
		"high injection.ignore-previous",
		"high secrets.generic-api-key",
		"high model.pickle-global",
		"medium pii.email",
		"low pii.phone-number",
		"low deps.unpinned",
		"info output.system-prompt-leak",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Sort order =\n%q\nwant\n%q", got, want)
	}
}

func TestSummary(t *testing.T) {
	s := sampleReport().Summary()
	if s.Total != 8 {
		t.Errorf("Total = %d", s.Total)
	}
	if want := [Critical + 1]int{Info: 1, Low: 2, Medium: 1, High: 3, Critical: 1}; s.BySeverity != want {
		t.Errorf("BySeverity = %v, want %v", s.BySeverity, want)
	}
	if s.ByLayer[LayerInfrastructure][Critical] != 1 || s.ByLayer[LayerInfrastructure][High] != 1 || s.ByLayer[LayerHumans] != [Critical + 1]int{} {
		t.Errorf("ByLayer = %v", s.ByLayer)
	}
}
