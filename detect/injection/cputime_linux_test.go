package injection

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time the calling OS thread has used (the
// benchmarks lock themselves to one thread), so that a benchmark on a
// shared, busy machine can report CPU time rather than wall time. It reads
// CLOCK_THREAD_CPUTIME_ID, which has nanosecond resolution.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
