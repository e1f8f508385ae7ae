//go:build !linux

package classify

import "time"

func threadCPU() time.Duration { return 0 }
