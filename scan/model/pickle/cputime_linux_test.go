package pickle_test

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (the
// benchmarks lock themselves to one thread), so that a benchmark on a
// shared, busy machine can report CPU time rather than wall time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
