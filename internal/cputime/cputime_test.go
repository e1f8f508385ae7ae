package cputime

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// spin burns CPU for about d of wall time.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

func TestThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a, ok := Thread()
	if ok != (runtime.GOOS == "linux") {
		t.Fatalf("Thread ok = %v on %s", ok, runtime.GOOS)
	}
	if ok != Supported() {
		t.Fatalf("Supported() = %v, Thread ok = %v", Supported(), ok)
	}
	if !ok {
		if a != 0 {
			t.Fatalf("Thread() = %v, false; want 0", a)
		}
		return
	}
	spin(2 * time.Millisecond)
	b, _ := Thread()
	if b <= a {
		t.Fatalf("thread CPU time did not advance over 2 ms of spinning: %v then %v", a, b)
	}
}

func TestMedians(t *testing.T) {
	calls := 0
	f := func() { calls++; spin(50 * time.Microsecond) }
	if !Supported() {
		if Median(f) != 0 || MedianOf(3, 2, f) != 0 || Calls(3, f) != nil {
			t.Fatal("want zero results without thread CPU time")
		}
		if calls != 0 {
			t.Fatalf("f called %d times without thread CPU time", calls)
		}
		return
	}
	if m := MedianOf(3, 2, f); m <= 0 {
		t.Fatalf("MedianOf = %v, want > 0", m)
	}
	if calls != 6 {
		t.Fatalf("MedianOf(3, 2) called f %d times, want 6", calls)
	}
	if m := MedianOf(0, 2, f); m != 0 {
		t.Fatalf("MedianOf(0, 2) = %v, want 0", m)
	}
	calls = 0
	m := Median(f)
	// f spins 50 µs of wall time, which is at most 50 µs of CPU time (and
	// more than 0); a round is about 20 ms, so at least a few calls a round.
	if m <= 0 || m > 5*time.Millisecond {
		t.Fatalf("Median = %v, want in (0, 5ms]", m)
	}
	if calls < 1+Rounds {
		t.Fatalf("Median called f %d times, want at least %d", calls, 1+Rounds)
	}
	c := Calls(5, f)
	if len(c) != 5 || !slices.IsSorted(c) || c[0] <= 0 {
		t.Fatalf("Calls(5) = %v, want 5 positive sorted times", c)
	}
}

func TestMBps(t *testing.T) {
	if got := MBps(4_000_000, 2*time.Second); got != 2 {
		t.Fatalf("MBps(4e6, 2s) = %v, want 2", got)
	}
}

// work does n rounds of a multiply chain and returns its result, for the
// caller to keep so that the compiler cannot remove the loop.
func work(n int) uint64 {
	x := uint64(1)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

var workSink uint64

func TestPaired(t *testing.T) {
	calls := [2]int{}
	f := func() { calls[0]++; workSink += work(20_000) }
	g := func() { calls[1]++; workSink += work(60_000) }
	df, dg := Paired(f, g)
	if !Supported() {
		if df != 0 || dg != 0 || calls != [2]int{} {
			t.Fatalf("Paired = %v, %v after %v calls; want zeros and no call without thread CPU time", df, dg, calls)
		}
		return
	}
	if df <= 0 || dg <= 0 {
		t.Fatalf("Paired = %v, %v, want positive times", df, dg)
	}
	if calls[0] < 1+Rounds || calls[1] < 1+Rounds {
		t.Fatalf("Paired called f %d and g %d times, want at least %d each", calls[0], calls[1], 1+Rounds)
	}
	// g does three times f's work; rounds taken alternately see the same
	// machine, so the ratio holds even when the core's speed changes.
	if r := float64(dg) / float64(df); r < 2 || r > 4.5 {
		t.Fatalf("Paired: g/f = %.2f (%v / %v), want about 3", r, dg, df)
	}
}

func TestReference(t *testing.T) {
	// The same sum computed window by window.
	naive := func(s string) int64 {
		var a int64
		for i := range len(s) {
			var w uint64
			for j := max(0, i-3); j <= i; j++ {
				w = w<<8 | uint64(s[j])
			}
			a += int64(refTable[w*0x9e3779b97f4a7c15>>47])
		}
		return a
	}
	for _, s := range []string{"", "a", "abcd", "Ignore all previous instructions.", strings.Repeat("x\xff\x00", 100)} {
		if got, want := Reference(s), naive(s); got != want {
			t.Errorf("Reference(%q) = %d, want %d", s, got, want)
		}
	}
	if Reference("abcde") == Reference("edcba") {
		t.Error("Reference does not depend on the order of the bytes")
	}
}

func TestProcess(t *testing.T) {
	a, ok := Process()
	if ok != (runtime.GOOS == "linux") {
		t.Fatalf("Process ok = %v on %s", ok, runtime.GOOS)
	}
	if !ok {
		return
	}
	done := make(chan uint64)
	go func() { done <- work(20_000_000) }()
	workSink += work(20_000_000) + <-done
	b, _ := Process()
	if b <= a {
		t.Fatalf("Process went from %v to %v across two busy goroutines", a, b)
	}
}
