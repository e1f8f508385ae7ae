package cputime

import (
	"runtime"
	"slices"
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
