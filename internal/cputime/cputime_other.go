//go:build !linux

package cputime

import "time"

// Thread returns the CPU time the calling OS thread has used so far and
// whether it could be read. Outside Linux it is not read: Thread returns 0,
// false.
func Thread() (time.Duration, bool) { return 0, false }

// Process returns the CPU time every thread of the process has used so
// far, and whether it could be read. Outside Linux it is not read: Process
// returns 0, false.
func Process() (time.Duration, bool) { return 0, false }
