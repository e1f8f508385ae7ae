//go:build !linux

package toxicity

import "time"

// threadCPU is not measured outside Linux; the benchmarks then report
// wall-clock time only.
func threadCPU() time.Duration { return 0 }
