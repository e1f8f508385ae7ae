//go:build !linux

package injection

import "time"

func threadCPU() time.Duration { return 0 }
