//go:build !linux

package audit

import "os"

// syncData flushes f to the device.
func syncData(f *os.File) error { return f.Sync() }
