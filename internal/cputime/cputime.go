// Package cputime measures code by the CPU time of the calling thread
// rather than by wall time. On a shared, overloaded machine wall-clock
// figures count the time spent waiting for a core; thread CPU time does not,
// so throughput measured with it is far steadier. It is meant for tests and
// benchmarks that report throughput.
//
// Thread CPU time is only meaningful while the goroutine stays on one OS
// thread: callers of Thread must hold runtime.LockOSThread between the two
// readings they subtract. Median and MedianOf lock the thread themselves.
//
// Thread CPU time is read on Linux only; elsewhere Supported reports false,
// Thread reports ok=false and the medians are 0.
package cputime

import (
	"runtime"
	"slices"
	"time"
)

// Rounds is the number of rounds Median and MedianOf take the median of.
const Rounds = 15

// Supported reports whether this platform can read thread CPU time.
func Supported() bool {
	_, ok := Thread()
	return ok
}

// Median returns the median CPU time per call of f over Rounds rounds of
// about 20 ms of CPU time each, measured on the calling thread. It calls f
// once to warm up, then for about 5 ms to calibrate the number of calls per
// round. It returns 0 if thread CPU time cannot be read.
func Median(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !Supported() {
		return 0
	}
	return medianOf(Rounds, calibrate(f), f)
}

// calibrate calls f once to warm up, then for about 5 ms of CPU time, and
// returns the number of calls that take about 20 ms of CPU time. The caller
// holds the thread.
func calibrate(f func()) int {
	f()
	start, n := Now(), 0
	for Now()-start < 5*time.Millisecond {
		f()
		n++
	}
	return max(1, int(20*time.Millisecond/((Now()-start)/time.Duration(n))))
}

// round returns the CPU time per call of per calls of f. The caller holds
// the thread.
func round(per int, f func()) time.Duration {
	start := Now()
	for range per {
		f()
	}
	return (Now() - start) / time.Duration(per)
}

// MedianOf returns the median CPU time per call of f over rounds rounds of
// per calls each, measured on the calling thread. Unlike Median it neither
// warms up nor calibrates. It returns 0 if thread CPU time cannot be read or
// rounds or per is not positive.
func MedianOf(rounds, per int, f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !Supported() || rounds <= 0 || per <= 0 {
		return 0
	}
	return medianOf(rounds, per, f)
}

func medianOf(rounds, per int, f func()) time.Duration {
	times := make([]time.Duration, 0, rounds)
	for range rounds {
		times = append(times, round(per, f))
	}
	slices.Sort(times)
	return times[len(times)/2]
}

// Paired returns the median CPU time per call of f and of g over Rounds
// rounds of about 20 ms of CPU time each, the rounds of f and of g taken
// alternately on the calling thread, so that both see the same state of the
// machine. It warms up and calibrates each as Median does. It returns zeros
// if thread CPU time cannot be read.
//
// A slower core slows every piece of code about alike, so the ratio of the
// two medians is far steadier than either: measured on a 2-vCPU VM whose
// core ran at half speed for tens of seconds at a time, the detectors of
// detect/builtin and Reference ran at 22–49 MB/s and 330–700 MB/s while
// their ratio stayed within 0.067–0.076.
func Paired(f, g func()) (df, dg time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !Supported() {
		return 0, 0
	}
	pf, pg := calibrate(f), calibrate(g)
	tf := make([]time.Duration, 0, Rounds)
	tg := make([]time.Duration, 0, Rounds)
	for range Rounds {
		tf = append(tf, round(pf, f))
		tg = append(tg, round(pg, g))
	}
	slices.Sort(tf)
	slices.Sort(tg)
	return tf[len(tf)/2], tg[len(tg)/2]
}

// Calls returns the CPU time of each of n single calls of f, measured on the
// calling thread and sorted in increasing order, for percentiles of single
// calls. It returns nil if thread CPU time cannot be read.
func Calls(n int, f func()) []time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !Supported() || n <= 0 {
		return nil
	}
	times := make([]time.Duration, 0, n)
	for range n {
		start := Now()
		f()
		times = append(times, Now()-start)
	}
	slices.Sort(times)
	return times
}

// MBps returns n bytes per d as megabytes (10⁶ bytes) per second.
func MBps(n int, d time.Duration) float64 {
	return float64(n) / d.Seconds() / 1e6
}

// Now returns the calling thread's CPU time, 0 if it cannot be read: a
// shorter Thread for callers that subtract two readings and skip a
// non-positive difference.
func Now() time.Duration {
	d, _ := Thread()
	return d
}
