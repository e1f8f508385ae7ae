package cputime

// ReferenceMBps is the speed of Reference, in MB/s of thread CPU time, on
// the machines the throughput floors of Rampart's tests were set on (the
// 2-vCPU Xeon VMs at 2.5 GHz that run its CI) while their core is not
// shared: the median of 40 paired measurements there, 685–704 MB/s.
const ReferenceMBps = 690.0

// refTable holds 2¹⁷ pseudo-random signed bytes (xorshift64), the size of
// the table the injection classifier looks its weights up in.
var refTable = func() (t [1 << 17]int8) {
	x := uint64(88172645463325252)
	for i := range t {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		t[i] = int8(x)
	}
	return t
}()

// Reference is a fixed workload to measure beside code under test with
// Paired: it hashes every 4-byte window of s (a multiplicative hash) and
// sums the table entries the hashes select, the shape of a hashed n-gram
// classifier's inner loop, and returns the sum. It is not Rampart's code
// and does not change with it, so the ratio of a detector's speed to
// Reference's tells a slower core from slower code: a throughput floor set
// at ReferenceMBps can be judged at the speed the detector would have had
// on such a core, rate × ReferenceMBps / (Reference's speed now), when the
// core is slower than that.
func Reference(s string) int64 {
	var g uint64
	var a int64
	for i := 0; i < len(s); i++ {
		g = g<<8 | uint64(s[i])
		a += int64(refTable[(g&0xffffffff)*0x9e3779b97f4a7c15>>47])
	}
	return a
}
