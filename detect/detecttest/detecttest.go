// Package detecttest checks the contract that redact.Stream relies on for
// any detector that streams: hits ordered, bounded by MaxSpan, of the
// detector's own rules; Hold keeping its promise on every prefix; and hits
// depending on no more than LookBehind bytes before them. Detector
// packages call it from their tests.
package detecttest

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

// Streamable is a detector that a redact.Stream can run chunk by chunk.
type Streamable interface {
	detect.Detector
	detect.Spanner
	detect.LookBehinder
	detect.Holder
}

// Detect runs d on text and fails the test on an error.
func Detect(t testing.TB, d detect.Detector, text string) []detect.Hit {
	t.Helper()
	hs, err := d.Detect(context.Background(), detect.Input{Text: text})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	return hs
}

// Shift moves hits by bytes.
func Shift(hs []detect.Hit, by int) []detect.Hit {
	out := make([]detect.Hit, len(hs))
	for i, h := range hs {
		h.Start += by
		h.End += by
		out[i] = h
	}
	return out
}

// Keep returns the hits f accepts.
func Keep(hs []detect.Hit, f func(detect.Hit) bool) []detect.Hit {
	var out []detect.Hit
	for _, h := range hs {
		if f(h) {
			out = append(out, h)
		}
	}
	return out
}

// Contract checks, for text: hits are ordered, inside the text, no
// longer than MaxSpan, of known rules and labelled; Hold keeps its promise
// on the prefixes ending at cuts (every hit that starts before the hold
// point is already what it will be on the whole text); and hits depend on
// no more than LookBehind bytes before them (detecting on a suffix that
// starts at c finds the same hits from c+LookBehind on).
func Contract(t testing.TB, d Streamable, text string, cuts []int) {
	t.Helper()
	hits := Detect(t, d, text)
	rules := d.Rules()
	for i, h := range hits {
		if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
			t.Fatalf("hit %d spans %d-%d of a %d-byte text", i, h.Start, h.End, len(text))
		}
		if h.End-h.Start > d.MaxSpan() {
			t.Fatalf("hit %d is %d bytes, more than MaxSpan %d", i, h.End-h.Start, d.MaxSpan())
		}
		if i > 0 && (hits[i-1].Start > h.Start || hits[i-1].Start == h.Start && hits[i-1].End > h.End) {
			t.Fatalf("hits %d and %d are out of order", i-1, i)
		}
		if !slices.Contains(rules, h.Rule) || h.Label == "" || h.Score <= 0 || h.Score > 1 {
			t.Fatalf("hit %d: rule %v label %q score %v", i, h.Rule, h.Label, h.Score)
		}
	}
	for _, k := range cuts {
		if k < 0 || k > len(text) {
			continue
		}
		pre := text[:k]
		hold := d.Hold(pre)
		if hold < 0 || hold > k {
			t.Fatalf("Hold of a %d-byte prefix is %d", k, hold)
		}
		p := max(hold, k-(d.MaxSpan()-1))
		before := func(h detect.Hit) bool { return h.Start < p }
		got, want := Keep(Detect(t, d, pre), before), Keep(hits, before)
		if !slices.Equal(got, want) {
			t.Fatalf("prefix of %d bytes (hold %d): hits before the hold point\n got %+v\nwant %+v", k, p, got, want)
		}
		lb := d.LookBehind()
		got = Keep(Shift(Detect(t, d, text[k:]), k), func(h detect.Hit) bool { return h.Start >= k+lb })
		want = Keep(hits, func(h detect.Hit) bool { return h.Start >= k+lb })
		if !slices.Equal(got, want) {
			t.Fatalf("suffix from %d: hits past the look-behind\n got %+v\nwant %+v", k, got, want)
		}
	}
}

// Cuts returns every cut of a short text and a spread of cuts of a long
// one.
func Cuts(text string) []int {
	if len(text) <= 300 {
		c := make([]int, len(text)+1)
		for i := range c {
			c[i] = i
		}
		return c
	}
	var c []int
	for i := 0; i <= len(text); i += 1 + len(text)/97 {
		c = append(c, i)
	}
	return append(c, len(text))
}

// Texts returns the "text" field of every line of the JSON Lines file at
// path (lines up to 1 MiB), failing tb when the file cannot be read, a
// line is not JSON, or it has no line.
func Texts(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out = append(out, row.Text)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no texts", path)
	}
	return out
}
