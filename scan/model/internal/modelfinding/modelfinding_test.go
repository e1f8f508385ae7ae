package modelfinding

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampartsec/rampart/finding"
)

var (
	family = finding.Family{Name: "test", Layer: finding.LayerModelWeights}
	ruleA  = family.Rule("a", "A", finding.High)
	ruleB  = family.Rule("b", "B", finding.Low)
)

func TestCap(t *testing.T) {
	tests := []struct {
		name      string
		a, b      int
		wantLen   int
		summaries []string // messages of the summaries, in order
	}{
		{"none", 0, 0, 0, nil},
		{"under", 3, MaxPerRule, 3 + MaxPerRule, nil},
		{"one over", MaxPerRule + 1, 2, MaxPerRule + 2 + 1, []string{"1 more findings of this rule not listed (101 in all)"}},
		{"both over", 3 * MaxPerRule, MaxPerRule + 5, 2*MaxPerRule + 2, []string{"200 more", "5 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs []finding.Finding
			for i := range max(tt.a, tt.b) {
				if i < tt.a {
					fs = append(fs, At(ruleA, "test", int64(i), "f", fmt.Sprint(i), "m"))
				}
				if i < tt.b {
					fs = append(fs, At(ruleB, "test", int64(i), "f", fmt.Sprint(i), "m"))
				}
			}
			got := Cap(fs)
			if len(got) != tt.wantLen {
				t.Fatalf("%d findings, want %d", len(got), tt.wantLen)
			}
			sums := got[len(got)-len(tt.summaries):]
			for i, want := range tt.summaries {
				s := sums[i]
				if !strings.HasPrefix(s.Message, want) || s.Location != (finding.Location{}) || s.Excerpt != "" {
					t.Errorf("summary %d = %+v, want message %q and no location or excerpt", i, s, want)
				}
			}
			kept := map[string]int{}
			for _, f := range got[:len(got)-len(tt.summaries)] {
				kept[f.RuleID]++
				if f.Excerpt != fmt.Sprint(f.Location.Offset) {
					t.Fatalf("kept finding %+v out of order", f)
				}
				if n := kept[f.RuleID]; f.Location.Offset != int64(n-1) {
					t.Fatalf("finding %d of %s is at %d", n, f.RuleID, f.Location.Offset)
				}
			}
			if kept[ruleA.ID] != min(tt.a, MaxPerRule) || kept[ruleB.ID] != min(tt.b, MaxPerRule) {
				t.Errorf("kept %v", kept)
			}
		})
	}
}

func TestCounterFindingsTwice(t *testing.T) {
	var c Counter
	for i := range MaxPerRule + 2 {
		c.Add(At(ruleA, "test", int64(i), "", "", ""))
	}
	first, second := c.Findings(), c.Findings()
	if len(first) != MaxPerRule+1 || len(second) != MaxPerRule+1 {
		t.Fatalf("%d then %d findings, want %d", len(first), len(second), MaxPerRule+1)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"aé", 2, "a…"}, // é is two bytes: the cut moves before it
		{"日本", 4, "日…"},
		{"日本", 1, "…"},
		{"\x80\x80\x80", 1, "…"},
	}
	for _, tt := range tests {
		got := Clip(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if utf8.ValidString(tt.s) && !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q is not valid UTF-8", tt.s, tt.n, got)
		}
	}
}

func TestAt(t *testing.T) {
	long := strings.Repeat("x", MaxExcerpt+10)
	f := At(ruleB, "det", 42, long, long, "msg")
	if f.RuleID != ruleB.ID || f.Detector != "det" || f.Message != "msg" || f.Location.Offset != 42 || f.Confidence != 1 {
		t.Fatalf("At = %+v", f)
	}
	if f.Location.Field != long[:MaxExcerpt]+"…" || f.Excerpt != long[:MaxExcerpt]+"…" {
		t.Fatalf("field and excerpt not clipped to %d bytes", MaxExcerpt)
	}
}

func TestRules(t *testing.T) {
	got := Rules(ruleA, ruleB)
	if len(got) != 2 || got[0].ID != ruleA.ID || got[1].ID != ruleB.ID {
		t.Fatalf("Rules = %+v", got)
	}
}
