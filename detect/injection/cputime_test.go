package injection

import (
	"time"

	"github.com/rampartsec/rampart/internal/cputime"
)

// threadCPU returns the CPU time the calling OS thread has used (the
// benchmarks lock themselves to one thread), 0 where it cannot be read, so
// that a benchmark on a shared, busy machine can report CPU time rather
// than wall time.
func threadCPU() time.Duration {
	d, _ := cputime.Thread()
	return d
}
